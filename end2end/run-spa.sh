#!/usr/bin/env bash
# Browser test of the web interface: starts a throw-away Silo serving the Trunk build in dist/,
# pushes a tiny public image (and a private one) through the library API with seed.mjs, builds
# the Go push driver (end2end/pushdriver, offline, for the treemap's live-update test), and
# runs end2end/tests/*.spec.ts in the system Chromium with Playwright. Writes
# docs/screenshots/container.png.
#
# Usage: end2end/run-spa.sh [SILO_BINARY]
#   SILO_BINARY  default ${CARGO_TARGET_DIR:-$HOME/.cache/silo-target}/debug/silo
# Env:
#   SPA_PORT        port for Silo on 127.0.0.1 (default 18082)
#   SPA_EMBEDDED=1  serve the SPA embedded in the binary instead of dist/ (release builds)
#   SPA_KEEP=1      keep the temp dir (data dir, silo.log)
#   CHROMIUM_PATH   browser binary (default /usr/bin/chromium)
#   PLAYWRIGHT_ARGS extra arguments for `playwright test` (e.g. a spec file or `-g <title>`)
#
# Needs: dist/ (`trunk build --release`), node + npm, chromium, go with Debian's
# golang-github-apptainer-container-library-client-dev, and @playwright/test in
# end2end/node_modules (installed here with `npm ci` if missing; never `playwright install`).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

silo=${1:-${CARGO_TARGET_DIR:-$HOME/.cache/silo-target}/debug/silo}
port=${SPA_PORT:-18082}
base_url=http://127.0.0.1:$port
centre="Silo E2E Centre"
public_container=alice/e2e/hello
private_container=alice/hidden/secret

log() { printf '[run-spa] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- preflight
[[ -x $silo ]] || die "silo binary not found or not executable: $silo (build it first, or pass its path as \$1)"
[[ $port =~ ^[0-9]+$ ]] || die "SPA_PORT must be a number, got '$port'"
if [[ ${SPA_EMBEDDED:-0} != 1 ]]; then
	[[ -f $root/dist/index.html ]] || die "no dist/index.html: build the SPA first (trunk build --release)"
fi
command -v node >/dev/null || die "node is missing"
chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
[[ -x $chromium ]] || die "no browser at $chromium (apt-get install -y chromium)"
if [[ ! -d $here/node_modules/@playwright/test ]]; then
	log "installing @playwright/test into end2end/node_modules (no browser download)"
	(cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund) ||
		die "npm ci in end2end/ failed"
fi
if curl -s -o /dev/null --max-time 2 "$base_url/"; then
	die "something already listens on 127.0.0.1:$port (set SPA_PORT)"
fi

# ---------------------------------------------------------------- temp dir + cleanup
tmp=$(mktemp -d "${TMPDIR:-/tmp}/silo-spa.XXXXXX")
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
	if [[ ${SPA_KEEP:-0} == 1 ]]; then
		log "kept $tmp"
	else
		rm -rf "$tmp"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- Silo
silo_env=(
	SILO_DATA_DIR="$tmp/data" SILO_LISTEN="127.0.0.1:$port" SILO_PUBLIC_URL="$base_url"
	SILO_BRANDING__NAME="$centre" SILO_BRANDING__HELP_EMAIL="help@example.org"
	SILO_BRANDING__INSTITUTION_NAME="Example University"
	SILO_BRANDING__INSTITUTION_URL="https://www.example.org"
)
[[ ${SPA_EMBEDDED:-0} == 1 ]] || silo_env+=(SILO_SPA_DIR="$root/dist")
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

env "${silo_env[@]}" "$silo" user create alice --email alice@example.org >&2 ||
	die "silo user create alice failed"
token=$(env "${silo_env[@]}" "$silo" token create alice | tr -d '[:space:]')
[[ -n $token ]] || die "silo token create alice printed no token"
# An administrator (`silo user create --admin`, the first admin's way in) and a user the admin
# spec disables and enables again.
env "${silo_env[@]}" "$silo" user create root --admin --email root@example.org >&2 ||
	die "silo user create root --admin failed"
admin_token=$(env "${silo_env[@]}" "$silo" token create root | tr -d '[:space:]')
env "${silo_env[@]}" "$silo" user create dora --email dora@example.org >&2 ||
	die "silo user create dora failed"
dora_token=$(env "${silo_env[@]}" "$silo" token create dora | tr -d '[:space:]')
[[ -n $admin_token && -n $dora_token ]] || die "silo token create printed no token"
# A second user, whom the teams spec adds to a team.
env "${silo_env[@]}" "$silo" user create bob --email bob@example.org >&2 ||
	die "silo user create bob failed"
member_token=$(env "${silo_env[@]}" "$silo" token create bob | tr -d '[:space:]')
[[ -n $member_token ]] || die "silo token create bob printed no token"

# A real SIF (signed, with a definition file), so the page has SIF metadata to show.
export SILO_E2E_SIF=$root/domain/tests/fixtures/signed.sif
SILO_URL=$base_url SILO_TOKEN=$token node "$here/seed.mjs" "$public_container" ||
	die "pushing $public_container failed"
SILO_URL=$base_url SILO_TOKEN=$token SILO_E2E_PRIVATE=1 node "$here/seed.mjs" "$private_container" ||
	die "pushing $private_container failed"

# More collections than fit on one page, with sizes, pulls and stars to sort by.
env -u SILO_E2E_SIF "${silo_env[@]}" "$silo" seed --containers 150 --entities 5 --per-collection 2 --max-kib 16 >&2 ||
	die "silo seed failed"

# ---------------------------------------------------------------- push driver (Go, offline)
# A real `apptainer push` (Apptainer's Go library client) the treemap spec runs while its
# page is open, to see the live update.
pushdriver=
if command -v go >/dev/null && [[ -d /usr/share/gocode/src/github.com/apptainer/container-library-client ]]; then
	(
		cd "$here/pushdriver"
		GOFLAGS="-mod=readonly -overlay=$here/pushdriver/gomod-overlay.json" GOPROXY=off GOSUMDB=off \
			GONOSUMDB='*' GOWORK=off GO111MODULE=on GOTOOLCHAIN=local \
			GOCACHE=${GOCACHE:-$HOME/.cache/go-build} go build -o "$tmp/pushdriver" .
	) || die "building end2end/pushdriver failed"
	pushdriver=$tmp/pushdriver
	log "built the push driver"
else
	log "no Go or no golang-github-apptainer-container-library-client-dev: the treemap's live-update test will fail"
fi

# ---------------------------------------------------------------- Playwright
mkdir -p "$root/docs/screenshots"
status=0
(
	cd "$root"
	SILO_URL=$base_url SILO_E2E_CONTAINER=$public_container \
		SILO_E2E_PRIVATE_CONTAINER=$private_container SILO_E2E_CENTRE_NAME=$centre SILO_E2E_SEEDED=1 \
		SILO_E2E_PUSHDRIVER=$pushdriver SILO_E2E_TOKEN=$token \
		SILO_E2E_PUSH_SIF=$root/domain/tests/fixtures/minimal.sif \
		SILO_E2E_USER=alice \
		SILO_E2E_ADMIN=root SILO_E2E_ADMIN_TOKEN=$admin_token \
		SILO_E2E_VICTIM=dora SILO_E2E_VICTIM_TOKEN=$dora_token \
		SILO_E2E_MEMBER=bob SILO_E2E_MEMBER_TOKEN=$member_token \
		CHROMIUM_PATH=$chromium "$here/node_modules/.bin/playwright" test -c playwright.config.ts ${PLAYWRIGHT_ARGS:-}
) || status=$?

if ((status == 0)); then
	log "PASS (screenshot: docs/screenshots/container.png)"
else
	log "FAIL (playwright exit status $status; traces in end2end/test-results/)"
fi
exit "$status"
