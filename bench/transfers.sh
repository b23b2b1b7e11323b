#!/usr/bin/env bash
# Transfer and API throughput of silo against references measured in the same run (issue 7).
#
#   bench/transfers.sh            (make bench-transfers)
#
# Installs what it needs (apt: nginx-light, docker-registry, wrk, siftool, curl,
# postgresql-client), builds the release `silo`, starts silo, nginx (one worker, sendfile,
# `dav_methods PUT`) and distribution (`docker-registry`, filesystem storage) on 127.0.0.1
# only, measures, stops them and prints a markdown table (also written to $TRANSFERS_OUT).
#
#   1. library pull of a 1 GiB SIF vs nginx and vs distribution serving the same bytes;
#   2. library push, v2 single-part and v2 multipart (server verifies sha256 and size) vs an
#      nginx PUT to disk and vs distribution's monolithic blob upload (POST + PUT ?digest=);
#      1 GiB pushes again with storage.fsync = false (acknowledged from the page cache, as
#      nginx's PUT is); the disk's own durable rate (dd conv=fdatasync of the same bytes) as
#      the reference of the durable pushes; an untimed `sync` before every timed write;
#   3. silo's peak RSS (VmHWM) over pushes and pulls of each size in TRANSFERS_SIZES;
#   4. wrk -t2 -c64 -d15s on GET /v1/images/E/C/N:latest and on the shub manifest
#      GET /api/container/E/C/N:latest over 10,000 seeded containers, SQLite and PostgreSQL
#      (on SQLite also with the lookup cache off), each after an unreported 5 s warm-up pass;
#   5. 50 parallel pulls of a 100 MiB SIF vs nginx (one pass sha256-checked, one timed);
#   6. `silo serve` start to the first 200 from /healthz with 10,000 containers.
#
# Env: TRANSFERS_SIZES (MiB, default "100 1024 4096"), TRANSFERS_REPEAT (timed runs per
# figure, median reported, default 3), TRANSFERS_CONTAINERS (default 10000),
# TRANSFERS_PARALLEL (default 50), TRANSFERS_WRK_SECONDS (default 15),
# TRANSFERS_PORT (first of three ports, default 18401), TRANSFERS_OUT (default
# $TMPDIR/silo-transfers.md), SILO_BENCH_POSTGRES (default postgres://postgres@127.0.0.1:5432;
# skipped when unreachable), TRANSFERS_SKIP_BUILD=1 (use the existing release binary),
# TRANSFERS_SILO (another silo binary to measure, e.g. an older build; implies no build),
# TRANSFERS_API=0 (transfers only: no seeding, no wrk, no start-up rounds).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
sizes=${TRANSFERS_SIZES:-100 1024 4096}
repeat=${TRANSFERS_REPEAT:-3}
containers=${TRANSFERS_CONTAINERS:-10000}
parallel=${TRANSFERS_PARALLEL:-50}
wrk_seconds=${TRANSFERS_WRK_SECONDS:-15}
port=${TRANSFERS_PORT:-18401}
out=${TRANSFERS_OUT:-${TMPDIR:-/tmp}/silo-transfers.md}
pg=${SILO_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
silo_port=$port nginx_port=$((port + 1)) registry_port=$((port + 2))
silo_url=http://127.0.0.1:$silo_port
nginx_url=http://127.0.0.1:$nginx_port
registry_url=http://127.0.0.1:$registry_port
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/silo-target}
silo=${TRANSFERS_SILO:-$CARGO_TARGET_DIR/release/silo}
driver=$here/transfers.py

log() { printf '[transfers] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- tools (idempotent)
need=()
for p in nginx-light docker-registry wrk siftool curl sqlite3 python3; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
command -v psql >/dev/null || need+=(postgresql-client)
if ((${#need[@]})); then
	log "installing ${need[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if [[ ${TRANSFERS_SKIP_BUILD:-0} != 1 && -z ${TRANSFERS_SILO:-} ]]; then
	log "cargo build --release -p server"
	(cd "$top" && cargo build -q --release -p server)
fi
[[ -x $silo ]] || die "no release binary at $silo"
for p in $silo_port $nginx_port $registry_port; do
	! curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$p/" || die "port $p is in use (set TRANSFERS_PORT)"
done

# ---------------------------------------------------------------- processes and clean-up
tmp=$(mktemp -d "${TMPDIR:-/tmp}/silo-transfers.XXXXXX")
silo_pid= nginx_pid= registry_pid= pg_db=
stop() { # stop PID
	[[ -n $1 ]] && kill -0 "$1" 2>/dev/null || return 0
	kill "$1" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
cleanup() {
	local rc=$?
	stop "$silo_pid"; stop "$nginx_pid"; stop "$registry_pid"
	[[ -z $pg_db ]] || psql "$pg/postgres" -qc "drop database if exists $pg_db" >/dev/null 2>&1 || true
	((rc == 0)) || { for f in "$tmp"/*.log; do [[ -f $f ]] && { log "--- $f"; tail -n 15 "$f" >&2; }; done; }
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_http() { # wait_http URL PID NAME
	local deadline=$((SECONDS + 60))
	until curl -s -o /dev/null --max-time 2 "$1"; do
		kill -0 "$2" 2>/dev/null || die "$3 exited before answering $1"
		((SECONDS < deadline)) || die "$3 did not answer $1 within 60 s"
		sleep 0.1
	done
}

silo_env=()
# Every client of this benchmark comes from 127.0.0.1, so the per-address limit on anonymous
# pulls (600 a minute by default) would answer 429 within a second of wrk's run: it is off,
# and what is measured is the cost of the manifests and downloads themselves.
silo_extra=(SILO_LIMITS__ANONYMOUS_PULLS_PER_MINUTE=0)
start_silo() { # start_silo DATA_DIR [DATABASE_URL]
	silo_env=(SILO_DATA_DIR="$1" SILO_LISTEN="127.0.0.1:$silo_port" SILO_PUBLIC_URL="$silo_url" "${silo_extra[@]}")
	[[ -z ${2:-} ]] || silo_env+=(SILO_DATABASE_URL="$2")
	env "${silo_env[@]}" "$silo" serve >>"$tmp/silo.log" 2>&1 &
	silo_pid=$!
	wait_http "$silo_url/healthz" "$silo_pid" silo
}
stop_silo() { stop "$silo_pid"; silo_pid=; }
peak_mib() { awk '/^VmHWM:/ {printf "%.0f", $2 / 1024}' "/proc/$silo_pid/status"; }

start_nginx() { # serves $tmp/www (sendfile, one worker) and accepts PUT under /up/
	mkdir -p "$tmp/nginx/body" "$tmp/www/up"
	# As root, the worker must be root too to rename its temporary files into $tmp/www.
	cat >"$tmp/nginx/nginx.conf" <<EOF
$( ((EUID == 0)) && echo 'user root;')
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path $tmp/nginx/body;
    server {
        listen 127.0.0.1:$nginx_port;
        root $tmp/www;
        location /up/ {
            dav_methods PUT;
            create_full_put_path on;
            client_max_body_size 0;
        }
    }
}
EOF
	nginx -e "$tmp/nginx.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" &
	nginx_pid=$!
	wait_http "$nginx_url/" "$nginx_pid" nginx
}

start_registry() {
	mkdir -p "$tmp/registry"
	cat >"$tmp/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $tmp/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$registry_port
EOF
	docker-registry serve "$tmp/registry.yml" >>"$tmp/registry.log" 2>&1 &
	registry_pid=$!
	wait_http "$registry_url/v2/" "$registry_pid" distribution
}

# ---------------------------------------------------------------- measuring helpers
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
mibps() { awk -v m="$1" -v s="$2" 'BEGIN {printf "%.0f", m / s}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
pull_time() { # pull_time URL: seconds for one whole download (nothing if not a 200)
	curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$1" | awk '$1 == 200 {print $2}'
}
durable_copy_time() { # durable_copy_time FILE: seconds to write FILE's bytes to this disk and fdatasync them
	local t0 t1
	t0=$(date +%s.%N)
	dd if="$1" of="$tmp/durable-copy" bs=1M conv=fdatasync status=none || return 1
	t1=$(date +%s.%N)
	rm -f "$tmp/durable-copy"
	awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}'
}
verify() { # verify URL SHA256: one full download, hash checked
	local got
	got=$(curl -sf "$1" | sha256sum | cut -d' ' -f1)
	[[ $got == "$2" ]] || die "$1: sha256 $got, expected $2"
}
make_sif() { # make_sif OUT MIB: a SIF whose primary partition is MIB MiB of random bytes
	local w=$tmp/sifwork
	mkdir -p "$w"
	head -c "$(($2 * 1024 * 1024))" /dev/urandom >"$w/rootfs"
	printf 'Bootstrap: scratch\n' >"$w/def"
	siftool new "$1" >/dev/null
	siftool add "$1" "$w/def" --datatype 1 >/dev/null
	siftool add "$1" "$w/rootfs" --datatype 4 --parttype 2 --partfs 1 --partarch 2 >/dev/null
	rm -rf "$w"
}
token() { # token USER (against the running silo's data)
	env "${silo_env[@]}" "$silo" user create "$1" >/dev/null 2>&1
	env "${silo_env[@]}" "$silo" token create "$1" | tr -d '[:space:]'
}

rows=() rss_rows=()
row() { rows+=("| $1 | $2 | $3 | $4 | $5 |"); log "$1: $2 | $3 | $4 | $5"; }

# ---------------------------------------------------------------- 1-3, 5: transfers
start_nginx
start_registry
for size in $sizes; do
	n=$repeat
	((size <= 1024)) || n=1
	sif=$tmp/img-$size.sif
	log "== ${size} MiB: making the SIF"
	make_sif "$sif" "$size"
	bytes=$(stat -c %s "$sif")
	mib=$(awk -v b="$bytes" 'BEGIN {print b / 1048576}')
	sha=$(sha256sum "$sif" | cut -d' ' -f1)
	md5=$(md5sum "$sif" | cut -d' ' -f1)
	data=$tmp/silo-$size
	start_silo "$data"
	tok=$(token bench)

	# Each repetition measures silo and the references back to back, so that load from
	# other processes on the machine falls on all of them alike; the median of each is used.
	refs=0
	((size != 1024)) || refs=1
	blob=$registry_url/v2/bench/blob/blobs/sha256:$sha
	url=$silo_url/v1/imagefile/bench/s$size/single-1:latest
	t=() # t[figure] = newline-separated seconds
	add() { [[ $2 =~ ^[0-9.]+$ ]] || die "measurement $1 of ${size} MiB failed"; t[$1]+="$2"$'\n'; }
	# Every timed write starts on a quiet disk (an untimed `sync` first): otherwise it pays
	# for the write-back of what the one before it left in the page cache.
	for i in $(seq "$n"); do
		sync
		add 0 "$(python3 "$driver" push-single "$silo_url" "$tok" "bench/s$size/single-$i" "$sif" "$sha" "$md5")"
		sync
		add 1 "$(python3 "$driver" push-multi "$silo_url" "$tok" "bench/s$size/multi-$i" "$sif" "$sha")"
		if ((refs)); then
			sync
			add 2 "$(python3 "$driver" put "$nginx_url/up/img.sif" "$sif")"
			sync
			add 3 "$(python3 "$driver" oci-push "$registry_url" bench/blob "$sif" "$sha")"
			# The disk's own durable write rate (written, then one fdatasync), against which
			# a push acknowledged only once its bytes are on disk can be read (nginx's PUT
			# answers from the page cache).
			sync
			add 10 "$(durable_copy_time "$sif")"
		fi
		if ((i == 1)); then # first reads: hash-checked (and they warm the page cache)
			verify "$url" "$sha"
			verify "$silo_url/v1/imagefile/bench/s$size/multi-1:latest" "$sha"
			if ((refs)); then
				mv "$tmp/www/up/img.sif" "$tmp/www/img.sif"
				verify "$nginx_url/img.sif" "$sha"
				verify "$blob" "$sha"
			fi
		fi
		add 4 "$(pull_time "$url")"
		if ((refs)); then
			add 5 "$(pull_time "$nginx_url/img.sif")"
			add 6 "$(pull_time "$blob")"
		fi
	done
	med() { printf '%s' "${t[$1]}" | median; }
	t_single=$(med 0) t_multi=$(med 1) t_pull=$(med 4)
	rss_rows+=("| ${size} MiB | $(peak_mib) MiB | $n single-part + $n multipart pushes, $((n + 2)) pulls |")

	if ((refs)); then
		rm -f "$tmp/www/img.sif" "$tmp/www/up/img.sif"
		s=$(mibps "$mib" "$t_pull") ng=$(mibps "$mib" "$(med 5)") rg=$(mibps "$mib" "$(med 6)")
		row "library pull, 1 GiB (GET /v1/imagefile, 200)" "$s MiB/s" "nginx sendfile: $ng MiB/s; distribution: $rg MiB/s" \
			"$(ratio "$s" "$ng")x nginx; $(ratio "$s" "$rg")x distribution" ">= 1.0x distribution"
		ng=$(mibps "$mib" "$(med 2)") rg=$(mibps "$mib" "$(med 3)") dk=$(mibps "$mib" "$(med 10)")
		row "disk: the same 1 GiB written and fdatasynced (dd conv=fdatasync)" "$dk MiB/s" "nginx PUT: $ng MiB/s" \
			"$(ratio "$dk" "$ng")x nginx" "what the disk stores durably"
		s=$(mibps "$mib" "$t_single")
		row "library push, 1 GiB, single-part (POST, PUT, _complete), durable" "$s MiB/s" "nginx PUT: $ng MiB/s; distribution: $rg MiB/s; disk: $dk MiB/s" \
			"$(ratio "$s" "$ng")x nginx; $(ratio "$s" "$rg")x distribution; $(ratio "$s" "$dk")x disk" ">= 0.8x nginx"
		s=$(mibps "$mib" "$t_multi")
		row "library push, 1 GiB, multipart ($(((bytes + 64 * 1048576 - 1) / (64 * 1048576))) parts), durable" "$s MiB/s" "nginx PUT: $ng MiB/s; distribution: $rg MiB/s; disk: $dk MiB/s" \
			"$(ratio "$s" "$ng")x nginx; $(ratio "$s" "$rg")x distribution; $(ratio "$s" "$dk")x disk" ">= 0.8x nginx"

		# The same pushes with storage.fsync = false: like nginx's PUT, acknowledged once the
		# kernel has the bytes. nginx is measured again alongside, back to back.
		stop_silo
		silo_extra+=(SILO_STORAGE__FSYNC=false)
		start_silo "$data-nofsync"
		tok=$(token bench)
		for i in $(seq "$n"); do
			sync
			add 7 "$(python3 "$driver" push-single "$silo_url" "$tok" "bench/s$size/single-$i" "$sif" "$sha" "$md5")"
			sync
			add 8 "$(python3 "$driver" push-multi "$silo_url" "$tok" "bench/s$size/multi-$i" "$sif" "$sha")"
			sync
			add 9 "$(python3 "$driver" put "$nginx_url/up/img.sif" "$sif")"
		done
		verify "$url" "$sha"
		verify "$silo_url/v1/imagefile/bench/s$size/multi-1:latest" "$sha"
		rm -f "$tmp/www/up/img.sif"
		unset 'silo_extra[-1]'
		ng=$(mibps "$mib" "$(med 9)")
		s=$(mibps "$mib" "$(med 7)")
		row "library push, 1 GiB, single-part, storage.fsync = false" "$s MiB/s" "nginx PUT: $ng MiB/s; distribution: $rg MiB/s" \
			"$(ratio "$s" "$ng")x nginx; $(ratio "$s" "$rg")x distribution" ">= 0.8x nginx"
		s=$(mibps "$mib" "$(med 8)")
		row "library push, 1 GiB, multipart, storage.fsync = false" "$s MiB/s" "nginx PUT: $ng MiB/s; distribution: $rg MiB/s" \
			"$(ratio "$s" "$ng")x nginx; $(ratio "$s" "$rg")x distribution" ">= 0.8x nginx"
		rm -rf "$data-nofsync"
	fi
	if ((size == 100 && parallel > 0)); then
		cp "$sif" "$tmp/www/img.sif"
		log "$parallel parallel pulls of ${size} MiB: silo, then nginx (hash-checked pass, then timed pass)"
		par() { # par URL: wall seconds of $parallel concurrent downloads
			local t0 t1
			t0=$(date +%s.%N)
			seq "$parallel" | xargs -P "$parallel" -I{} curl -sf -o /dev/null "$1" || die "a parallel pull of $1 failed"
			t1=$(date +%s.%N)
			awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}'
		}
		for u in "$url" "$nginx_url/img.sif"; do
			bad=$(seq "$parallel" | xargs -P "$parallel" -I{} sh -c "curl -sf '$u' | sha256sum" | grep -vc "^$sha " || true)
			((bad == 0)) || die "$bad of $parallel parallel downloads of $u had the wrong sha256"
		done
		t_par=$(par "$url")
		t_par_ng=$(par "$nginx_url/img.sif")
		rm -f "$tmp/www/img.sif"
		s=$(mibps "$(awk -v m="$mib" -v p="$parallel" 'BEGIN {print m * p}')" "$t_par")
		ng=$(mibps "$(awk -v m="$mib" -v p="$parallel" 'BEGIN {print m * p}')" "$t_par_ng")
		row "$parallel parallel library pulls of 100 MiB, aggregate" "$s MiB/s" "nginx: $ng MiB/s" "$(ratio "$s" "$ng")x nginx" "(none set)"
		rss_rows+=("| ${size} MiB, after $parallel parallel pulls | $(peak_mib) MiB | the same silo: the pulls above, then two rounds of $parallel concurrent pulls |")
	fi
	if ((size != 1024)); then
		row "library pull / single-part / multipart push, ${size} MiB" \
			"$(mibps "$mib" "$t_pull") / $(mibps "$mib" "$t_single") / $(mibps "$mib" "$t_multi") MiB/s" "-" "-" "-"
	fi
	stop_silo
	rm -rf "$data" "$sif"
done
stop "$nginx_pid"; nginx_pid=
stop "$registry_pid"; registry_pid=

# ---------------------------------------------------------------- 4, 6: API throughput and start-up
wrk_run() { # wrk_run LABEL PATHS_FILE GOAL
	local o rps p99 errs
	o=$(WRK_PATHS=$2 wrk -t2 -c64 -d"${wrk_seconds}s" --latency -s "$here/wrk-paths.lua" "$silo_url")
	rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$o")
	p99=$(awk '$1 == "99%" {print $2}' <<<"$o")
	errs=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$o")
	[[ -z $errs ]] || die "$1: $errs responses were not 2xx/3xx"
	grep -q 'Socket errors' <<<"$o" && log "$1: $(grep 'Socket errors' <<<"$o")"
	row "$1" "$rps req/s, p99 $p99" "-" "-" "$3"
}
api_round() { # api_round DB_LABEL DATA_DIR [DATABASE_URL [noseed]]
	local data=$2 t0 t1 paths=$tmp/paths
	mkdir -p "$data"
	if [[ ${4:-} != noseed ]]; then
		log "seeding $containers containers ($1)"
		t0=$(date +%s.%N)
		env SILO_DATA_DIR="$data" ${3:+SILO_DATABASE_URL="$3"} "$silo" seed --containers "$containers" \
			--private-every 0 --max-kib 4 >>"$tmp/seed.log" 2>&1 || die "silo seed failed"
		t1=$(date +%s.%N)
		row "silo seed --containers $containers --max-kib 4 ($1, release)" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f s", b - a}')" "-" "-" "-"
	fi
	start_silo "$data" "${3:-}"
	# The seeded names, straight from the database the API serves.
	local q="select e.name || '/' || c.name || '/' || k.name from containers k
		join collections c on k.collection_id = c.id join entities e on c.entity_id = e.id"
	if [[ -n ${3:-} ]]; then
		psql "$3" -Atc "$q" >"$paths.names"
	else
		sqlite3 "$data/silo.db" "$q" >"$paths.names"
	fi
	[[ -s $paths.names ]] || die "no seeded containers found through /v1/search"
	sed 's|^|/v1/images/|; s|$|:latest|' "$paths.names" >"$paths.images"
	sed 's|^|/api/container/|; s|$|:latest|' "$paths.names" >"$paths.shub"
	log "$1: $(wc -l <"$paths.names") container names for wrk"
	# A registry in service has looked its names up before: one unreported 5 s pass over the
	# same names fills the lookup cache (it holds all 10,000) and SQLite's page cache.
	warm() { WRK_PATHS=$1 wrk -t2 -c64 -d5s -s "$here/wrk-paths.lua" "$silo_url" >/dev/null; }
	warm "$paths.images"
	warm "$paths.shub"
	local goal=">= 15k req/s, p99 < 20 ms"
	[[ $1 == SQLite ]] || goal="(set for SQLite)"
	wrk_run "GET /v1/images/E/C/N:latest, $containers containers, $1" "$paths.images" "$goal"
	wrk_run "shub manifest GET /api/container/E/C/N:latest, $containers containers, $1" "$paths.shub" "$goal"
	stop_silo
	if [[ $1 == SQLite ]]; then
		# The same without the lookup cache: what every lookup costs in the database.
		silo_extra+=(SILO_LOOKUP_CACHE_ENTRIES=0)
		start_silo "$data" "${3:-}"
		warm "$paths.images"
		wrk_run "GET /v1/images/E/C/N:latest, $1, lookup cache off" "$paths.images" "-"
		wrk_run "shub manifest, $1, lookup cache off" "$paths.shub" "-"
		stop_silo
		unset 'silo_extra[-1]'
	fi
	local times=()
	for _ in 1 2 3 4 5; do
		times+=("$(env SILO_DATA_DIR="$data" SILO_LISTEN="127.0.0.1:$silo_port" ${3:+SILO_DATABASE_URL="$3"} \
			python3 "$driver" startup "$silo_url" "$silo" serve)")
	done
	row "silo serve to first 200 of /healthz, $containers containers, $1 (median of 5)" \
		"$(printf '%s\n' "${times[@]}" | median | awk '{printf "%.0f ms", $1}')" "-" "-" "< 300 ms"
}
if [[ ${TRANSFERS_API:-1} == 0 ]]; then
	log "SKIPPED: API rounds (TRANSFERS_API=0)"
else
api_round SQLite "$tmp/api-sqlite"
rm -rf "$tmp/api-sqlite"
fi
if [[ ${TRANSFERS_API:-1} == 0 ]]; then
	:
elif pg_isready -q -h 127.0.0.1 -p 5432; then
	pg_db=silo_bench_$RANDOM$RANDOM
	psql "$pg/postgres" -qc "create database $pg_db" >/dev/null
	# A throw-away database: no fsync per commit while seeding (reads are what is measured).
	psql "$pg/postgres" -qc "alter database $pg_db set synchronous_commit = off" >/dev/null
	api_round PostgreSQL "$tmp/api-pg" "$pg/$pg_db"
	# sqlx negotiates TLS by default (sslmode=prefer), on loopback too: the same data without.
	api_round "PostgreSQL, sslmode=disable" "$tmp/api-pg" "$pg/$pg_db?sslmode=disable" noseed
	psql "$pg/postgres" -qc "drop database $pg_db" >/dev/null
	pg_db=
else
	log "SKIPPED: PostgreSQL rounds (nothing at 127.0.0.1:5432)"
fi

# ---------------------------------------------------------------- report
{
	echo "Machine: $(nproc) cores ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/^MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM; $(. /etc/os-release && echo "$PRETTY_NAME"); $(date -u +%Y-%m-%d)."
	echo "Command: bench/transfers.sh (TRANSFERS_SIZES=\"$sizes\" TRANSFERS_REPEAT=$repeat); $("$silo" --version 2>/dev/null | tr -d "\n") at $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?'); nginx $(nginx -v 2>&1 | sed 's|.*/||'); distribution $(dpkg-query -W -f='${Version}' docker-registry); wrk $(dpkg-query -W -f='${Version}' wrk); $(curl --version | head -1 | cut -d' ' -f1-2)."
	echo
	echo "| figure | silo | reference (same run) | ratio | goal |"
	echo "|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
	echo
	echo "| image | peak RSS of silo (VmHWM) | transfers in that silo process |"
	echo "|---|---|---|"
	printf '%s\n' "${rss_rows[@]}"
} | tee "$out"
log "written to $out"
