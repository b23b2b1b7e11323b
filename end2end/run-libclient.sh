#!/usr/bin/env bash
# Compatibility test: drive Silo with Apptainer's real Go library client
# (Debian: golang-github-apptainer-container-library-client-dev) and a real
# SIF built with Debian's siftool. Fully offline: the Go test builds against
# /usr/share/gocode only (GOPROXY=off, GOFLAGS=-mod=readonly, replace
# directives in end2end/libclient/go.mod).
#
# Usage: end2end/run-libclient.sh [SILO_BINARY] [BIG_MB]
#   SILO_BINARY  default ${CARGO_TARGET_DIR:-$HOME/.cache/silo-target}/debug/silo
#   BIG_MB       if > 0 (or env LIBCLIENT_BIG_MB), also run the round trip
#                with a SIF of that many MiB (> 64 MiB exercises the client's
#                multipart upload attempt)
# Env:
#   LIBCLIENT_PORT   port for Silo on 127.0.0.1 (default 18080)
#   SIF_MB           size of the random rootfs partition of the main SIF (default 4)
#   LIBCLIENT_KEEP=1 keep the temp dir (SIFs, data dir, silo.log)
#   LIBCLIENT_RUN    passed to `go test -run` (default: all tests)
#   SILO_ANON_PULL   passed through ("0" if anonymous pulls must be refused)
#   LIBCLIENT_RSS_FILE  write silo's peak RSS (KiB) there at the end
#
# Needs: apt-get install golang-go golang-github-apptainer-container-library-client-dev \
#        golang-github-sylabs-sif-dev siftool curl
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pkg_dir=$here/libclient

silo=${1:-${CARGO_TARGET_DIR:-$HOME/.cache/silo-target}/debug/silo}
big_mb=${2:-${LIBCLIENT_BIG_MB:-0}}
port=${LIBCLIENT_PORT:-18080}
sif_mb=${SIF_MB:-4}
base_url=http://127.0.0.1:$port

log() { printf '[run-libclient] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- preflight
[[ -x $silo ]] || die "silo binary not found or not executable: $silo (build it first, or pass its path as \$1)"
[[ $sif_mb =~ ^[1-9][0-9]*$ ]] || die "SIF_MB must be a positive integer, got '$sif_mb'"
[[ $big_mb =~ ^[0-9]+$ ]] || die "BIG_MB must be a non-negative integer, got '$big_mb'"
[[ $port =~ ^[0-9]+$ ]] || die "LIBCLIENT_PORT must be a number, got '$port'"
missing=()
for cmd in go siftool curl; do command -v "$cmd" >/dev/null || missing+=("$cmd"); done
for d in github.com/apptainer/container-library-client/client github.com/sylabs/sif/pkg/sif \
	github.com/blang/semver/v4 github.com/sylabs/json-resp github.com/go-log/log \
	golang.org/x/sync/errgroup github.com/google/uuid; do
	[[ -d /usr/share/gocode/src/$d ]] || missing+=("/usr/share/gocode/src/$d")
done
if ((${#missing[@]})); then
	die "missing: ${missing[*]}
  install with: apt-get install -y golang-go golang-github-apptainer-container-library-client-dev golang-github-sylabs-sif-dev siftool curl"
fi
if curl -s -o /dev/null --max-time 2 "$base_url/"; then
	die "something already listens on 127.0.0.1:$port (set LIBCLIENT_PORT)"
fi

# ---------------------------------------------------------------- temp dir + cleanup
tmp=$(mktemp -d "${TMPDIR:-/tmp}/silo-libclient.XXXXXX")
silo_pid=
cleanup() {
	local rc=$?
	if [[ -n $silo_pid ]] && kill -0 "$silo_pid" 2>/dev/null; then
		kill "$silo_pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$silo_pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$silo_pid" 2>/dev/null || true
		wait "$silo_pid" 2>/dev/null || true
	fi
	if ((rc != 0)) && [[ -f $tmp/silo.log ]]; then
		log "last lines of silo.log:"
		tail -n 40 "$tmp/silo.log" >&2 || true
	fi
	if [[ ${LIBCLIENT_KEEP:-0} == 1 ]]; then
		log "kept $tmp"
	else
		rm -rf "$tmp"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- SIF
# make_sif OUT MIB: a SIF with a definition file and a primary system
# partition (squashfs type, arch amd64) of MIB MiB of random bytes. The
# primary partition's arch is copied into the global header, which is what
# `apptainer push` reads (sif.PrimaryArch()).
make_sif() {
	local out=$1 mib=$2 work
	work=$(mktemp -d "$tmp/sifwork.XXXXXX")
	head -c "$((mib * 1024 * 1024))" /dev/urandom >"$work/rootfs.squashfs"
	printf 'Bootstrap: scratch\n\n%%labels\n    org.silo.e2e libclient\n' >"$work/Apptainer.def"
	siftool new "$out" >/dev/null
	# datatype 1 = Deffile
	siftool add "$out" "$work/Apptainer.def" --datatype 1 >/dev/null
	# datatype 4 = Partition, parttype 2 = PrimSys, partfs 1 = Squash, partarch 2 = amd64
	siftool add "$out" "$work/rootfs.squashfs" --datatype 4 --parttype 2 --partfs 1 --partarch 2 >/dev/null
	rm -rf "$work"
	# (capture first: `siftool ... | grep -q` can die of SIGPIPE under pipefail)
	local header list
	header=$(siftool header "$out")
	list=$(siftool list "$out")
	grep -Eq '^Primary Architecture:[[:space:]]+amd64$' <<<"$header" ||
		die "siftool header of $out does not report Primary Architecture amd64:
$header"
	grep -q 'FS (Squashfs/\*System/amd64)' <<<"$list" ||
		die "siftool list of $out shows no primary system partition for amd64:
$list"
	log "built $out ($(stat -c %s "$out") bytes, sha256 $(sha256sum "$out" | cut -d' ' -f1))"
}

make_sif "$tmp/test.sif" "$sif_mb"
siftool header "$tmp/test.sif" >&2
siftool list "$tmp/test.sif" >&2

# ---------------------------------------------------------------- Go build (offline)
export GOFLAGS="-mod=readonly -overlay=$pkg_dir/gomod-overlay.json"
export GOPROXY=off GOSUMDB=off GONOSUMDB='*' GOWORK=off GO111MODULE=on GOTOOLCHAIN=local
export GOCACHE=${GOCACHE:-$HOME/.cache/go-build}
(
	cd "$pkg_dir"
	go vet ./...
	go test -c -o "$tmp/libclient.test" .
) || die "building the Go test failed"
log "Go test package builds offline"

# ---------------------------------------------------------------- Silo
silo_env=(SILO_DATA_DIR="$tmp/data" SILO_LISTEN="127.0.0.1:$port" SILO_PUBLIC_URL="$base_url")
mkdir -p "$tmp/data"
env "${silo_env[@]}" "$silo" serve >"$tmp/silo.log" 2>&1 &
silo_pid=$!
log "started silo (pid $silo_pid) on $base_url"

deadline=$((SECONDS + 30))
until curl -sf --max-time 2 -o /dev/null "$base_url/version"; do
	kill -0 "$silo_pid" 2>/dev/null || die "silo exited before answering /version"
	((SECONDS < deadline)) || die "silo did not answer $base_url/version within 30 s"
	sleep 0.2
done
log "/version: $(curl -sf --max-time 5 "$base_url/version")"

token_for() { # token_for USER: create the user and print a fresh token
	local user=$1 tok
	env "${silo_env[@]}" "$silo" user create "$user" >&2 || die "silo user create $user failed"
	tok=$(env "${silo_env[@]}" "$silo" token create "$user") || die "silo token create $user failed"
	tok=$(printf '%s' "$tok" | tr -d '[:space:]')
	[[ -n $tok ]] || die "silo token create $user printed no token"
	printf '%s' "$tok"
}
alice_token=$(token_for alice)
bob_token=$(token_for bob)
log "created users alice and bob (token lengths ${#alice_token} and ${#bob_token})"

# ---------------------------------------------------------------- run
run_args=(-v -count=1 -timeout 30m)
[[ -n ${LIBCLIENT_RUN:-} ]] && run_args+=(-run "$LIBCLIENT_RUN")

run_suite() { # run_suite SIF [go test args...]
	local sif=$1
	shift
	(
		cd "$pkg_dir"
		export SILO_URL=$base_url SILO_USER=alice SILO_TOKEN=$alice_token \
			SILO_OTHER_USER=bob SILO_OTHER_TOKEN=$bob_token SILO_SIF=$sif
		go test "$@" ./...
	)
}

status=0
log "running go test ${run_args[*]} ./... with a ${sif_mb} MiB SIF"
run_suite "$tmp/test.sif" "${run_args[@]}" || status=$?

if ((big_mb > 0)); then
	make_sif "$tmp/big.sif" "$big_mb"
	log "running the round trip with a ${big_mb} MiB SIF"
	big_status=0
	run_suite "$tmp/big.sif" -v -count=1 -timeout 30m \
		-run '^(TestSIFFixture|TestLibraryClientRoundTrip)$' || big_status=$?
	((status != 0)) || status=$big_status
fi

# Peak resident memory of silo over the whole run (for docs/BENCHMARKS.md).
if [[ -r /proc/$silo_pid/status ]]; then
	peak_kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$silo_pid/status")
	log "silo peak RSS (VmHWM): $((peak_kib / 1024)) MiB"
	[[ -z ${LIBCLIENT_RSS_FILE:-} ]] || echo "$peak_kib" >"$LIBCLIENT_RSS_FILE"
fi

if ((status == 0)); then
	log "PASS"
else
	log "FAIL (go test exit status $status)"
fi
exit "$status"
