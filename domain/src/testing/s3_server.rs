//! A real S3-compatible server for tests: `s3s-fs` (crates.io, installed by
//! `scripts/setup.sh --test`) started on a free loopback port with its own access key,
//! serving a fresh temporary directory with one bucket.
//!
//! [`TestS3::start`] answers `None` when `s3s-fs` is not installed, so a developer without it
//! still runs every other test; under `CI=true` a missing server is a failure instead.
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::store::S3Settings;

/// Environment variable naming the `s3s-fs` binary (else `PATH`, then `~/.cargo/bin`).
pub const S3_SERVER_ENV: &str = "SILO_TEST_S3S_FS";

pub struct TestS3 {
    child: Child,
    /// The server's data: `<root>/<bucket>/…`.
    pub root: tempfile::TempDir,
    /// Settings that reach the bucket (direct uploads and redirects on).
    pub settings: S3Settings,
}

fn find_binary() -> Option<PathBuf> {
    if let Ok(path) = std::env::var(S3_SERVER_ENV) {
        return Some(PathBuf::from(path));
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("s3s-fs"))
            .find(|candidate| candidate.is_file())
    });
    on_path.or_else(|| {
        let home = std::env::var_os("HOME")?;
        let candidate = PathBuf::from(home).join(".cargo/bin/s3s-fs");
        candidate.is_file().then_some(candidate)
    })
}

/// Environment variable limiting the ports test servers take (`first-last`, for example
/// `19250-19299`); without it the system picks a free port.
pub const PORT_RANGE_ENV: &str = "SILO_TEST_PORT_RANGE";
fn free_port() -> u16 {
    let range = std::env::var(PORT_RANGE_ENV).ok().and_then(|text| {
        let (first, last) = text.split_once('-')?;
        Some((
            first.trim().parse::<u16>().ok()?,
            last.trim().parse::<u16>().ok()?,
        ))
    });
    if let Some((first, last)) = range.filter(|(first, last)| first <= last) {
        let span = u32::from(last - first) + 1;
        let start = rand::random_range(0..span);
        return (0..span)
            .map(|step| first + u16::try_from((start + step) % span).expect("within the range"))
            .find(|port| std::net::TcpListener::bind(("127.0.0.1", *port)).is_ok())
            .unwrap_or_else(|| panic!("no free port in {PORT_RANGE_ENV} {first}-{last}"));
    }
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl TestS3 {
    /// Starts a server with an empty bucket `silo-test`.
    pub async fn start() -> Option<TestS3> {
        let Some(binary) = find_binary() else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "s3s-fs is not installed (scripts/setup.sh --test installs it)"
            );
            eprintln!("SKIPPED: S3 store tests (s3s-fs is not installed)");
            return None;
        };
        let root = tempfile::tempdir().expect("temporary directory");
        let bucket = "silo-test";
        std::fs::create_dir(root.path().join(bucket)).expect("bucket directory");
        let port = free_port();
        let access_key = "silo-test-access";
        let secret_key = format!("secret-{}", crate::services::random_hex(8));
        let child = Command::new(&binary)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", access_key, "--secret-key", &secret_key])
            .arg(root.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let server = TestS3 {
            child,
            root,
            settings: S3Settings {
                endpoint: format!("http://127.0.0.1:{port}"),
                bucket: bucket.into(),
                access_key: access_key.into(),
                secret_key,
                // The smallest parts S3 allows, so that tests cross part boundaries cheaply.
                part_size_mib: 5,
                ..S3Settings::default()
            },
        };
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Some(server);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("s3s-fs did not start listening on port {port}");
    }
}

impl Drop for TestS3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
