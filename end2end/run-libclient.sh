#!/usr/bin/env bash
# Compatibility test: drive Silo with Apptainer's real Go library client
# (Debian: golang-github-apptainer-container-library-client-dev) and a real
# SIF built with Debian's siftool. Fully offline: the Go test builds against
# /usr/share/gocode only (GOPROXY=off, GOFLAGS=-mod=readonly, replace
# directives in end2end/libclient/go.mod).
#
# The server runs once per download mode (LIBCLIENT_MODES, default "stream
# redirect"), on the same data dir and database, restarted in between:
#   stream    GET /v1/imagefile answers 200 with the bytes;
#   redirect  it answers 303 to a signed /download/<token> URL serving exact 206
#             ranges (SILO_LIBRARY__DOWNLOAD_MODE=redirect), which the client's
#             ConcurrentDownloadImage fetches in parallel.
# In each mode: the whole suite with fresh small SIFs (amd64 and arm64), then,
# if BIG_MB > 0, the round trip with a fresh SIF of BIG_MB MiB. The multipart
# part size is LIBCLIENT_PART_MIB (default 16) in both, so a big SIF (> 64 MiB,
# the client's multipart threshold) goes up in many parts.
#
# Usage: end2end/run-libclient.sh [SILO_BINARY] [BIG_MB]
#   SILO_BINARY  default ${CARGO_TARGET_DIR:-$HOME/.cache/silo-target}/debug/silo
#   BIG_MB       if > 0 (or env LIBCLIENT_BIG_MB), also run the round trip
#                with a SIF of that many MiB (> 64 MiB: the client's v2
#                multipart upload)
# Env:
#   LIBCLIENT_PORT   port for Silo on 127.0.0.1 (default 18080)
#   LIBCLIENT_MODES  download modes to run, in order (default "stream redirect")
#   LIBCLIENT_PART_MIB  multipart part size for Silo, MiB (default 16, min 5)
#   SIF_MB           size of the random rootfs partition of the main SIF (default 4)
#   LIBCLIENT_KEEP=1 keep the temp dir (SIFs, data dir, silo-<mode>.log)
#   LIBCLIENT_RUN    passed to `go test -run` (default: all tests)
#   SILO_ANON_PULL   passed through ("0" if anonymous pulls must be refused)
#   LIBCLIENT_RSS_FILE  write silo's peak RSS (KiB, the highest of the modes) there at the end
#   LIBCLIENT_STORE  "fs" (default) or "s3": keep the bytes in an S3 store, a real s3s-fs
#                    (crates.io; scripts/setup.sh --test installs it) started here on
#                    LIBCLIENT_S3_PORT (default port+1000); multipart parts then go straight
#                    to the store and redirect-mode downloads are presigned store URLs
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
modes=${LIBCLIENT_MODES:-stream redirect}
part_mib=${LIBCLIENT_PART_MIB:-16}
store=${LIBCLIENT_STORE:-fs}
s3_port=${LIBCLIENT_S3_PORT:-$((port + 1000))}
base_url=http://127.0.0.1:$port

log() { printf '[run-libclient] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- preflight
[[ -x $silo ]] || die "silo binary not found or not executable: $silo (build it first, or pass its path as \$1)"
[[ $sif_mb =~ ^[1-9][0-9]*$ ]] || die "SIF_MB must be a positive integer, got '$sif_mb'"
[[ $big_mb =~ ^[0-9]+$ ]] || die "BIG_MB must be a non-negative integer, got '$big_mb'"
[[ $port =~ ^[0-9]+$ ]] || die "LIBCLIENT_PORT must be a number, got '$port'"
[[ $part_mib =~ ^[0-9]+$ ]] && ((part_mib >= 5)) || die "LIBCLIENT_PART_MIB must be a number >= 5, got '$part_mib'"
[[ $store == fs || $store == s3 ]] || die "LIBCLIENT_STORE must be fs or s3, got '$store'"
read -r -a modes <<<"$modes"
((${#modes[@]})) || die "LIBCLIENT_MODES is empty"
for mode in "${modes[@]}"; do
	[[ $mode == stream || $mode == redirect ]] || die "LIBCLIENT_MODES: unknown mode '$mode' (stream, redirect)"
done
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
silo_log=
s3_pid=
stop_silo() {
	if [[ -n $silo_pid ]] && kill -0 "$silo_pid" 2>/dev/null; then
		kill "$silo_pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$silo_pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$silo_pid" 2>/dev/null || true
		wait "$silo_pid" 2>/dev/null || true
	fi
	silo_pid=
}
cleanup() {
	local rc=$?
	stop_silo
	[[ -n $s3_pid ]] && { kill "$s3_pid" 2>/dev/null; wait "$s3_pid" 2>/dev/null; } || true
	if ((rc != 0)) && [[ -n $silo_log && -f $silo_log ]]; then
		log "last lines of $(basename "$silo_log"):"
		tail -n 40 "$silo_log" >&2 || true
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
# make_sif OUT MIB [ARCH]: a SIF with a definition file and a primary system
# partition (squashfs type, arch ARCH, default amd64) of MIB MiB of random
# bytes. The primary partition's arch is copied into the global header, which
# is what `apptainer push` reads (sif.PrimaryArch()).
make_sif() {
	local out=$1 mib=$2 arch=${3:-amd64} code work
	# siftool --partarch codes (sif pkg/sif/arch.go: hdrArchAMD64 "02", hdrArchARM64 "04")
	case $arch in
	amd64) code=2 ;;
	arm64) code=4 ;;
	*) die "make_sif: no siftool --partarch code for arch $arch" ;;
	esac
	work=$(mktemp -d "$tmp/sifwork.XXXXXX")
	head -c "$((mib * 1024 * 1024))" /dev/urandom >"$work/rootfs.squashfs"
	printf 'Bootstrap: scratch\n\n%%labels\n    org.silo.e2e libclient\n' >"$work/Apptainer.def"
	siftool new "$out" >/dev/null
	# datatype 1 = Deffile
	siftool add "$out" "$work/Apptainer.def" --datatype 1 >/dev/null
	# datatype 4 = Partition, parttype 2 = PrimSys, partfs 1 = Squash
	siftool add "$out" "$work/rootfs.squashfs" --datatype 4 --parttype 2 --partfs 1 --partarch "$code" >/dev/null
	rm -rf "$work"
	# (capture first: `siftool ... | grep -q` can die of SIGPIPE under pipefail)
	local header list
	header=$(siftool header "$out")
	list=$(siftool list "$out")
	grep -Eq "^Primary Architecture:[[:space:]]+$arch\$" <<<"$header" ||
		die "siftool header of $out does not report Primary Architecture $arch:
$header"
	grep -q "FS (Squashfs/\*System/$arch)" <<<"$list" ||
		die "siftool list of $out shows no primary system partition for $arch:
$list"
	log "built $out ($arch, $(stat -c %s "$out") bytes, sha256 $(sha256sum "$out" | cut -d' ' -f1))"
}

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
mkdir -p "$tmp/data"
peak_kib=0

store_env=()
if [[ $store == s3 ]]; then
	s3s=$(command -v s3s-fs || echo "$HOME/.cargo/bin/s3s-fs")
	[[ -x $s3s ]] || die "s3s-fs not found (scripts/setup.sh --test installs it)"
	mkdir -p "$tmp/s3/silo"
	s3_secret=secret-$RANDOM$RANDOM
	"$s3s" --host 127.0.0.1 --port "$s3_port" --access-key silo-e2e --secret-key "$s3_secret" "$tmp/s3" \
		>"$tmp/s3s.log" 2>&1 &
	s3_pid=$!
	for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$s3_port/" && break; sleep 0.1; done
	store_env=(SILO_STORAGE__BACKEND=s3 SILO_STORAGE__S3__ENDPOINT="http://127.0.0.1:$s3_port"
		SILO_STORAGE__S3__BUCKET=silo SILO_STORAGE__S3__ACCESS_KEY=silo-e2e
		SILO_STORAGE__S3__SECRET_KEY="$s3_secret")
	log "started s3s-fs (pid $s3_pid) on 127.0.0.1:$s3_port: image bytes go to an S3 store"
fi

# start_silo MODE: silo serve on $port with that download mode; waits for /version.
start_silo() {
	local mode=$1
	silo_env=(SILO_DATA_DIR="$tmp/data" SILO_LISTEN="127.0.0.1:$port" SILO_PUBLIC_URL="$base_url"
		SILO_LIBRARY__DOWNLOAD_MODE="$mode" SILO_LIBRARY__MULTIPART_PART_SIZE_MIB="$part_mib"
		"${store_env[@]}")
	silo_log=$tmp/silo-$mode.log
	env "${silo_env[@]}" "$silo" serve >>"$silo_log" 2>&1 &
	silo_pid=$!
	log "started silo (pid $silo_pid) on $base_url: download mode $mode, multipart part size $part_mib MiB"
	local deadline=$((SECONDS + 30))
	until curl -sf --max-time 2 -o /dev/null "$base_url/version"; do
		kill -0 "$silo_pid" 2>/dev/null || die "silo exited before answering /version"
		((SECONDS < deadline)) || die "silo did not answer $base_url/version within 30 s"
		sleep 0.2
	done
	log "/version: $(curl -sf --max-time 5 "$base_url/version")"
}

# note_peak: fold silo's peak resident memory so far (VmHWM) into $peak_kib.
note_peak() {
	local kib
	[[ -r /proc/$silo_pid/status ]] || return 0
	kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$silo_pid/status")
	log "silo peak RSS (VmHWM) in this mode: $((kib / 1024)) MiB"
	((kib > peak_kib)) && peak_kib=$kib
	return 0
}

token_for() { # token_for USER: create the user and print a fresh token
	local user=$1 tok
	env "${silo_env[@]}" "$silo" user create "$user" >&2 || die "silo user create $user failed"
	tok=$(env "${silo_env[@]}" "$silo" token create "$user") || die "silo token create $user failed"
	tok=$(printf '%s' "$tok" | tr -d '[:space:]')
	[[ -n $tok ]] || die "silo token create $user printed no token"
	printf '%s' "$tok"
}

# ---------------------------------------------------------------- run
run_args=(-v -count=1 -timeout 30m)
[[ -n ${LIBCLIENT_RUN:-} ]] && run_args+=(-run "$LIBCLIENT_RUN")

run_suite() { # run_suite MODE SIF ARM64_SIF [go test args...]
	local mode=$1 sif=$2 arm=$3
	shift 3
	(
		cd "$pkg_dir"
		export SILO_URL=$base_url SILO_USER=alice SILO_TOKEN=$alice_token \
			SILO_OTHER_USER=bob SILO_OTHER_TOKEN=$bob_token SILO_SIF=$sif SILO_SIF_ARM64=$arm \
			SILO_DOWNLOAD_MODE=$mode SILO_MULTIPART_PART_MIB=$part_mib SILO_STORE=$store
		go test "$@" ./...
	)
}

status=0
summary=()
record() { # record WHAT STATUS
	local word=PASS
	(($2 == 0)) || word="FAIL (exit $2)"
	summary+=("$(printf '%-9s %-34s %s' "$mode" "$1" "$word")")
	((status != 0)) || status=$2
}

alice_token= bob_token=
for mode in "${modes[@]}"; do
	dir=$tmp/$mode
	mkdir -p "$dir"
	# Fresh random SIFs per mode: pushes in the second mode upload new content.
	make_sif "$dir/test.sif" "$sif_mb" amd64
	make_sif "$dir/arm64.sif" 1 arm64
	if [[ $mode == "${modes[0]}" ]]; then
		siftool header "$dir/test.sif" >&2
		siftool list "$dir/test.sif" >&2
	fi

	start_silo "$mode"
	if [[ -z $alice_token ]]; then
		alice_token=$(token_for alice)
		bob_token=$(token_for bob)
		log "created users alice and bob (token lengths ${#alice_token} and ${#bob_token})"
	fi

	log "[$mode] running go test ${run_args[*]} ./... with a ${sif_mb} MiB SIF"
	rc=0
	run_suite "$mode" "$dir/test.sif" "$dir/arm64.sif" "${run_args[@]}" || rc=$?
	record "suite (${sif_mb} MiB SIF)" "$rc"

	if ((big_mb > 0)); then
		make_sif "$dir/big.sif" "$big_mb" amd64
		log "[$mode] running the round trip with a ${big_mb} MiB SIF"
		rc=0
		run_suite "$mode" "$dir/big.sif" "$dir/arm64.sif" -v -count=1 -timeout 30m \
			-run '^(TestSIFFixture|TestLibraryClientRoundTrip)$' || rc=$?
		record "round trip (${big_mb} MiB SIF)" "$rc"
		rm -f "$dir/big.sif"
	fi

	# Peak resident memory of silo over this mode's run (for docs/BENCHMARKS.md).
	note_peak
	stop_silo
done

db=SQLite
[[ -z ${SILO_DATABASE_URL:-} ]] || db="SILO_DATABASE_URL (${SILO_DATABASE_URL%%:*})"
log "summary ($db; multipart part size $part_mib MiB):"
for line in "${summary[@]}"; do log "  $line"; done
log "silo peak RSS (VmHWM): $((peak_kib / 1024)) MiB"
[[ -z ${LIBCLIENT_RSS_FILE:-} ]] || echo "$peak_kib" >"$LIBCLIENT_RSS_FILE"

if ((status == 0)); then
	log "PASS"
else
	log "FAIL (go test exit status $status)"
fi
exit "$status"
