#!/usr/bin/env bash
# The concurrency test and the load test (issue 8): a real `silo serve` on loopback, driven
# from a second process by end2end/load (Go, Apptainer's library client, built offline
# against Debian's Go packages like end2end/libclient).
#
#   end2end/run-load.sh race [SILO_BINARY]   many clients pushing different images under one
#       tag and one image under many tags at once, on several fresh containers, with oras-py
#       pushes racing on an OCI tag; the final state must be a serial outcome and every pull
#       (library, shub, OCI) must hash to the tag's image.
#   end2end/run-load.sh load [SILO_BINARY]   `silo seed` fills the registry, then LOAD_CLIENTS
#       (default 200) clients mix pushes, pulls, searches and page loads for LOAD_SECONDS
#       (default 60); any error or corrupt download fails the test.
#
# SILO_BINARY defaults to ${CARGO_TARGET_DIR:-$HOME/.cache/silo-target}/debug/silo.
# Env:
#   LOAD_PORT          port for silo on 127.0.0.1 (default 18700 for race, 18710 for load)
#   SILO_DATABASE_URL  passed through (PostgreSQL); SQLite in the data dir otherwise
#   LOAD_CLIENTS, LOAD_SECONDS, LOAD_SEED (containers seeded, default 2000)
#   LOAD_REPORT        write the load test's Markdown figures to this file
#   RACE_ROUNDS        rounds of the concurrency test (default 3)
#   LOAD_SPA_DIR       the built SPA (default dist/ of the checkout; `make spa` builds it)
#   OCI_VENV           virtualenv with oras-py (default ~/.cache/silo-oci-venv); without it
#                      the race runs without the OCI pushes (and says so)
#   LOAD_KEEP=1        keep the temp dir (silo.log, data)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
mode=${1:-}
silo=${2:-${CARGO_TARGET_DIR:-$HOME/.cache/silo-target}/debug/silo}
case $mode in
race) port=${LOAD_PORT:-18700} ;;
load) port=${LOAD_PORT:-18710} ;;
*) echo "usage: $0 race|load [SILO_BINARY]" >&2; exit 2 ;;
esac
base_url=http://127.0.0.1:$port
venv=${OCI_VENV:-$HOME/.cache/silo-oci-venv}
spa_dir=${LOAD_SPA_DIR:-$top/dist}

log() { printf '[run-load %s] %s\n' "$mode" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ -x $silo ]] || die "silo binary not found: $silo (cargo build -p server)"
command -v go >/dev/null || die "go missing (apt-get install golang-go golang-github-apptainer-container-library-client-dev golang-github-sylabs-sif-dev)"
if [[ $mode == load ]]; then
	[[ -f $spa_dir/index.html ]] || die "no SPA in $spa_dir (make spa, or set LOAD_SPA_DIR)"
fi
if curl -s -o /dev/null --max-time 2 "$base_url/"; then
	die "something already listens on 127.0.0.1:$port (set LOAD_PORT)"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/silo-load.XXXXXX")
silo_pid=
cleanup() {
	local rc=$?
	if [[ -n $silo_pid ]] && kill -0 "$silo_pid" 2>/dev/null; then
		kill "$silo_pid" 2>/dev/null || true
		wait "$silo_pid" 2>/dev/null || true
	fi
	if ((rc != 0)) && [[ -f $tmp/silo.log ]]; then
		log "last lines of silo.log:"
		tail -n 40 "$tmp/silo.log" >&2 || true
	fi
	if [[ ${LOAD_KEEP:-0} == 1 ]]; then log "kept $tmp"; else rm -rf "$tmp"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- Go build (offline)
(
	cd "$here/load"
	export GOFLAGS="-mod=readonly -overlay=$here/load/gomod-overlay.json" GOPROXY=off GOSUMDB=off \
		GONOSUMDB='*' GOWORK=off GO111MODULE=on GOTOOLCHAIN=local GOCACHE=${GOCACHE:-$HOME/.cache/go-build}
	go vet ./...
	go build -o "$tmp/silo-load" .
) || die "building end2end/load failed"

# ---------------------------------------------------------------- silo
export SILO_DATA_DIR=$tmp/data SILO_LISTEN=127.0.0.1:$port SILO_PUBLIC_URL=$base_url SILO_SPA_DIR=$spa_dir
# Every client of this test comes from 127.0.0.1, one address: the per-address limits on
# anonymous pulls and token requests ([limits], tested in server/tests/edge_limits.rs) would
# refuse them after the first minute's quota, so they are off here.
export SILO_LIMITS__ANONYMOUS_PULLS_PER_MINUTE=0 SILO_LIMITS__TOKEN_REQUESTS_PER_MINUTE=0
mkdir -p "$SILO_DATA_DIR"
"$silo" migrate >/dev/null 2>&1 || "$silo" migrate
db=SQLite
[[ -z ${SILO_DATABASE_URL:-} ]] || db=PostgreSQL
if [[ $mode == load ]]; then
	start=$SECONDS
	"$silo" seed --containers "${LOAD_SEED:-2000}" --entities 20 >"$tmp/seed.log" 2>&1 || { cat "$tmp/seed.log" >&2; die "silo seed failed"; }
	log "$(tail -n 1 "$tmp/seed.log") (took $((SECONDS - start)) s)"
fi
"$silo" user create loader >/dev/null
token=$("$silo" token create loader | tr -d '[:space:]')
[[ -n $token ]] || die "silo token create printed no token"

"$silo" serve >"$tmp/silo.log" 2>&1 &
silo_pid=$!
deadline=$((SECONDS + 60))
until curl -sf --max-time 2 -o /dev/null "$base_url/healthz"; do
	kill -0 "$silo_pid" 2>/dev/null || die "silo exited before answering /healthz"
	((SECONDS < deadline)) || die "silo did not answer within 60 s"
	sleep 0.2
done
log "silo $("$silo" --version 2>/dev/null || true) on $base_url ($db, $(basename "$(dirname "$silo")") build, pid $silo_pid)"

# ---------------------------------------------------------------- run
status=0
case $mode in
race)
	oras=()
	if [[ -x $venv/bin/python ]] && "$venv/bin/python" -c 'import oras' 2>/dev/null; then
		oras=(-oras-python "$venv/bin/python" -oras-script "$here/oci_client.py" -oras-user loader)
	elif [[ ${CI:-} == true ]]; then
		die "oras-py missing: python3 -m venv $venv && $venv/bin/pip install oras"
	else
		log "SKIPPED: the OCI pushes (no oras-py in $venv)"
	fi
	"$tmp/silo-load" race -url "$base_url" -token "$token" -entity loader \
		-rounds "${RACE_ROUNDS:-3}" "${oras[@]}" || status=$?
	;;
load)
	report=${LOAD_REPORT:-$tmp/report.md}
	"$tmp/silo-load" load -url "$base_url" -token "$token" -entity loader \
		-clients "${LOAD_CLIENTS:-200}" -duration "${LOAD_SECONDS:-60}s" -report "$report" || status=$?
	kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$silo_pid/status" 2>/dev/null || echo 0)
	log "silo peak RSS (VmHWM): $((kib / 1024)) MiB; CPU time: $(ps -o times= -p "$silo_pid" | tr -d ' ') s"
	;;
esac
if grep -q 'panicked' "$tmp/silo.log"; then
	log "silo panicked:"
	grep -A3 panicked "$tmp/silo.log" >&2
	status=1
fi
((status == 0)) && log "PASS ($db)" || log "FAIL ($db)"
exit "$status"
