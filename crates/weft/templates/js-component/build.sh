#!/usr/bin/env bash
# Builds the JavaScript component in guest/ into wasm/guest.wasm, the file app:greet
# loads, with componentize-js (npm). Needs Node.js 18 or later and npm; the first build
# installs guest/node_modules (about 400 MB).
# Then record the new file's hash in src/_index.yaml:  weft hash app:greet
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/guest"

if [[ ! -d node_modules/@bytecodealliance/componentize-js ]]; then
  npm install --no-audit --no-fund
fi
node build.mjs ../wasm/guest.wasm
echo "built wasm/guest.wasm; record its hash with: weft hash app:greet"
