#!/usr/bin/env bash
# OpenID Connect sign-in in a real browser against a REAL OpenID provider on loopback
# (panva's oidc-provider, end2end/oidc/provider.mjs): starts the provider, a throw-away Silo
# configured with it as `[[auth.oauth]]` kind "oidc", and runs end2end/tests/oidc.spec.ts in
# the system Chromium with Playwright (full login with consent, group → admin mapping,
# tampered state, nonce mismatch, refusal at the provider).
# The same Silo also has a GitLab provider (`[[auth.oauth]]` kind "gitlab", pointed at a
# STAND-IN, end2end/oidc/gitlab-standin.mjs, because no real GitLab is reachable here) and
# `[auth.ldap]` on a real unprivileged slapd (end2end/ldap/slapd.sh), and
# end2end/tests/side-by-side.spec.ts signs in through each of the three. Without slapd
# installed the LDAP part is skipped with a log line (a failure when CI=true).
#
# Usage: end2end/run-oauth.sh [SILO_BINARY]
#   SILO_BINARY  default ${CARGO_TARGET_DIR:-$HOME/.cache/silo-target}/debug/silo
# Env:
#   OAUTH_SILO_PORT  Silo's port on 127.0.0.1 (default 18611)
#   OAUTH_OIDC_PORT  the provider's port on 127.0.0.1 (default 18610)
#   OAUTH_GITLAB_PORT  the GitLab stand-in's port on 127.0.0.1 (default 18614)
#   OAUTH_LDAP_PORT  slapd's port on 127.0.0.1 (default 18615)
#   SPA_EMBEDDED=1   serve the SPA embedded in the binary instead of dist/
#   SILO_DATABASE_URL  run Silo on this database (default: SQLite in the temp dir)
#   OAUTH_KEEP=1     keep the temp dir (config, silo.log, provider.log, gitlab.log, ldap/)
#   CHROMIUM_PATH    browser binary (default /usr/bin/chromium)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

silo=${1:-${CARGO_TARGET_DIR:-$HOME/.cache/silo-target}/debug/silo}
port=${OAUTH_SILO_PORT:-18611}
oidc_port=${OAUTH_OIDC_PORT:-18610}
gitlab_port=${OAUTH_GITLAB_PORT:-18614}
ldap_port=${OAUTH_LDAP_PORT:-18615}
base_url=http://127.0.0.1:$port
issuer=http://127.0.0.1:$oidc_port
gitlab_url=http://127.0.0.1:$gitlab_port

log() { printf '[run-oauth] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- preflight
[[ -x $silo ]] || die "silo binary not found or not executable: $silo"
if [[ ${SPA_EMBEDDED:-0} != 1 ]]; then
	[[ -f $root/dist/index.html ]] || die "no dist/index.html: build the SPA first (trunk build --release)"
fi
command -v node >/dev/null || die "node is missing"
chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
[[ -x $chromium ]] || die "no browser at $chromium (apt-get install -y chromium)"
if [[ ! -d $here/node_modules/@playwright/test ]]; then
	log "installing @playwright/test into end2end/node_modules (no browser download)"
	(cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund) || die "npm ci in end2end/ failed"
fi
pinned=$(node -p 'require(process.argv[1]).dependencies["oidc-provider"]' "$here/oidc/package.json")
installed=$(node -p 'require(process.argv[1]).version' "$here/oidc/node_modules/oidc-provider/package.json" 2>/dev/null || true)
if [[ $installed != "$pinned" ]]; then
	log "installing oidc-provider $pinned into end2end/oidc/node_modules (npm ci)"
	(cd "$here/oidc" && npm ci --no-audit --no-fund) || die "npm ci in end2end/oidc/ failed"
fi
for p in "$port" "$oidc_port" "$gitlab_port" "$ldap_port"; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		die "something already listens on 127.0.0.1:$p (set OAUTH_SILO_PORT / OAUTH_OIDC_PORT / OAUTH_GITLAB_PORT / OAUTH_LDAP_PORT)"
	fi
done

# ---------------------------------------------------------------- temp dir + cleanup
tmp=$(mktemp -d "${TMPDIR:-/tmp}/silo-oauth.XXXXXX")
silo_pid=
oidc_pid=
gitlab_pid=
# shellcheck source=ldap/slapd.sh
. "$here/ldap/slapd.sh"
stop() {
	local pid=$1
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
cleanup() {
	local rc=$?
	stop "$silo_pid"
	stop "$oidc_pid"
	stop "$gitlab_pid"
	slapd_stop
	if ((rc != 0)); then
		for f in silo.log provider.log gitlab.log ldap/slapd.log; do
			[[ -f $tmp/$f ]] || continue
			log "last lines of $f:"
			tail -n 30 "$tmp/$f" >&2 || true
		done
	fi
	if [[ ${OAUTH_KEEP:-0} == 1 ]]; then log "kept $tmp"; else rm -rf "$tmp"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- the OpenID provider
OIDC_PORT=$oidc_port SILO_CALLBACK="$base_url/auth/callback/testidp" \
	node "$here/oidc/provider.mjs" >"$tmp/provider.log" 2>&1 &
oidc_pid=$!
deadline=$((SECONDS + 90))
until grep -q "oidc-provider ready" "$tmp/provider.log" 2>/dev/null; do
	kill -0 "$oidc_pid" 2>/dev/null || die "the OpenID provider exited"
	((SECONDS < deadline)) || die "the OpenID provider did not start within 90 s"
	sleep 0.2
done
log "OpenID provider at $issuer (pid $oidc_pid)"

# ---------------------------------------------------------------- the GitLab STAND-IN
GITLAB_PORT=$gitlab_port SILO_CALLBACK="$base_url/auth/callback/gitlab" \
	node "$here/oidc/gitlab-standin.mjs" >"$tmp/gitlab.log" 2>&1 &
gitlab_pid=$!
deadline=$((SECONDS + 90))
until grep -q "gitlab-standin ready" "$tmp/gitlab.log" 2>/dev/null; do
	kill -0 "$gitlab_pid" 2>/dev/null || die "the GitLab stand-in exited"
	((SECONDS < deadline)) || die "the GitLab stand-in did not start within 90 s"
	sleep 0.2
done
log "GitLab stand-in at $gitlab_url (pid $gitlab_pid)"

# ---------------------------------------------------------------- slapd (real OpenLDAP)
ldap_table=
if slapd_start "$tmp/ldap" "$ldap_port"; then
	ldap_table="
[auth.ldap]
url = \"$slapd_url\"
display_name = \"Test directory\"
bind_dn = \"cn=registry,ou=services,dc=silo,dc=test\"
bind_password = \"service-secret\"
base_dn = \"ou=people,dc=silo,dc=test\"
user_filter = \"(&(objectClass=inetOrgPerson)(uid={username}))\"
group_base_dn = \"ou=groups,dc=silo,dc=test\"
group_filter = \"(|(member={dn})(memberUid={username}))\"
admin_groups = [\"registry-admins\"]
timeout_seconds = 5"
fi

# ---------------------------------------------------------------- Silo, configured with it
spa_dir=
[[ ${SPA_EMBEDDED:-0} == 1 ]] || spa_dir="spa_dir = \"$root/dist\""
cat >"$tmp/silo.toml" <<EOF
listen = "127.0.0.1:$port"
public_url = "$base_url"
data_dir = "$tmp/data"
$spa_dir

[[auth.oauth]]
id = "testidp"
kind = "oidc"
display_name = "Test IdP"
issuer_url = "$issuer"
client_id = "silo"
client_secret = "silo-oidc-test-secret"
scopes = ["openid", "email", "profile", "groups"]
admin_groups = ["registry-admins"]

[[auth.oauth]]
id = "gitlab"
kind = "gitlab"
display_name = "GitLab"
base_url = "$gitlab_url"
client_id = "silo-gitlab"
client_secret = "silo-gitlab-test-secret"
admin_groups = ["apollo/flight-directors"]
$ldap_table
EOF
mkdir -p "$tmp/data"
"$silo" --config "$tmp/silo.toml" config check >&2 || die "silo rejected the configuration"
"$silo" --config "$tmp/silo.toml" serve >"$tmp/silo.log" 2>&1 &
silo_pid=$!
deadline=$((SECONDS + 90))
until curl -sf --max-time 2 -o /dev/null "$base_url/version"; do
	kill -0 "$silo_pid" 2>/dev/null || die "silo exited before answering /version"
	((SECONDS < deadline)) || die "silo did not answer within 90 s"
	sleep 0.2
done
log "silo at $base_url (pid $silo_pid)"

# ---------------------------------------------------------------- Playwright
status=0
(
	cd "$root"
	SILO_URL=$base_url SILO_E2E_OIDC_ISSUER=$issuer SILO_E2E_GITLAB_URL=$gitlab_url \
		SILO_E2E_LDAP=$([[ -n $slapd_pid ]] && echo 1 || echo 0) CHROMIUM_PATH=$chromium \
		"$here/node_modules/.bin/playwright" test -c playwright.config.ts \
		end2end/tests/oidc.spec.ts end2end/tests/side-by-side.spec.ts
) || status=$?
if ((status == 0)); then log "PASS"; else log "FAIL (playwright exit status $status)"; fi
exit "$status"
