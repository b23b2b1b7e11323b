#!/usr/bin/env bash
# Compatibility test: the real legacy `sregistry` client (PyPI sregistry 0.2.x, registry
# backend) and Apptainer's shub:// request sequence (end2end/shub_pull.py) against a
# throw-away Silo, with real SIFs made by siftool. Also cross-protocol: images pushed through
# the library API are pulled through sregistry and shub, byte-identical.
#
# Usage: end2end/run-sregistry.sh [SILO_BINARY]
# Env:
#   SREG_ADDR     loopback address Silo listens on, port 80 (default 127.0.0.87). The
#                 sregistry client takes `host/entity/collection/name` only with a host
#                 without a port, and shub:// refs cannot carry a port either.
#   SREG_VENV     virtualenv with sregistry (default ~/.cache/silo-venv; scripts/setup.sh --test)
#   SILO_DATABASE_URL  passed through (PostgreSQL runs)
#   SREG_KEEP=1   keep the temp dir
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
silo=${1:-${CARGO_TARGET_DIR:-$HOME/.cache/silo-target}/debug/silo}
addr=${SREG_ADDR:-127.0.0.87}
venv=${SREG_VENV:-$HOME/.cache/silo-venv}
base=http://$addr

log() { printf '[run-sregistry] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ -x $silo ]] || die "silo binary not found: $silo"
[[ -x $venv/bin/sregistry ]] || die "sregistry client missing in $venv (run scripts/setup.sh --test)"
for cmd in siftool curl python3 sha256sum; do command -v "$cmd" >/dev/null || die "missing $cmd"; done
if curl -s -o /dev/null --max-time 2 "$base/"; then die "something already listens on $addr:80"; fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/silo-sregistry.XXXXXX")
silo_pid=
cleanup() {
	local rc=$?
	if [[ -n $silo_pid ]] && kill -0 "$silo_pid" 2>/dev/null; then
		kill "$silo_pid" 2>/dev/null || true
		wait "$silo_pid" 2>/dev/null || true
	fi
	if ((rc != 0)) && [[ -f $tmp/silo.log ]]; then
		log "last lines of silo.log:"
		tail -n 30 "$tmp/silo.log" >&2 || true
	fi
	if [[ ${SREG_KEEP:-0} == 1 ]]; then log "kept $tmp"; else rm -rf "$tmp"; fi
	exit "$rc"
}
trap cleanup EXIT

make_sif() { # make_sif OUT MIB
	local out=$1 mib=$2 work
	work=$(mktemp -d "$tmp/sifwork.XXXXXX")
	head -c "$((mib * 1024 * 1024))" /dev/urandom >"$work/rootfs.squashfs"
	printf 'Bootstrap: scratch\n' >"$work/Apptainer.def"
	siftool new "$out" >/dev/null
	siftool add "$out" "$work/Apptainer.def" --datatype 1 >/dev/null
	siftool add "$out" "$work/rootfs.squashfs" --datatype 4 --parttype 2 --partfs 1 --partarch 2 >/dev/null
	rm -rf "$work"
}
make_sif "$tmp/a.sif" 3
make_sif "$tmp/b.sif" 2
make_sif "$tmp/c.sif" 1

silo_env=(SILO_DATA_DIR="$tmp/data" SILO_LISTEN="$addr:80" SILO_PUBLIC_URL="$base")
mkdir -p "$tmp/data"
env "${silo_env[@]}" "$silo" serve >"$tmp/silo.log" 2>&1 &
silo_pid=$!
deadline=$((SECONDS + 30))
until curl -sf --max-time 2 -o /dev/null "$base/healthz"; do
	kill -0 "$silo_pid" 2>/dev/null || die "silo exited (cannot bind $addr:80? run as root or set SREG_ADDR)"
	((SECONDS < deadline)) || die "silo did not start"
	sleep 0.2
done
log "silo on $base"

for user in alice bob; do
	env "${silo_env[@]}" "$silo" user create "$user" >&2
	env "${silo_env[@]}" "$silo" token create "$user" --sregistry >"$tmp/$user.json"
done
alice_token=$(env "${silo_env[@]}" "$silo" token create alice)
# bob's secret under alice's name: a signature from another user's key.
python3 - "$tmp/bob.json" "$tmp/forged.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1])); s["registry"]["username"] = "alice"; json.dump(s, open(sys.argv[2], "w"))
EOF

export SREGISTRY_CLIENT=registry SREGISTRY_REGISTRY_NOHTTPS=1 SREGISTRY_REGISTRY_BASE=$base
sreg() { # sreg USER ARGS...: the real client with USER's ~/.sregistry
	local user=$1
	shift
	(cd "$tmp" && SREGISTRY_CLIENT_SECRETS=$tmp/$user.json "$venv/bin/sregistry" "$@")
}
same() { cmp -s "$1" "$2" || die "$2 differs from $1"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
checks=0
ok() { checks=$((checks + 1)); log "ok: $*"; }

# ---------------------------------------------------------------- sregistry push / pull
sreg alice push --name "$addr/alice/tools/hello" --tag 1.0 "$tmp/a.sif" >"$tmp/out" 2>&1 || die "push failed: $(cat "$tmp/out")"
grep -q "Upload Complete" "$tmp/out" || die "push did not complete: $(cat "$tmp/out")"
ok "sregistry push alice/tools/hello:1.0"
rm -f "$tmp"/*.sif.pulled
sreg alice pull "$addr/alice/tools/hello:1.0" >"$tmp/out" 2>&1 || die "pull failed: $(cat "$tmp/out")"
same "$tmp/a.sif" "$tmp/$addr-alice-tools-hello:1.0.sif"
ok "sregistry pull is byte-identical"

# ---------------------------------------------------------------- search, every form
sreg alice search >"$tmp/out" 2>&1 || die "search failed: $(cat "$tmp/out")"
grep -q "alice/tools/hello:1.0" "$tmp/out" || die "search lists nothing: $(cat "$tmp/out")"
sreg alice search alice/tools/ >"$tmp/out" 2>&1 && grep -q "alice/tools/hello:1.0" "$tmp/out" || die "search alice/tools/: $(cat "$tmp/out")"
sreg alice search tools >"$tmp/out" 2>&1 && grep -q "alice/tools/hello:1.0" "$tmp/out" || die "search tools: $(cat "$tmp/out")"
sreg alice search "$addr/alice/tools/hello:1.0" >"$tmp/out" 2>&1 && grep -q "alice/tools/hello" "$tmp/out" || die "search name:tag: $(cat "$tmp/out")"
if sreg alice search nothing-here >"$tmp/out" 2>&1; then die "search for nothing succeeded"; fi
ok "sregistry search (all, collection/, word, collection/name:tag, no match)"

# ---------------------------------------------------------------- refusals
if sreg forged push --name "$addr/alice/tools/hello" --tag 1.0 "$tmp/b.sif" >"$tmp/out" 2>&1; then
	die "a push signed with bob's key as alice was accepted"
fi
grep -q "403" "$tmp/out" || die "forged push: $(cat "$tmp/out")"
if sreg bob push --name "$addr/alice/tools/hello" --tag 1.0 "$tmp/b.sif" >"$tmp/out" 2>&1; then
	die "bob pushed into alice's collection"
fi
grep -q "403" "$tmp/out" || die "bob's push: $(cat "$tmp/out")"
sreg bob delete -f "$addr/alice/tools/hello:1.0" >"$tmp/out" 2>&1 || true
grep -q "Response 403" "$tmp/out" || die "bob's delete: $(cat "$tmp/out")"
rm -f "$tmp/$addr-alice-tools-hello:1.0.sif"
sreg bob pull "$addr/alice/tools/hello:1.0" >/dev/null 2>&1 || die "alice's image vanished"
same "$tmp/a.sif" "$tmp/$addr-alice-tools-hello:1.0.sif"
ok "forged signature, foreign push and foreign delete refused; image intact"

# ---------------------------------------------------------------- library push, then sregistry and shub
lib() { # lib METHOD PATH [JSON]: a library API call with alice's token, printing .data
	curl -sf -X "$1" -H "Authorization: Bearer $alice_token" ${3:+--data "$3"} "$base$2"
}
jq_id() { python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["id"])'; }
lib_push() { # lib_push COLLECTION PRIVATE FILE NAME TAG
	local coll_id cont_id image_id hash size url
	coll_id=$(lib POST /v1/collections "{\"name\":\"$1\",\"entity\":\"$entity_id\",\"private\":$2}" | jq_id)
	cont_id=$(lib POST /v1/containers "{\"name\":\"$4\",\"collection\":\"$coll_id\"}" | jq_id)
	hash=$(sha "$3")
	size=$(stat -c %s "$3")
	image_id=$(lib POST /v1/images "{\"hash\":\"sha256.$hash\",\"container\":\"$cont_id\"}" | jq_id)
	url=$(lib POST "/v2/imagefile/$image_id" "{\"filesize\":$size,\"sha256sum\":\"$hash\"}" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["uploadURL"])')
	curl -sf -X PUT --data-binary "@$3" "$url" >/dev/null
	lib PUT "/v2/imagefile/$image_id/_complete" '{}' >/dev/null
	lib POST "/v2/tags/$cont_id" "{\"Tag\":\"$5\",\"ImageID\":\"$image_id\",\"Arch\":\"amd64\"}" >/dev/null
}
entity_id=$(lib GET /v1/entities/alice | jq_id)
lib_push lab false "$tmp/b.sif" tool 2.0
lib_push vault true "$tmp/c.sif" secret 1.0

rm -f "$tmp/$addr-alice-lab-tool:2.0.sif"
sreg bob pull "$addr/alice/lab/tool:2.0" >"$tmp/out" 2>&1 || die "sregistry pull of a library push: $(cat "$tmp/out")"
same "$tmp/b.sif" "$tmp/$addr-alice-lab-tool:2.0.sif"
commit=$(python3 "$here/shub_pull.py" --no-https "shub://$addr/alice/lab/tool:2.0" "$tmp/shub.sif")
same "$tmp/b.sif" "$tmp/shub.sif"
[[ $commit == "$(sha "$tmp/b.sif")" ]] || die "commit $commit is not the sha256"
digest=${commit:0:40}
python3 "$here/shub_pull.py" --no-https "shub://$addr/alice/lab/tool@$digest" "$tmp/shub2.sif" >/dev/null
same "$tmp/b.sif" "$tmp/shub2.sif"
ok "library push pulled through sregistry and shub:// (tag and @digest), byte-identical"

# Private: the owner's signed retry works, anyone else (and shub) is refused.
rm -f "$tmp/$addr-alice-vault-secret:1.0.sif"
sreg alice pull "$addr/alice/vault/secret:1.0" >"$tmp/out" 2>&1 || die "private pull by owner: $(cat "$tmp/out")"
same "$tmp/c.sif" "$tmp/$addr-alice-vault-secret:1.0.sif"
if sreg bob pull "$addr/alice/vault/secret:1.0" >"$tmp/out" 2>&1; then
	die "bob pulled alice's private image"
fi
grep -q "404" "$tmp/out" || die "bob's pull of a private image: $(cat "$tmp/out")"
if python3 "$here/shub_pull.py" --no-https "shub://$addr/alice/vault/secret:1.0" "$tmp/x.sif" 2>/dev/null; then
	die "shub served a private image anonymously"
fi
ok "private image: owner's signed pull works; bob and anonymous shub refused"

# ---------------------------------------------------------------- delete
sreg alice delete -f "$addr/alice/tools/hello:1.0" >"$tmp/out" 2>&1 || die "delete: $(cat "$tmp/out")"
grep -q "Response 204" "$tmp/out" || die "delete: $(cat "$tmp/out")"
if sreg alice pull "$addr/alice/tools/hello:1.0" >"$tmp/out" 2>&1; then die "deleted image still pullable"; fi
ok "sregistry delete by the owner"

# Every pull was counted: one sregistry and two shub pulls of alice/lab/tool (HEADs are not).
downloads=$(lib GET /v1/containers/alice/lab/tool |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["downloadCount"])')
[[ $downloads == 3 ]] || die "alice/lab/tool counted $downloads downloads, expected 3"
ok "downloads counted"
log "PASS ($checks checks)"
