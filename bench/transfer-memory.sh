#!/usr/bin/env bash
# Peak memory of `silo` while Apptainer's library client pushes and pulls a large SIF.
#
#   bench/transfer-memory.sh [SIZE_MIB]    (default 1024)
#
# Builds the release binary, runs end2end/run-libclient.sh with a SIF of SIZE_MIB (push,
# re-push, single-stream pull, concurrent ranged pull, all verified byte-identical) and
# prints silo's peak resident set size (VmHWM) over the whole run.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
size=${1:-1024}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/silo-target}
cargo build -q --release -p server
rss_file=$(mktemp)
start=$SECONDS
LIBCLIENT_RSS_FILE=$rss_file LIBCLIENT_PORT=${LIBCLIENT_PORT:-18085} \
	"$top/end2end/run-libclient.sh" "$CARGO_TARGET_DIR/release/silo" "$size" >/dev/null 2>"$rss_file.log" ||
	{ tail -30 "$rss_file.log"; exit 1; }
peak_kib=$(cat "$rss_file")
rm -f "$rss_file" "$rss_file.log"
echo "image size: ${size} MiB; wall time (incl. SIF creation and client hashing): $((SECONDS - start)) s"
echo "silo peak RSS (VmHWM): $((peak_kib / 1024)) MiB ($peak_kib KiB)"
