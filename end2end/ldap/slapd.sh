# A real, unprivileged OpenLDAP slapd on loopback for the browser sign-in tests, sourced by
# end2end/run-oauth.sh. Same setup as the Rust harness (server/tests/ldap_support/mod.rs): its
# own slapd.conf (mdb backend) and database in a directory of ours, loaded with
# server/tests/fixtures/ldap/directory.ldif through ldapadd. Never touches the system's slapd.
#
#   slapd_start DIR PORT   starts it, sets slapd_pid and slapd_url; returns 1 (after a log
#                          line) when slapd / ldapadd are not installed and CI is not true;
#                          dies in CI.
#   slapd_stop             stops it.
# Needs log() and die() from the caller.

slapd_pid=
slapd_url=
slapd_bin=
slapd_ldapadd=

slapd_find() {
	local dir
	for dir in /usr/sbin /usr/bin /usr/local/sbin /usr/local/bin /sbin; do
		[[ -x $dir/$1 ]] && { printf '%s\n' "$dir/$1"; return 0; }
	done
	return 1
}

slapd_start() {
	local dir=$1 port=$2
	local root_dn="cn=admin,dc=silo,dc=test" root_pw="admin-secret"
	local ldif
	ldif=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/server/tests/fixtures/ldap/directory.ldif
	slapd_bin=$(slapd_find slapd) || true
	slapd_ldapadd=$(slapd_find ldapadd) || true
	if [[ -z $slapd_bin || -z $slapd_ldapadd ]]; then
		[[ ${CI:-} == true || ${CI:-} == 1 ]] &&
			die "slapd and ldapadd are required in CI (Debian packages slapd and ldap-utils; scripts/setup.sh --test)"
		log "SKIPPED the LDAP part: OpenLDAP slapd is not installed (Debian packages slapd and ldap-utils; scripts/setup.sh --test installs them)"
		return 1
	fi
	mkdir -p "$dir/db"
	cat >"$dir/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile $dir/slapd.pid
argsfile $dir/slapd.args
database mdb
maxsize 16777216
suffix "dc=silo,dc=test"
rootdn "$root_dn"
rootpw $root_pw
directory $dir/db
access to attrs=userPassword by anonymous auth by * none
access to * by * read
EOF
	slapd_url=ldap://127.0.0.1:$port
	"$slapd_bin" -f "$dir/slapd.conf" -h "$slapd_url/" -d 0 </dev/null >"$dir/slapd.log" 2>&1 &
	slapd_pid=$!
	local deadline=$((SECONDS + 15))
	until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
		kill -0 "$slapd_pid" 2>/dev/null || { tail -n 20 "$dir/slapd.log" >&2; die "slapd exited"; }
		((SECONDS < deadline)) || die "slapd did not listen on $port within 15 s"
		sleep 0.1
	done
	"$slapd_ldapadd" -x -H "$slapd_url" -D "$root_dn" -w "$root_pw" -f "$ldif" >"$dir/ldapadd.log" 2>&1 ||
		{ cat "$dir/ldapadd.log" >&2; die "ldapadd of $ldif failed"; }
	log "slapd at $slapd_url (pid $slapd_pid), directory loaded"
}

slapd_stop() {
	[[ -n $slapd_pid ]] && stop "$slapd_pid"
	slapd_pid=
}
