#!/usr/bin/env bash
# Two stateless replicas: two `silo serve` processes on ONE PostgreSQL database and ONE S3
# store (a real s3s-fs), each with its own, empty data directory, as behind a load balancer.
#
#   1. pushes through replica A with Apptainer's Go library client (end2end/pushdriver):
#      a small image (single-part upload) and a 70 MiB one (v2 multipart: the parts go
#      straight to the store through presigned URLs), and pulls both through replica B
#      (303 to a presigned store URL, and streamed by B), byte-identical;
#   2. a live treemap event: a server-sent event stream open on B hears A's push;
#   3. the login rate limit counts failures made through both replicas together;
#   4. a download capability signed by A (`/download/<token>`) is honoured by B;
#   5. a push through B of an image A already holds is deduplicated across replicas;
#   6. a tag moved by a push through A is what B's image lookups (served from B's lookup
#      cache until PostgreSQL's NOTIFY empties it) and pulls answer, within seconds.
#
# Usage: end2end/run-replicas.sh [SILO_BINARY]
# Env:   REPLICAS_PORT (default 18700; uses PORT, PORT+1 and PORT+2 for the store)
#        SILO_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test)
#        REPLICAS_KEEP=1 keeps the temporary directory
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
silo=${1:-${CARGO_TARGET_DIR:-$HOME/.cache/silo-target}/debug/silo}
port=${REPLICAS_PORT:-18700}
port_a=$port port_b=$((port + 1)) port_s3=$((port + 2))
url_a=http://127.0.0.1:$port_a url_b=http://127.0.0.1:$port_b
admin_url=${SILO_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}

log() { printf '[run-replicas] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
pass() { log "PASS: $*"; passed=$((passed + 1)); }
passed=0

[[ -x $silo ]] || die "silo binary not found: $silo"
for cmd in go siftool curl psql sha256sum; do command -v "$cmd" >/dev/null || die "missing $cmd"; done
pg_isready -q -h 127.0.0.1 -p 5432 || die "PostgreSQL is not reachable at 127.0.0.1:5432"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/silo-replicas.XXXXXX")
db=silo_e2e_replicas_$RANDOM$RANDOM
pids=()
cleanup() {
	local rc=$?
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if ((rc != 0)); then
		for f in "$tmp"/silo-*.log; do
			[[ -f $f ]] && { log "last lines of $(basename "$f"):"; tail -n 30 "$f" >&2; }
		done
	fi
	psql "$admin_url" -qc "drop database if exists $db" >/dev/null 2>&1 || true
	[[ ${REPLICAS_KEEP:-0} == 1 ]] && log "kept $tmp" || rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT

# ---------------------------------------------------------------- the shared parts
psql "$admin_url" -qc "create database $db" || die "cannot create database $db"
database_url="${admin_url%/*}/$db"
# shellcheck source=end2end/s3-store.sh
source "$here/s3-store.sh"
start_s3_store "$tmp/s3" "$port_s3" || die "cannot start the S3 store"
pids+=("$s3_pid")
shared=(SILO_DATABASE_URL="$database_url" "${s3_env[@]}" SILO_LIBRARY__MULTIPART_PART_SIZE_MIB=16
	SILO_AUTH__RATE_LIMIT__MAX_FAILURES_PER_USER=4 SILO_ACCEPT_NON_SIF=false
	# One server key for all (sregistry secrets derive from it; a replica with another key
	# refuses to start).
	SILO_SECRET_KEY_FILE="$tmp/secret.key")
replica_env() { # replica_env NAME PORT: the environment of one replica
	printf '%s\n' "${shared[@]}" SILO_DATA_DIR="$tmp/data-$1" SILO_LISTEN="127.0.0.1:$2" \
		SILO_PUBLIC_URL="http://127.0.0.1:$2"
}
start_replica() { # start_replica NAME PORT
	local env_lines
	mapfile -t env_lines < <(replica_env "$1" "$2")
	mkdir -p "$tmp/data-$1"
	env "${env_lines[@]}" "$silo" serve >"$tmp/silo-$1.log" 2>&1 &
	pids+=($!)
	local deadline=$((SECONDS + 60))
	until curl -sf -o /dev/null "http://127.0.0.1:$2/version"; do
		((SECONDS < deadline)) || die "replica $1 did not start"
		sleep 0.2
	done
	log "replica $1 serves http://127.0.0.1:$2 (data dir $tmp/data-$1)"
}
on_a() { local env_lines; mapfile -t env_lines < <(replica_env a "$port_a"); env "${env_lines[@]}" "$silo" "$@"; }

start_replica a "$port_a"
start_replica b "$port_b"
on_a user create alice >/dev/null
token=$(on_a token create alice | tr -d '[:space:]')
[[ -n $token ]] || die "no token"

# ---------------------------------------------------------------- the push driver and SIFs
(
	cd "$here/pushdriver"
	GOFLAGS="-mod=readonly -overlay=$here/pushdriver/gomod-overlay.json" GOPROXY=off GOSUMDB=off \
		GONOSUMDB='*' GOWORK=off GO111MODULE=on GOTOOLCHAIN=local \
		GOCACHE=${GOCACHE:-$HOME/.cache/go-build} go build -o "$tmp/pushdriver" .
) || die "building end2end/pushdriver failed"
make_sif() { # make_sif OUT MIB
	local work
	work=$(mktemp -d "$tmp/sif.XXXXXX")
	head -c "$(($2 * 1024 * 1024))" /dev/urandom >"$work/rootfs"
	siftool new "$1" >/dev/null
	siftool add "$1" "$work/rootfs" --datatype 4 --parttype 2 --partfs 1 --partarch 2 >/dev/null
	rm -rf "$work"
}
push() { # push URL REF FILE
	"$tmp/pushdriver" -url "$1" -token "$token" -ref "$2" -file "$3" -timeout 5m >>"$tmp/push.log" 2>&1 ||
		die "push of $2 through $1 failed: $(tail -5 "$tmp/push.log")"
}

# ---------------------------------------------------------------- 2. events, opened first
curl -sN --max-time 120 "$url_b/api/events" >"$tmp/events-b.txt" 2>/dev/null &
events_pid=$!
pids+=($events_pid)
sleep 1

# ---------------------------------------------------------------- 1. push via A, pull via B
make_sif "$tmp/small.sif" 2
make_sif "$tmp/big.sif" 70
push "$url_a" alice/replicas/small:latest "$tmp/small.sif"
push "$url_a" alice/replicas/big:latest "$tmp/big.sif"
for name in small big; do
	want=$(sha256sum <"$tmp/$name.sif" | cut -d' ' -f1)
	# B answers 303 to a presigned URL of the store; curl follows it (without the token).
	code=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' \
		-H "Authorization: Bearer $token" "$url_b/v1/imagefile/alice/replicas/$name:latest?arch=amd64")
	[[ $code == "303 http://127.0.0.1:$port_s3/"* ]] || die "B answered '$code' for $name, want 303 to the store"
	got=$(curl -sfL "$url_b/v1/imagefile/alice/replicas/$name:latest?arch=amd64" | sha256sum | cut -d' ' -f1)
	[[ $got == "$want" ]] || die "$name pulled through B differs (got $got, want $want)"
done
# Every blob in the store is the only copy: neither data directory holds image bytes.
found=$(find "$tmp/data-a" "$tmp/data-b" -type f -size +1M | wc -l)
((found == 0)) || die "$found large files in the replicas' data directories"
pass "pushed through A (single-part and 70 MiB multipart straight to the store), pulled through B byte-identical"

# A replica in stream mode reads the store itself, whole and by range.
stream_env=()
mapfile -t stream_env < <(replica_env c "$((port + 3))")
mkdir -p "$tmp/data-c"
env "${stream_env[@]}" SILO_LIBRARY__DOWNLOAD_MODE=stream "$silo" serve >"$tmp/silo-c.log" 2>&1 &
pids+=($!)
until curl -sf -o /dev/null "http://127.0.0.1:$((port + 3))/version"; do sleep 0.2; done
got=$(curl -sf "http://127.0.0.1:$((port + 3))/v1/imagefile/alice/replicas/big:latest?arch=amd64" | sha256sum | cut -d' ' -f1)
[[ $got == "$(sha256sum <"$tmp/big.sif" | cut -d' ' -f1)" ]] || die "stream-mode replica C served other bytes"
part=$(curl -sf -H 'Range: bytes=1048576-1048675' "http://127.0.0.1:$((port + 3))/v1/imagefile/alice/replicas/big:latest?arch=amd64" | sha256sum | cut -d' ' -f1)
[[ $part == "$(tail -c +1048577 "$tmp/big.sif" | head -c 100 | sha256sum | cut -d' ' -f1)" ]] || die "range through C differs"
pass "a third replica in stream mode serves the store's bytes whole and by range"

# ---------------------------------------------------------------- 2. the event reached B
deadline=$((SECONDS + 15))
until grep -q '"path":"alice/replicas/big"' "$tmp/events-b.txt"; do
	((SECONDS < deadline)) || die "B's event stream never heard of A's push: $(cat "$tmp/events-b.txt")"
	sleep 0.2
done
count=$(grep -c '"path":"alice/replicas/small"' "$tmp/events-b.txt")
((count == 1)) || die "B's stream carried the push of small $count times, want once"
pass "B's server-sent event stream heard A's pushes, each once"

# ---------------------------------------------------------------- 3. the rate limit spans replicas
login() { # login URL -> HTTP status of a failed token sign-in
	curl -s -o /dev/null -w '%{http_code}' -X POST "$1/rpc/login" -H "origin: $1" \
		-H 'accept: application/json' --data 'username=alice&token=silo_wrong'
}
statuses=()
for url in "$url_a" "$url_b" "$url_a" "$url_b" "$url_a" "$url_b"; do statuses+=("$(login "$url")"); done
[[ ${statuses[*]} == "403 403 403 403 429 429" ]] ||
	die "failed sign-ins alternating A, B answered ${statuses[*]}, want 403 x4 then 429 on both"
pass "failed sign-ins through A and B count together (4 allowed, then 429 on either)"

# ---------------------------------------------------------------- 4. capabilities signed by A work on B
share_env=()
mapfile -t share_env < <(replica_env d "$((port + 4))")
mkdir -p "$tmp/data-d"
env "${share_env[@]}" SILO_LIBRARY__DOWNLOAD_MODE=redirect SILO_STORAGE__S3__REDIRECT_DOWNLOADS=false \
	"$silo" serve >"$tmp/silo-d.log" 2>&1 &
pids+=($!)
until curl -sf -o /dev/null "http://127.0.0.1:$((port + 4))/version"; do sleep 0.2; done
location=$(curl -s -o /dev/null -w '%{redirect_url}' -H "Authorization: Bearer $token" \
	"http://127.0.0.1:$((port + 4))/v1/imagefile/alice/replicas/small:latest?arch=amd64")
[[ $location == "http://127.0.0.1:$((port + 4))/download/"* ]] || die "replica D did not sign a download URL: $location"
other=${location/127.0.0.1:$((port + 4))/127.0.0.1:$port_a}
got=$(curl -sf "$other" | sha256sum | cut -d' ' -f1)
[[ $got == "$(sha256sum <"$tmp/small.sif" | cut -d' ' -f1)" ]] || die "A refused or garbled D's download capability"
pass "a download capability signed by one replica is honoured by another"

# ---------------------------------------------------------------- 5. dedup across replicas
push "$url_b" alice/replicas/again:latest "$tmp/big.sif"
blobs=$(find "$tmp/s3/silo/blobs" -type f | wc -l)
((blobs == 2)) || die "the store holds $blobs blobs after pushing big twice through two replicas, want 2"
pass "the same image pushed through B is stored once"

# ---------------------------------------------------------------- 6. a moved tag reaches B's lookups
lookup_hash() { # lookup_hash URL REF: the image hash that GET /v1/images answers
	curl -sf -H "Authorization: Bearer $token" "$1/v1/images/$2?arch=amd64" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["hash"])'
}
before=$(lookup_hash "$url_b" alice/replicas/small:latest) # now in B's lookup cache
[[ $before == "sha256.$(sha256sum <"$tmp/small.sif" | cut -d' ' -f1)" ]] || die "B looked up small:latest as '$before'"
make_sif "$tmp/newer.sif" 3
want="sha256.$(sha256sum <"$tmp/newer.sif" | cut -d' ' -f1)"
push "$url_a" alice/replicas/small:latest "$tmp/newer.sif"
deadline=$((SECONDS + 5))
until [[ $(lookup_hash "$url_b" alice/replicas/small:latest) == "$want" ]]; do
	((SECONDS < deadline)) ||
		die "5 s after A moved small:latest, B still looks it up as $(lookup_hash "$url_b" alice/replicas/small:latest)"
	sleep 0.1
done
got=$(curl -sfL "$url_b/v1/imagefile/alice/replicas/small:latest?arch=amd64" | sha256sum | cut -d' ' -f1)
[[ "sha256.$got" == "$want" ]] || die "B served other bytes for the moved tag"
pass "a tag moved by a push through A is what B's lookups and pulls answer"

log "all $passed checks passed"
