#!/usr/bin/env bash
# The web interface with 10,000 containers: seeds a throw-away registry with `silo seed`,
# serves the SPA from dist/, and times pages in Chromium (bench/spa-bench.mjs); prints the
# initial download size of the WASM and JS (raw and gzip -9) as well.
#
#   bench/spa.sh [CONTAINERS]     (default 10000; needs dist/ from `make spa`)
#
# Uses the release binary if built (`cargo build --release -p server`), else the debug one.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
containers=${1:-10000}
target=${CARGO_TARGET_DIR:-$HOME/.cache/silo-target}
silo=${SILO_BINARY:-$target/release/silo}
[[ -x $silo ]] || silo=$target/debug/silo
[[ -x $silo ]] || { echo "build silo first" >&2; exit 1; }
[[ -f $top/dist/index.html ]] || { echo "build the SPA first (make spa)" >&2; exit 1; }
port=${BENCH_PORT:-18095}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/silo-bench-spa.XXXXXX")
pid=
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
export SILO_DATA_DIR=$tmp/data SILO_LISTEN=127.0.0.1:$port SILO_PUBLIC_URL=http://127.0.0.1:$port \
	SILO_SPA_DIR=$top/dist SILO_BRANDING__NAME="Bench Centre"
echo "silo: $silo" >&2
"$silo" migrate 2>/dev/null
start=$SECONDS
"$silo" seed --containers "$containers"
echo "seeding took $((SECONDS - start)) s" >&2
"$silo" user create bench --email bench@example.org >/dev/null 2>&1
token=$("$silo" token create bench | tr -d '[:space:]')
"$silo" serve >"$tmp/silo.log" 2>&1 &
pid=$!
until curl -sf -o /dev/null "http://127.0.0.1:$port/version"; do sleep 0.2; done

echo "--- initial download (dist/)"
for f in "$top"/dist/*.wasm "$top"/dist/*.js "$top"/dist/*.css; do
	printf '%-40s %8d bytes, gzip -9: %8d bytes\n' "$(basename "$f")" "$(stat -c %s "$f")" "$(gzip -9c "$f" | wc -c)"
done
echo "--- Chromium (median of ${RUNS:-5} runs)"
SILO_URL=http://127.0.0.1:$port SILO_TOKEN=$token node "$top/bench/spa-bench.mjs"
