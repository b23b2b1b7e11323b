#!/usr/bin/env bash
# Fault-injection test: kill `silo serve` (kill -9, or an abort at a named point) during each
# upload flow of a real client, restart it on the same data directory and database, and check
# the crash-safety invariants (docs/OPERATIONS.md, "Crash safety"):
#   1. the client is not told the push succeeded;
#   2. after the restart no surface shows the image (library image and imagefile, shub, OCI
#      tags list and manifest, REST listing), every blob in the store hashes to its name and
#      every uploaded image / OCI blob record has its blob (end2end/faults/check.py);
#   3. once the upload sessions have expired (their expiry moved into the past, temporary
#      files dated back two days), a restart leaves no session row and no temporary file, and
#      `silo fsck` (when the binary has it) passes;
#   4. the same push, retried with the same client, succeeds and pulls back byte-identical
#      with the real client, and every surface shows it.
#
# Flows (real clients): lib-single and lib-multipart (Apptainer's Go library client,
# end2end/pushdriver), oras (oras-py chunked: POST, PATCH…, PUT), sregistry (the sregistry
# client) and browser (the SPA's POST /web/upload request, sent by curl).
# Points: before-body and mid-body (a proxy, end2end/faults/holdproxy.py, forwards the
# request's headers and 0 or half of its body, then kill -9), and the named crash points of a
# binary built with `--features fault-injection` (silo-domain's fault module):
# store-commit (all bytes received and verified, blob not yet in the store), db-commit (blob
# in the store, database not yet told), multipart-complete, oci-finish (the final PUT of a
# chunked upload has its bytes). Without that feature the named points are skipped.
#
# Usage: end2end/run-faults.sh [SILO_BINARY]
# Env:
#   FAULTS_PORT    silo's port on 127.0.0.1 (default 19350); the proxy takes +1, s3s-fs +2
#   FAULTS_FLOWS   flows to run (default "lib-single lib-multipart oras sregistry browser")
#   FAULTS_POINTS  restrict every flow to these points (default: each flow's list below)
#   FAULTS_STORE   fs (default) or s3 (a real s3s-fs, end2end/s3-store.sh)
#   SILO_DATABASE_URL  passed through (PostgreSQL runs)
#   FAULTS_KEEP=1  keep the temp dir
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
silo=${1:-${CARGO_TARGET_DIR:-$HOME/.cache/silo-target}/debug/silo}
port=${FAULTS_PORT:-19350}
proxy_port=$((port + 1))
s3_port=$((port + 2))
flows=${FAULTS_FLOWS:-lib-single lib-multipart oras sregistry browser}
store=${FAULTS_STORE:-fs}
oci_venv=${OCI_VENV:-$HOME/.cache/silo-oci-venv}
sreg_venv=${SREG_VENV:-$HOME/.cache/silo-venv}
base=http://127.0.0.1:$port
proxy=http://127.0.0.1:$proxy_port

log() { printf '[run-faults] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ -x $silo ]] || die "silo binary not found: $silo"
[[ $store == fs || $store == s3 ]] || die "FAULTS_STORE must be fs or s3"
for cmd in go siftool curl python3 sha256sum; do command -v "$cmd" >/dev/null || die "missing $cmd"; done
[[ -x $oci_venv/bin/python ]] || die "oras-py venv missing: $oci_venv (scripts/setup.sh --test)"
[[ -x $sreg_venv/bin/sregistry ]] || die "sregistry client missing in $sreg_venv (scripts/setup.sh --test)"
for p in "$port" "$proxy_port"; do
	if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$p/"; then die "port $p is taken (set FAULTS_PORT)"; fi
done
hooks=0
grep -q "fault injection: aborting at" "$silo" && hooks=1
((hooks)) || log "note: $silo has no fault-injection points (build with --features fault-injection); running the proxy points only"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/silo-faults.XXXXXX")
data=$tmp/data
mkdir -p "$data"
silo_pid= proxy_pid= s3_pid= client_pid=
stop_pid() { # stop_pid PID: TERM, then KILL
	local pid=$1
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
cleanup() {
	local rc=$?
	stop_pid "$client_pid"
	stop_pid "$silo_pid"
	stop_pid "$proxy_pid"
	stop_pid "$s3_pid"
	if ((rc != 0)) && [[ -f $tmp/silo.log ]]; then
		log "last lines of silo.log:"
		tail -n 30 "$tmp/silo.log" >&2 || true
	fi
	if [[ ${FAULTS_KEEP:-0} == 1 ]]; then log "kept $tmp"; else rm -rf "$tmp"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- tools
export GOFLAGS="-mod=readonly -overlay=$here/pushdriver/gomod-overlay.json"
export GOPROXY=off GOSUMDB=off GONOSUMDB='*' GOWORK=off GO111MODULE=on GOTOOLCHAIN=local
export GOCACHE=${GOCACHE:-$HOME/.cache/go-build}
(cd "$here/pushdriver" && go build -o "$tmp/pushdriver" .) || die "building end2end/pushdriver failed"

make_sif() { # make_sif OUT MIB: a fresh SIF (random payload) as run-libclient.sh makes them
	local out=$1 mib=$2 work
	work=$(mktemp -d "$tmp/sifwork.XXXXXX")
	head -c "$((mib * 1024 * 1024))" /dev/urandom >"$work/rootfs.squashfs"
	printf 'Bootstrap: scratch\n' >"$work/Apptainer.def"
	siftool new "$out" >/dev/null
	siftool add "$out" "$work/Apptainer.def" --datatype 1 >/dev/null
	siftool add "$out" "$work/rootfs.squashfs" --datatype 4 --parttype 2 --partfs 1 --partarch 2 >/dev/null
	rm -rf "$work"
}

store_env=()
blob_root=$data/blobs
if [[ $store == s3 ]]; then
	# shellcheck source=end2end/s3-store.sh
	source "$here/s3-store.sh"
	start_s3_store "$tmp/s3" "$s3_port" || die "cannot start the S3 store"
	store_env=("${s3_env[@]}")
	blob_root=$tmp/s3/silo/blobs # s3s-fs keeps each object as a file named by its key
fi
db=${SILO_DATABASE_URL:-$data/silo.db}
silo_env=(SILO_DATA_DIR="$data" SILO_LISTEN="127.0.0.1:$port" SILO_PUBLIC_URL="$proxy"
	SILO_LIBRARY__MULTIPART_PART_SIZE_MIB=5 SILO_MAINTENANCE__INTERVAL_SECONDS=0 "${store_env[@]}")

start_silo() { # start_silo [FAULT_POINT]
	local fault=${1:-}
	env "${silo_env[@]}" ${fault:+SILO_FAULT_POINT=$fault} "$silo" serve >>"$tmp/silo.log" 2>&1 &
	silo_pid=$!
	local deadline=$((SECONDS + 30))
	until curl -sf --max-time 2 -o /dev/null "$base/healthz"; do
		kill -0 "$silo_pid" 2>/dev/null || die "silo exited at start-up"
		((SECONDS < deadline)) || die "silo did not start"
		sleep 0.1
	done
}

start_proxy() { # start_proxy [METHOD PATH_REGEX HOLD NTH]: the hold rule, or none
	rm -f "$tmp/reached"
	python3 "$here/faults/holdproxy.py" "$proxy_port" "$port" "${1:-NONE}" "${2:-^$}" "${3:-0}" "${4:-1}" \
		"$tmp/reached" 2>>"$tmp/proxy.log" &
	proxy_pid=$!
	local tries=0
	until (exec 3<>"/dev/tcp/127.0.0.1/$proxy_port") 2>/dev/null; do
		((++tries < 100)) || die "the proxy did not start"
		sleep 0.1
	done
}

silo_cli() { env "${silo_env[@]}" "$silo" "$@"; }
# alice is an administrator: the sregistry client's names carry no entity (`collection/name`
# with the registry from SREGISTRY_REGISTRY_BASE, as a host with a port cannot be in a name), so
# its pushes go to the entity "default", which only an administrator may create.
silo_cli user create alice --admin >&2
start_silo
token=$(silo_cli token create alice | tr -d '[:space:]')
silo_cli token create alice --sregistry >"$tmp/alice.json"
stop_pid "$silo_pid"

# ---------------------------------------------------------------- clients
# push FLOW REF FILE / pull FLOW REF OUT, all through the proxy.
export SREGISTRY_CLIENT=registry SREGISTRY_REGISTRY_NOHTTPS=1 SREGISTRY_REGISTRY_BASE=$proxy
push() {
	local flow=$1 ref=$2 file=$3 path=${2%:*} tag=${2##*:}
	case $flow in
	lib-*) "$tmp/pushdriver" -url "$proxy" -token "$token" -ref "$ref" -file "$file" -timeout 5m ;;
	oras) OCI_NO_RETRY=1 OCI_USER=alice OCI_TOKEN=$token "$oci_venv/bin/python" "$here/oci_client.py" push \
		"127.0.0.1:$proxy_port" "$ref" "$file" --chunked ;;
	sregistry) (cd "$tmp" && SREGISTRY_CLIENT_SECRETS=$tmp/alice.json "$sreg_venv/bin/sregistry" push \
		--name "${path#default/}" --tag "$tag" "$file") ;;
	browser)
		local e c n
		IFS=/ read -r e c n <<<"$path"
		curl -sS --fail-with-body -H "Authorization: Bearer $token" -H "Origin: $proxy" \
			-H 'Content-Type: application/octet-stream' --data-binary "@$file" \
			"$proxy/web/upload?entity=$e&collection=$c&container=$n&tag=$tag" ;;
	esac
}
pull() {
	local flow=$1 ref=$2 out=$3
	case $flow in
	lib-* | browser) "$tmp/pushdriver" -url "$proxy" -token "$token" -ref "$ref" -pull "$out" ;;
	oras) OCI_USER=alice OCI_TOKEN=$token "$oci_venv/bin/python" "$here/oci_client.py" pull \
		"127.0.0.1:$proxy_port" "$ref" "$out" ;;
	sregistry)
		rm -f "$tmp"/*.sif.pulled
		(cd "$tmp/pulls" && SREGISTRY_CLIENT_SECRETS=$tmp/alice.json "$sreg_venv/bin/sregistry" pull "${ref#default/}") &&
			mv "$(ls -t "$tmp"/pulls/*.sif | head -1)" "$out" ;;
	esac
}
mkdir -p "$tmp/pulls"

# points FLOW: the crash points of FLOW, each "name:METHOD:PATH_REGEX:HOLD:NTH" (proxy) or
# "name:@FAULT_POINT" (a named point of the fault-injection build).
points() {
	case $1 in
	lib-single) echo "before-body:PUT:^/v2/imagefile/_upload/[0-9a-f]+$:0:1 mid-body:PUT:^/v2/imagefile/_upload/[0-9a-f]+$:half:1" \
		"store-commit:@store-commit db-commit:@db-commit" ;;
	lib-multipart) echo "before-part:PUT:^/v2/imagefile/_upload/[0-9a-f]+/[0-9]+:0:3 mid-part:PUT:^/v2/imagefile/_upload/[0-9a-f]+/[0-9]+:half:3" \
		"multipart-complete:@multipart-complete store-commit:@store-commit db-commit:@db-commit" ;;
	oras) echo "before-chunk:PATCH:/blobs/uploads/:0:2 mid-chunk:PATCH:/blobs/uploads/:half:2" \
		"final-put:@oci-finish store-commit:@store-commit db-commit:@db-commit" ;;
	sregistry) echo "before-body:POST:^/upload:0:1 mid-body:POST:^/upload:half:1 store-commit:@store-commit db-commit:@db-commit" ;;
	browser) echo "before-body:POST:^/web/upload:0:1 mid-body:POST:^/web/upload:half:1 store-commit:@store-commit db-commit:@db-commit" ;;
	*) die "unknown flow $1" ;;
	esac
}
sif_mib() { [[ $1 == lib-multipart ]] && echo 70 || echo 3; }

# body_on_disk FLOW [NTH]: part of the held body is in the filesystem store's tmp/ (a
# single-part temporary; for a multipart upload, bytes at the start of the NTH part, which is
# written in place into the upload file (its claim marker mp-<id>.<offset>.done names the
# offset; the file is sparse until written); an OCI upload grown by half a 1 MiB chunk).
body_on_disk() {
	case $1 in
	lib-multipart)
		local markers last
		markers=$(find "$blob_root/tmp" -name 'mp-*.done' -printf '%f\n')
		(($(grep -c . <<<"$markers") >= ${2:-1})) || return 1
		last=$(awk -F. '{print $2, $0}' <<<"$markers" | sort -n | tail -1 | cut -d' ' -f2)
		od -An -tx1 -j "$(cut -d. -f2 <<<"$last")" -N 4096 "$blob_root/tmp/${last%%.*}.part" 2>/dev/null |
			grep -q '[1-9a-f]'
		;;
	oras) find "$blob_root/tmp" -name 'mp-*.part' -printf '%s\n' | awk '$1 % 1048576 != 0 {f=1} END {exit !f}' ;;
	*) find "$blob_root/tmp" -name '*.part' ! -name 'mp-*' -size +0 | grep -q . ;;
	esac
}
check() { "$oci_venv/bin/python" "$here/faults/check.py" "$@"; }
has_fsck=0
"$silo" --help 2>&1 | grep -qw fsck && has_fsck=1

# ---------------------------------------------------------------- one scenario
scenarios=0
run_point() { # run_point FLOW SPEC
	local flow=$1 spec=$2 name rest fault= method regex hold nth
	name=${spec%%:*}
	rest=${spec#*:}
	if [[ $rest == @* ]]; then
		fault=${rest#@}
		((hooks)) || { log "[$flow/$name] skipped (no fault-injection build)"; return 0; }
	else
		IFS=: read -r method regex hold nth <<<"$rest"
	fi
	local ref=alice/faults/$flow-$name:v1 sif=$tmp/$flow-$name.sif rc=0
	[[ $flow == sregistry ]] && ref=default/faults/$flow-$name:v1
	make_sif "$sif" "$(sif_mib "$flow")"
	local sha
	sha=$(sha256sum "$sif" | cut -d' ' -f1)

	# 1. the crash
	if [[ -n $fault ]]; then start_proxy; else start_proxy "$method" "$regex" "$hold" "$nth"; fi
	start_silo "$fault"
	push "$flow" "$ref" "$sif" >"$tmp/client.log" 2>&1 &
	client_pid=$!
	local deadline=$((SECONDS + 300))
	if [[ -n $fault ]]; then
		while kill -0 "$silo_pid" 2>/dev/null; do
			((SECONDS < deadline)) || die "[$flow/$name] silo never reached $fault"
			kill -0 "$client_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$silo_pid" 2>/dev/null && die "[$flow/$name] the push ended without reaching $fault: $(cat "$tmp/client.log")"
		wait "$silo_pid" 2>/dev/null || true
		grep -q "fault injection: aborting at ${fault%@*}" "$tmp/silo.log" ||
			die "[$flow/$name] the push ended without reaching $fault: $(cat "$tmp/client.log")"
	else
		until [[ -f $tmp/reached ]]; do
			((SECONDS < deadline)) || die "[$flow/$name] the proxy never held the request"
			kill -0 "$client_pid" 2>/dev/null || die "[$flow/$name] the client ended before the point: $(cat "$tmp/client.log")"
			sleep 0.05
		done
		if [[ $hold == half && $store == fs ]]; then
			# Wait until the server has written some of the body (bytes on disk).
			until body_on_disk "$flow" "${nth:-1}"; do
				((SECONDS < deadline)) || die "[$flow/$name] no body bytes reached the disk"
				sleep 0.05
			done
		fi
		kill -9 "$silo_pid"
		wait "$silo_pid" 2>/dev/null || true
	fi
	silo_pid=
	stop_pid "$proxy_pid"
	rc=0
	wait "$client_pid" || rc=$?
	client_pid=
	((rc != 0)) || die "[$flow/$name] the client reported success for a push cut by the crash: $(cat "$tmp/client.log")"

	# 2. restart: nothing partial visible, store and database agree
	start_proxy
	start_silo
	check surfaces "$base" alice "$token" "$ref" absent || die "[$flow/$name] after the restart"
	check data "$db" "$blob_root" >"$tmp/check.out" || die "[$flow/$name] after the restart"
	log "[$flow/$name] crashed ($(cut -c1-60 <"$tmp/client.log" | tail -1)); after restart: nothing visible, $(cat "$tmp/check.out")"
	stop_pid "$silo_pid"

	# 3. sessions expired and temporaries old: a restart sweeps them
	check age "$db"
	[[ $store == fs ]] && find "$blob_root/tmp" -type f -exec touch -d '2 days ago' {} +
	start_silo
	deadline=$((SECONDS + 30))
	until check data "$db" "$blob_root" --clean >"$tmp/check.out" 2>"$tmp/check.err"; do
		((SECONDS < deadline)) || die "[$flow/$name] not swept after expiry: $(cat "$tmp/check.err")"
		sleep 0.2
	done
	if ((has_fsck)); then
		silo_cli fsck >"$tmp/fsck.out" 2>&1 || die "[$flow/$name] silo fsck failed: $(cat "$tmp/fsck.out")"
	fi

	# 4. the same push again, then a pull with the same client
	push "$flow" "$ref" "$sif" >"$tmp/client.log" 2>&1 || die "[$flow/$name] retried push failed: $(cat "$tmp/client.log")"
	pull "$flow" "$ref" "$tmp/pulled.sif" >"$tmp/client.log" 2>&1 || die "[$flow/$name] pull failed: $(cat "$tmp/client.log")"
	cmp -s "$sif" "$tmp/pulled.sif" || die "[$flow/$name] the pulled image differs from the pushed one"
	check surfaces "$base" alice "$token" "$ref" "$sha" || die "[$flow/$name] after the retried push"
	check data "$db" "$blob_root" >"$tmp/check.out" || die "[$flow/$name] after the retried push"
	log "[$flow/$name] swept after expiry; retried push pulls byte-identical; $(cat "$tmp/check.out")"
	stop_pid "$silo_pid"
	stop_pid "$proxy_pid"
	rm -f "$sif" "$tmp/pulled.sif"
	scenarios=$((scenarios + 1))
}

for flow in $flows; do
	for spec in $(points "$flow"); do
		if [[ -n ${FAULTS_POINTS:-} ]] && ! grep -qw -- "${spec%%:*}" <<<"$FAULTS_POINTS"; then continue; fi
		run_point "$flow" "$spec"
	done
done
((scenarios > 0)) || die "no scenario ran"
dbname=SQLite
[[ -z ${SILO_DATABASE_URL:-} ]] || dbname=PostgreSQL
log "PASS: $scenarios crash scenarios ($store store, $dbname)"
