#!/usr/bin/env bash
# Keyserver test with a real HKP client: GnuPG (gpg + dirmngr) against a throwaway
# `silo serve`.
#
#   1. gpg generates a key in a throwaway GNUPGHOME;
#   2. `gpg --send-keys` (anonymous, as dirmngr always is) is refused and stores nothing;
#   3. the key is added with curl and a Bearer token (as `apptainer key push` does);
#   4. in a second, empty GNUPGHOME, `gpg --recv-keys <FPR>` imports it anonymously and the
#      imported fingerprint matches; `gpg --search-keys <email>` finds it;
#   5. Apptainer's key client (the code behind `apptainer key push|pull|search` and the key
#      lookups of signature verification; ./keyclient) pushes a second key with the token,
#      is refused without it, pulls by fingerprint and key ID, and searches.
#
# Usage: end2end/run-keyserver.sh [SILO_BINARY]
#   SILO_BINARY  default ${CARGO_TARGET_DIR:-$HOME/.cache/silo-target}/debug/silo
# Env:
#   KEYSERVER_PORT     port for Silo on 127.0.0.1 (default 18190)
#   SILO_DATABASE_URL  passed through (default: SQLite in the temp dir)
#   KEYSERVER_KEEP=1   keep the temp dir (GNUPGHOMEs, data dir, silo.log)
#
# Needs: apt-get install gnupg dirmngr curl golang-go golang-github-apptainer-container-key-client-dev
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
silo=${1:-${CARGO_TARGET_DIR:-$HOME/.cache/silo-target}/debug/silo}
port=${KEYSERVER_PORT:-18190}
base_url=http://127.0.0.1:$port
keyserver=hkp://127.0.0.1:$port
email=alice.e2e@example.org

log() { printf '[run-keyserver] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- preflight
[[ -x $silo ]] || die "silo binary not found or not executable: $silo (build it first, or pass its path as \$1)"
[[ $port =~ ^[0-9]+$ ]] || die "KEYSERVER_PORT must be a number, got '$port'"
install_hint="apt-get install -y gnupg dirmngr curl golang-go golang-github-apptainer-container-key-client-dev"
for cmd in gpg gpgconf dirmngr curl go; do
	command -v "$cmd" >/dev/null || die "missing $cmd; install with: $install_hint"
done
for d in github.com/apptainer/container-key-client/client github.com/sylabs/json-resp; do
	[[ -d /usr/share/gocode/src/$d ]] || die "missing /usr/share/gocode/src/$d; install with: $install_hint"
done
if curl -s -o /dev/null --max-time 2 "$base_url/"; then
	die "something already listens on 127.0.0.1:$port (set KEYSERVER_PORT)"
fi
# dirmngr talks to 127.0.0.1 directly: no proxies.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

# ---------------------------------------------------------------- temp dir + cleanup
# Short path: gpg-agent and dirmngr put their sockets in GNUPGHOME.
tmp=$(mktemp -d /tmp/silo-ks.XXXXXX)
silo_pid=
homes=()
cleanup() {
	local rc=$?
	for home in "${homes[@]}"; do
		GNUPGHOME=$home gpgconf --kill all 2>/dev/null || true
	done
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
	if [[ ${KEYSERVER_KEEP:-0} == 1 ]]; then
		log "kept $tmp"
	else
		rm -rf "$tmp"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# new_home DIR: an empty GNUPGHOME whose dirmngr uses plain HKP to Silo, no Tor, no proxy.
new_home() {
	local home=$1
	mkdir -m 700 "$home"
	cat >"$home/dirmngr.conf" <<-EOF
		keyserver $keyserver
		no-use-tor
		disable-ipv6
		verbose
		log-file $home/dirmngr.log
	EOF
	printf 'keyserver %s\n' "$keyserver" >"$home/gpg.conf"
	homes+=("$home")
}
g() { # g HOME ARGS...: gpg in HOME, non-interactive
	local home=$1
	shift
	GNUPGHOME=$home gpg --batch --no-tty --keyserver "$keyserver" "$@"
}

# ---------------------------------------------------------------- Silo
silo_env=(SILO_DATA_DIR="$tmp/data" SILO_LISTEN="127.0.0.1:$port" SILO_PUBLIC_URL="$base_url"
	SILO_LOG=info)
mkdir -p "$tmp/data"
env "${silo_env[@]}" "$silo" serve >"$tmp/silo.log" 2>&1 &
silo_pid=$!
log "started silo (pid $silo_pid) on $base_url"
deadline=$((SECONDS + 30))
until curl -sf --max-time 2 -o /dev/null "$base_url/healthz"; do
	kill -0 "$silo_pid" 2>/dev/null || die "silo exited before answering /healthz"
	((SECONDS < deadline)) || die "silo did not answer $base_url/healthz within 30 s"
	sleep 0.2
done
env "${silo_env[@]}" "$silo" user create alice >&2 || die "silo user create alice failed"
token=$(env "${silo_env[@]}" "$silo" token create alice | tr -d '[:space:]')
[[ -n $token ]] || die "silo token create printed no token"

# ---------------------------------------------------------------- 1. a key
sender=$tmp/sender
new_home "$sender"
g "$sender" --passphrase '' --quick-gen-key "Alice E2E <$email>" ed25519 sign 1y 2>"$tmp/gen.log" ||
	die "gpg --quick-gen-key failed: $(cat "$tmp/gen.log")"
fpr=$(g "$sender" --with-colons --list-keys "$email" | awk -F: '$1 == "fpr" {print $10; exit}')
[[ $fpr =~ ^[0-9A-F]{40}$ ]] || die "no fingerprint for the generated key (got '$fpr')"
log "generated key $fpr"

# ---------------------------------------------------------------- 2. anonymous send refused
if g "$sender" --send-keys "$fpr" >"$tmp/send.log" 2>&1; then
	cat "$tmp/send.log" >&2
	die "anonymous gpg --send-keys succeeded; it must be refused"
fi
# It reached Silo and was answered 401 (dirmngr reports any non-200 as "No data").
grep -q 'status 401' "$sender/dirmngr.log" || {
	cat "$tmp/send.log" "$sender/dirmngr.log" >&2
	die "dirmngr did not get the 401 from Silo"
}
log "anonymous gpg --send-keys refused: $(grep -m1 'status 401' "$sender/dirmngr.log")"
status=$(curl -s -o /dev/null -w '%{http_code}' "$base_url/pks/lookup?op=get&options=mr&search=0x$fpr")
[[ $status == 404 ]] || die "after the refused send, the lookup answered $status instead of 404"
status=$(curl -s -o "$tmp/anon.txt" -w '%{http_code}' \
	--data-urlencode "keytext@-" "$base_url/pks/add" < <(g "$sender" --armor --export "$fpr"))
[[ $status == 401 ]] || die "anonymous curl POST /pks/add answered $status, expected 401"

# ---------------------------------------------------------------- 3. authenticated add
g "$sender" --armor --export "$fpr" >"$tmp/alice.asc"
status=$(curl -s -o "$tmp/add.txt" -w '%{http_code}' -H "Authorization: Bearer $token" \
	--data-urlencode "keytext@$tmp/alice.asc" "$base_url/pks/add")
[[ $status == 200 ]] || die "authenticated POST /pks/add answered $status: $(cat "$tmp/add.txt")"
grep -qx "added: $fpr" "$tmp/add.txt" || die "unexpected /pks/add answer: $(cat "$tmp/add.txt")"
log "added with a Bearer token: $(cat "$tmp/add.txt")"
# The secret key is refused, even with a token.
g "$sender" --pinentry-mode loopback --passphrase '' --armor --export-secret-keys "$fpr" >"$tmp/secret.asc"
status=$(curl -s -o "$tmp/secret.txt" -w '%{http_code}' -H "Authorization: Bearer $token" \
	--data-urlencode "keytext@$tmp/secret.asc" "$base_url/pks/add")
[[ $status == 400 ]] || die "POST of a secret key answered $status, expected 400"
log "secret key refused: $(cat "$tmp/secret.txt")"

# ---------------------------------------------------------------- 4. anonymous receive + search
receiver=$tmp/receiver
new_home "$receiver"
g "$receiver" --recv-keys "$fpr" >"$tmp/recv.log" 2>&1 || {
	cat "$tmp/recv.log" >&2
	die "gpg --recv-keys $fpr failed"
}
got=$(g "$receiver" --with-colons --list-keys | awk -F: '$1 == "fpr" {print $10; exit}')
[[ $got == "$fpr" ]] || die "imported fingerprint '$got' differs from the generated $fpr"
g "$receiver" --with-colons --list-keys "$fpr" | grep -q "^uid:.*Alice E2E <$email>" ||
	die "the imported key lacks its user ID"
log "gpg --recv-keys imported $got"

g "$receiver" --with-colons --search-keys "$email" >"$tmp/search.txt" 2>"$tmp/search.log" || {
	cat "$tmp/search.txt" "$tmp/search.log" >&2
	die "gpg --search-keys $email failed"
}
grep -q "^pub:$fpr:" "$tmp/search.txt" || {
	cat "$tmp/search.txt" "$tmp/search.log" >&2
	die "gpg --search-keys did not list $fpr"
}
grep -qi "^uid:Alice E2E <$email>" "$tmp/search.txt" || die "search result lacks the user ID"
log "gpg --search-keys $email found $fpr"

# gpg's lookup by long key ID too (what signature verification asks for).
g "$receiver" --yes --delete-keys "$fpr" 2>/dev/null
g "$receiver" --recv-keys "${fpr:24}" >"$tmp/recv2.log" 2>&1 || {
	cat "$tmp/recv2.log" >&2
	die "gpg --recv-keys by key ID ${fpr:24} failed"
}
log "gpg --recv-keys by long key ID works"

# ---------------------------------------------------------------- 5. Apptainer's key client
# Offline build against Debian's Go packages (replace directives in keyclient/go.mod).
export GOFLAGS=-mod=readonly GOPROXY=off GOSUMDB=off GONOSUMDB='*' GOWORK=off GO111MODULE=on \
	GOTOOLCHAIN=local GOCACHE=${GOCACHE:-$HOME/.cache/go-build}
(cd "$here/keyclient" && go vet ./... && go test -c -o "$tmp/keyclient.test" .) ||
	die "building the key client test failed"
kc_email=bob.keyclient@example.org
g "$sender" --passphrase '' --quick-gen-key "Bob Keyclient <$kc_email>" rsa2048 sign 0 2>>"$tmp/gen.log" ||
	die "gpg --quick-gen-key failed: $(cat "$tmp/gen.log")"
kc_fpr=$(g "$sender" --with-colons --list-keys "$kc_email" | awk -F: '$1 == "fpr" {print $10; exit}')
g "$sender" --armor --export "$kc_fpr" >"$tmp/bob.asc"
# The key client sends its token over plain http only to the host name "localhost".
(cd "$here/keyclient" &&
	SILO_KEYSERVER="http://localhost:$port" SILO_TOKEN=$token SILO_KEY_FILE="$tmp/bob.asc" \
		SILO_KEY_FPR=$kc_fpr SILO_KEY_EMAIL=$kc_email "$tmp/keyclient.test" -test.v -test.count=1) ||
	die "Apptainer's key client test failed"
log "Apptainer's key client: push (token), pull, search work; anonymous push refused"

log "PASS"
