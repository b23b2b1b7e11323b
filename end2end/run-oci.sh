#!/usr/bin/env bash
# Compatibility test of the OCI distribution API with real clients: oras-py (PyPI `oras`)
# and skopeo (Debian). Starts a throwaway silo, creates users and tokens, then:
#   1. oras-py pushes a siftool-made SIF as Apptainer's oras artifact, monolithic and
#      chunked, and pulls it back byte-identical;
#   2. the oras-pushed SIF is pulled through the library API (GET /v1/imagefile/…, following
#      a 303 to the store when it has one);
#   3. a SIF pushed through the library API is pulled with oras-py;
#   4. skopeo copies a hand-made OCI image layout into silo and back out, and lists tags;
#   5. anonymous pushes are refused, and another user's pushes are denied.
#
# Usage: end2end/run-oci.sh [SILO_BINARY]
#   SILO_BINARY  default ${CARGO_TARGET_DIR:-$HOME/.cache/silo-target}/debug/silo
# Env:
#   OCI_PORT     port for silo on 127.0.0.1 (default 18290)
#   OCI_VENV     virtualenv with oras-py (default ~/.cache/silo-oci-venv)
#   OCI_KEEP=1   keep the temp dir
#   SILO_DATABASE_URL  passed through (PostgreSQL runs)
#   OCI_STORE    "fs" (default) or "s3": keep the bytes in a real s3s-fs started here on
#                OCI_PORT+1000; blob GETs then answer 307 to presigned store URLs, which
#                oras-py and skopeo follow
#
# Needs: apt-get install skopeo siftool curl python3-venv; pip install oras (in OCI_VENV)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
silo=${1:-${CARGO_TARGET_DIR:-$HOME/.cache/silo-target}/debug/silo}
port=${OCI_PORT:-18290}
venv=${OCI_VENV:-$HOME/.cache/silo-oci-venv}
host=127.0.0.1:$port
base_url=http://$host

log() { printf '[run-oci] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ -x $silo ]] || die "silo binary not found: $silo (build it first, or pass its path)"
for cmd in skopeo siftool curl sha256sum; do
	command -v "$cmd" >/dev/null || die "missing $cmd (apt-get install skopeo siftool curl)"
done
[[ -x $venv/bin/python ]] && "$venv/bin/python" -c 'import oras' 2>/dev/null ||
	die "oras-py missing: python3 -m venv $venv && $venv/bin/pip install oras"
if curl -s -o /dev/null --max-time 2 "$base_url/"; then
	die "something already listens on $host (set OCI_PORT)"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/silo-oci.XXXXXX")
silo_pid=
s3_pid=
cleanup() {
	local rc=$?
	[[ -n $s3_pid ]] && { kill "$s3_pid" 2>/dev/null; wait "$s3_pid" 2>/dev/null; } || true
	if [[ -n $silo_pid ]] && kill -0 "$silo_pid" 2>/dev/null; then
		kill "$silo_pid" 2>/dev/null || true
		wait "$silo_pid" 2>/dev/null || true
	fi
	if ((rc != 0)) && [[ -f $tmp/silo.log ]]; then
		log "last lines of silo.log:"
		tail -n 40 "$tmp/silo.log" >&2 || true
	fi
	if [[ ${OCI_KEEP:-0} == 1 ]]; then log "kept $tmp"; else rm -rf "$tmp"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- SIFs
make_sif() { # make_sif OUT KIB
	local out=$1 kib=$2
	head -c "$((kib * 1024))" /dev/urandom >"$tmp/rootfs.squashfs"
	siftool new "$out" >/dev/null
	siftool add "$out" "$tmp/rootfs.squashfs" --datatype 4 --parttype 2 --partfs 1 --partarch 2 >/dev/null
	rm -f "$tmp/rootfs.squashfs"
}
make_sif "$tmp/small.sif" 512
make_sif "$tmp/big.sif" 3072 # 3 MiB: three 1 MiB chunks when chunked
make_sif "$tmp/library.sif" 256

# ---------------------------------------------------------------- silo
silo_env=(SILO_DATA_DIR="$tmp/data" SILO_LISTEN="$host" SILO_PUBLIC_URL="$base_url"
	SILO_LOG=info)
if [[ ${OCI_STORE:-fs} == s3 ]]; then
	# shellcheck source=end2end/s3-store.sh
	source "$here/s3-store.sh"
	start_s3_store "$tmp/s3" "$((port + 1000))" || die "cannot start the S3 store"
	silo_env+=("${s3_env[@]}")
	log "image bytes go to an S3 store (s3s-fs on 127.0.0.1:$((port + 1000)))"
fi
mkdir -p "$tmp/data"
env "${silo_env[@]}" "$silo" serve >"$tmp/silo.log" 2>&1 &
silo_pid=$!
deadline=$((SECONDS + 30))
until curl -sf --max-time 2 -o /dev/null "$base_url/healthz"; do
	kill -0 "$silo_pid" 2>/dev/null || die "silo exited early"
	((SECONDS < deadline)) || die "silo did not answer within 30 s"
	sleep 0.2
done
token_for() {
	env "${silo_env[@]}" "$silo" user create "$1" >&2
	env "${silo_env[@]}" "$silo" token create "$1" | tr -d '[:space:]'
}
alice=$(token_for alice)
bob=$(token_for bob)
log "silo on $base_url (pid $silo_pid), users alice and bob"

oras_py() { OCI_USER=${OCI_USER:-} OCI_TOKEN=${OCI_TOKEN:-} "$venv/bin/python" "$here/oci_client.py" "$@"; }
same() { cmp -s "$1" "$2" || die "$1 and $2 differ"; }

# ---------------------------------------------------------------- 1. oras-py round trips
OCI_USER=alice OCI_TOKEN=$alice oras_py push "$host" alice/oras/hello:1.0 "$tmp/small.sif"
OCI_USER=alice OCI_TOKEN=$alice oras_py pull "$host" alice/oras/hello:1.0 "$tmp/small.pulled.sif"
same "$tmp/small.sif" "$tmp/small.pulled.sif"
log "oras-py monolithic push and pull: byte-identical"
OCI_USER=alice OCI_TOKEN=$alice oras_py push "$host" alice/oras/big:1.0 "$tmp/big.sif" --chunked
oras_py pull "$host" alice/oras/big:1.0 "$tmp/big.pulled.sif" # anonymous pull of a public repo
same "$tmp/big.sif" "$tmp/big.pulled.sif"
# Silo's request log: one `response status=…` line per request, in the request's span.
patches=$(grep 'response status=' "$tmp/silo.log" | grep -c 'method=PATCH' || true)
((patches >= 3)) || die "expected the chunked push to send at least 3 PATCH requests, saw $patches"
log "oras-py chunked push ($patches PATCH chunks) and anonymous pull: byte-identical"

# ---------------------------------------------------------------- 2. oras push -> library pull
curl -sfL -o "$tmp/via-library.sif" "$base_url/v1/imagefile/alice/oras/hello:1.0?arch=amd64" ||
	die "library pull of the oras-pushed image failed"
same "$tmp/small.sif" "$tmp/via-library.sif"
log "oras push -> library pull: byte-identical"

# ---------------------------------------------------------------- 3. library push -> oras pull
api() { # api METHOD PATH [JSON]: the library API as alice; prints .data
	curl -sf -X "$1" -H "Authorization: Bearer $alice" ${3:+--data "$3"} "$base_url$2"
}
json_field() { "$venv/bin/python" -c "import json,sys; print(json.load(sys.stdin)['data']['$1'])"; }
entity=$(api GET /v1/entities/alice | json_field id)
coll=$(api POST /v1/collections "{\"name\":\"lib\",\"entity\":\"$entity\"}" | json_field id)
cont=$(api POST /v1/containers "{\"name\":\"hello\",\"collection\":\"$coll\"}" | json_field id)
sha=$(sha256sum "$tmp/library.sif" | cut -d' ' -f1)
size=$(stat -c %s "$tmp/library.sif")
image=$(api POST /v1/images "{\"hash\":\"sha256.$sha\",\"container\":\"$cont\"}" | json_field id)
url=$(api POST "/v2/imagefile/$image" "{\"filesize\":$size,\"sha256sum\":\"$sha\",\"md5sum\":\"\"}" | json_field uploadURL)
curl -sf -X PUT --data-binary "@$tmp/library.sif" "$url" >/dev/null || die "library upload failed"
api PUT "/v2/imagefile/$image/_complete" '{}' >/dev/null
api POST "/v2/tags/$cont" "{\"Arch\":\"amd64\",\"Tag\":\"2.0\",\"ImageID\":\"$image\"}" >/dev/null
oras_py pull "$host" alice/lib/hello:2.0 "$tmp/library.pulled.sif"
same "$tmp/library.sif" "$tmp/library.pulled.sif"
log "library push -> oras pull: byte-identical"

# ---------------------------------------------------------------- 4. skopeo
layout=$tmp/layout
mkdir -p "$layout/blobs/sha256" "$tmp/rootfs/etc"
echo "hello from skopeo" >"$tmp/rootfs/etc/motd"
tar -C "$tmp/rootfs" -cf - etc | gzip -n >"$tmp/layer.tar.gz"
layer_sha=$(sha256sum "$tmp/layer.tar.gz" | cut -d' ' -f1)
diff_id=$(gzip -dc "$tmp/layer.tar.gz" | sha256sum | cut -d' ' -f1)
cp "$tmp/layer.tar.gz" "$layout/blobs/sha256/$layer_sha"
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"config":{}}' \
	"$diff_id" >"$tmp/config.json"
config_sha=$(sha256sum "$tmp/config.json" | cut -d' ' -f1)
cp "$tmp/config.json" "$layout/blobs/sha256/$config_sha"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%d}]}' \
	"$config_sha" "$(stat -c %s "$tmp/config.json")" "$layer_sha" "$(stat -c %s "$tmp/layer.tar.gz")" >"$tmp/manifest.json"
manifest_sha=$(sha256sum "$tmp/manifest.json" | cut -d' ' -f1)
cp "$tmp/manifest.json" "$layout/blobs/sha256/$manifest_sha"
printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}' \
	"$manifest_sha" "$(stat -c %s "$tmp/manifest.json")" >"$layout/index.json"

skopeo_flags=(--insecure-policy)
skopeo "${skopeo_flags[@]}" copy --dest-tls-verify=false --dest-creds "alice:$alice" \
	"oci:$layout:v1" "docker://$host/alice/skopeo/img:v1" >&2
skopeo "${skopeo_flags[@]}" copy --dest-tls-verify=false --dest-creds "alice:$alice" \
	"oci:$layout:v1" "docker://$host/alice/skopeo/img:v2" >&2
skopeo "${skopeo_flags[@]}" copy --src-tls-verify=false --src-creds "alice:$alice" \
	"docker://$host/alice/skopeo/img:v1" "oci:$tmp/out:v1" >&2
[[ -f $tmp/out/blobs/sha256/$layer_sha ]] || die "skopeo copy back out lost the layer"
cmp -s "$tmp/out/blobs/sha256/$layer_sha" "$tmp/layer.tar.gz" || die "layer differs after skopeo round trip"
tags=$(skopeo list-tags --tls-verify=false --creds "alice:$alice" "docker://$host/alice/skopeo/img")
grep -q '"v1"' <<<"$tags" && grep -q '"v2"' <<<"$tags" || die "skopeo list-tags: $tags"
log "skopeo copy in and out, list-tags: ok"

# ---------------------------------------------------------------- 5. refusals
if oras_py push "$host" alice/oras/anon:1.0 "$tmp/small.sif" 2>/dev/null; then
	die "anonymous push was accepted"
fi
if OCI_USER=bob OCI_TOKEN=$bob oras_py push "$host" alice/oras/bob:1.0 "$tmp/small.sif" 2>/dev/null; then
	die "bob pushed into alice's entity"
fi
log "anonymous and foreign pushes refused"
log "all OCI client checks passed"
