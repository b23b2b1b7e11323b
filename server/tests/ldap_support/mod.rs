//! A real OpenLDAP `slapd` for the LDAP sign-in tests: started as a child process on a
//! loopback port with its own configuration (`slapd.conf`, mdb backend) and database in a
//! temporary directory, loaded with `fixtures/ldap/directory.ldif` through `ldapadd`, and
//! killed when dropped. It never touches the system's slapd service or its configuration.
//!
//! Without slapd installed (Debian packages `slapd` and `ldap-utils`; `scripts/setup.sh
//! --test` installs them) the tests are skipped with a message, except in CI (`CI=true`),
//! where that is a failure.
#![allow(dead_code)]
use server::auth::ldap_config::LdapSettings;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

pub const SUFFIX: &str = "dc=silo,dc=test";
pub const ROOT_DN: &str = "cn=admin,dc=silo,dc=test";
const ROOT_PASSWORD: &str = "admin-secret";
pub const SERVICE_DN: &str = "cn=registry,ou=services,dc=silo,dc=test";
pub const SERVICE_PASSWORD: &str = "service-secret";

/// Ports tried for slapd: `LDAP_TEST_PORTS=first-last`, by default 18650-18699.
fn port_range() -> (u16, u16) {
    std::env::var("LDAP_TEST_PORTS")
        .ok()
        .and_then(|r| {
            let (a, b) = r.split_once('-')?;
            Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
        })
        .unwrap_or((18650, 18699))
}

static NEXT_PORT: AtomicU16 = AtomicU16::new(0);

/// A port of the range nobody listens on (each call moves on, so parallel tests differ).
fn free_port() -> u16 {
    let (first, last) = port_range();
    let span = last - first + 1;
    for _ in 0..span {
        let port = first + NEXT_PORT.fetch_add(1, Ordering::SeqCst) % span;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {first}-{last} for slapd (set LDAP_TEST_PORTS)");
}

fn installed(program: &str) -> Option<PathBuf> {
    [
        "/usr/sbin",
        "/usr/bin",
        "/usr/local/sbin",
        "/usr/local/bin",
        "/sbin",
    ]
    .iter()
    .map(|dir| Path::new(dir).join(program))
    .find(|p| p.exists())
}

/// A running slapd with the test directory.
pub struct Slapd {
    child: Child,
    pub port: u16,
    pub url: String,
    dir: tempfile::TempDir,
}

impl Slapd {
    /// Starts slapd and loads the directory; `None` (after saying why) when slapd is not
    /// installed outside CI.
    pub fn start() -> Option<Slapd> {
        Self::start_with(false)
    }

    /// Like [`Slapd::start`], with StartTLS: a test CA (`ca_file`) signs slapd's
    /// certificate for 127.0.0.1.
    pub fn start_with_tls() -> Option<Slapd> {
        Self::start_with(true)
    }

    fn start_with(tls: bool) -> Option<Slapd> {
        let (Some(slapd), Some(_)) = (installed("slapd"), installed("ldapadd")) else {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
            assert!(
                !ci,
                "slapd and ldapadd are required in CI: install the Debian packages slapd and \
                 ldap-utils (scripts/setup.sh --test)"
            );
            eprintln!(
                "SKIPPED: OpenLDAP slapd is not installed (Debian packages slapd and ldap-utils; \
                 scripts/setup.sh --test installs them)"
            );
            return None;
        };
        for _attempt in 0..5 {
            if let Some(server) = Self::try_start(&slapd, tls) {
                server.load(include_str!("../fixtures/ldap/directory.ldif"));
                return Some(server);
            }
        }
        panic!("slapd did not start (see the log above)");
    }

    fn try_start(slapd: &Path, tls: bool) -> Option<Slapd> {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("db")).unwrap();
        let tls_config = if tls {
            make_certificates(root);
            format!(
                "TLSCACertificateFile {root}/ca.pem\nTLSCertificateFile {root}/server.pem\n\
                 TLSCertificateKeyFile {root}/server.key\n",
                root = root.display()
            )
        } else {
            String::new()
        };
        let config = format!(
            "{tls_config}include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {root}/slapd.pid
argsfile {root}/slapd.args
database mdb
maxsize 16777216
suffix \"{SUFFIX}\"
rootdn \"{ROOT_DN}\"
rootpw {ROOT_PASSWORD}
directory {root}/db
access to attrs=userPassword by anonymous auth by * none
access to * by * read
",
            root = root.display()
        );
        std::fs::write(root.join("slapd.conf"), config).unwrap();
        let port = free_port();
        let url = format!("ldap://127.0.0.1:{port}");
        let log = std::fs::File::create(root.join("slapd.log")).unwrap();
        let mut child = Command::new(slapd)
            .arg("-f")
            .arg(root.join("slapd.conf"))
            .arg("-h")
            .arg(format!("{url}/"))
            .args(["-d", "0"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn slapd");
        let deadline = Instant::now() + Duration::from_secs(15);
        let address: SocketAddr = ([127, 0, 0, 1], port).into();
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(root.join("slapd.log")).unwrap_or_default();
                eprintln!("slapd on port {port} exited with {status}:\n{log}");
                return None;
            }
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return Some(Slapd {
                    child,
                    port,
                    url,
                    dir,
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        eprintln!("slapd on port {port} did not listen within 15 s");
        None
    }

    /// The PEM file of the CA that signed slapd's certificate (TLS servers only).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// Adds entries (`ldapadd`).
    pub fn load(&self, ldif: &str) {
        self.ldap_tool("ldapadd", ldif);
    }

    /// Applies an LDIF change record (`ldapmodify`).
    pub fn modify(&self, ldif: &str) {
        self.ldap_tool("ldapmodify", ldif);
    }

    fn ldap_tool(&self, tool: &str, ldif: &str) {
        let mut child = Command::new(installed(tool).unwrap_or_else(|| tool.into()))
            .args(["-x", "-H", &self.url, "-D", ROOT_DN, "-w", ROOT_PASSWORD])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {tool}: {e}"));
        child
            .stdin
            .take()
            .unwrap()
            .write_all(ldif.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `[auth.ldap]` for this directory as an OpenLDAP site would write it: the service
    /// account searches, groups of names and posix groups, `registry-admins` are admins.
    pub fn settings(&self) -> LdapSettings {
        LdapSettings {
            url: self.url.clone(),
            display_name: "Test directory".into(),
            bind_dn: SERVICE_DN.into(),
            bind_password: SERVICE_PASSWORD.into(),
            base_dn: format!("ou=people,{SUFFIX}"),
            user_filter: "(&(objectClass=inetOrgPerson)(uid={username}))".into(),
            group_base_dn: format!("ou=groups,{SUFFIX}"),
            group_filter: "(|(member={dn})(memberUid={username}))".into(),
            admin_groups: vec!["registry-admins".into()],
            timeout_seconds: 5,
            ..LdapSettings::default()
        }
    }
}

/// A throw-away CA and a server certificate for 127.0.0.1 it signed (`openssl`).
fn make_certificates(root: &Path) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(root)
            .output()
            .expect("openssl (Debian package openssl) is needed for the TLS tests");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509", "-days", "2", "-subj", "/CN=Silo test CA"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        ]
        .concat(),
    );
    openssl(
        &[
            &["req", "-subj", "/CN=127.0.0.1"][..],
            &ec,
            &["-keyout", "server.key", "-out", "server.csr"],
        ]
        .concat(),
    );
    std::fs::write(
        root.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-out",
        "server.pem",
        "-extfile",
        "server.ext",
    ]);
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
