//! `silo token create NAME --sregistry` prints a usable `~/.sregistry` and keeps the server
//! key private.
use std::process::Command;

fn silo(data: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_silo"));
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("SILO_")) {
        cmd.env_remove(key);
    }
    cmd.env("SILO_DATA_DIR", data)
        .env("SILO_PUBLIC_URL", "https://registry.example.edu");
    cmd
}

#[test]
fn token_create_sregistry_prints_the_client_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = silo(&data)
        .args(["user", "create", "alice"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut secrets = Vec::new();
    for _ in 0..2 {
        let out = silo(&data)
            .args(["token", "create", "alice", "--sregistry", "--label", "hpc"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["registry"]["username"], "alice");
        assert_eq!(json["registry"]["base"], "https://registry.example.edu");
        let secret = json["registry"]["token"].as_str().unwrap().to_string();
        assert_eq!(secret.len(), 64);
        assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()));
        secrets.push(secret);
    }
    assert_ne!(secrets[0], secrets[1]);
    let key = std::fs::read_to_string(data.join("secret.key")).unwrap();
    assert_eq!(key.trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("secret.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let out = silo(&data)
        .args(["token", "create", "nobody", "--sregistry"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
