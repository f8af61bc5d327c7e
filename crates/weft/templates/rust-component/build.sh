#!/usr/bin/env bash
# Builds the Rust component in guest/ into wasm/guest.wasm, the file app:greet loads.
# Needs cargo and rustup's wasm32-wasip2 target (added here when missing).
# Then record the new file's hash in src/_index.yaml:  weft hash app:greet
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

target=wasm32-wasip2
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$target"; then
  echo "adding the $target target (rustup target add $target)"
  rustup target add "$target"
fi

cargo build --release --target "$target" --manifest-path guest/Cargo.toml
mkdir -p wasm
cp "${CARGO_TARGET_DIR:-guest/target}/$target/release/guest.wasm" wasm/guest.wasm
echo "built wasm/guest.wasm; record its hash with: weft hash app:greet"
