//! The `silo` binary's subcommands share one configuration, and explain bad configuration.
use std::process::Command;

fn silo(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_silo"));
    cmd.current_dir(dir);
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("SILO_")) {
        cmd.env_remove(key);
    }
    cmd
}

#[test]
fn user_and_token_commands_share_the_configured_database() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = silo(dir.path())
        .env("SILO_DATA_DIR", &data)
        .args(["user", "create", "alice"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = silo(dir.path())
        .env("SILO_DATA_DIR", &data)
        .args([
            "token",
            "create",
            "alice",
            "--label",
            "ci",
            "--expires-days",
            "30",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap();
    let token = token.trim_end();
    assert!(
        token.len() >= 200 && !token.contains(char::is_whitespace),
        "only the token: {token:?}"
    );
    assert!(data.join("silo.db").exists());
    assert!(data.join("blobs/LAYOUT").exists());
    // A second user of the same name is refused; a token for an unknown user too.
    let dup = silo(dir.path())
        .env("SILO_DATA_DIR", &data)
        .args(["user", "create", "alice"])
        .output()
        .unwrap();
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"));
    let none = silo(dir.path())
        .env("SILO_DATA_DIR", &data)
        .args(["token", "create", "nobody"])
        .output()
        .unwrap();
    assert!(!none.status.success());
    let list = silo(dir.path())
        .env("SILO_DATA_DIR", &data)
        .args(["user", "list"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&list.stdout).contains("alice\tuser\tactive"));
}

#[test]
fn config_check_reports_unknown_keys_bad_values_and_typos() {
    let dir = tempfile::tempdir().unwrap();
    let ok = silo(dir.path()).args(["config", "check"]).output().unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("configuration OK"));

    let file = dir.path().join("silo.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:9\"\nlisten_addr = \"x\"\n").unwrap();
    let out = silo(dir.path())
        .arg("--config")
        .arg(&file)
        .args(["config", "check"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("listen_addr"));

    let out = silo(dir.path())
        .env("SILO_LISTEN", "not-an-address")
        .args(["config", "check"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("SILO_LISTEN"));

    let out = silo(dir.path())
        .env("SILO_LISEN", "127.0.0.1:1")
        .args(["config", "check"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("SILO_LISEN"));

    let missing = silo(dir.path())
        .args(["--config", "nope.toml", "config", "check"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("does not exist"));
}

#[test]
fn config_show_prints_layered_values() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("silo.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:9\"\n[branding]\nname = \"From File\"\n",
    )
    .unwrap();
    let out = silo(dir.path())
        .arg("--config")
        .arg(&file)
        .env("SILO_BRANDING__NAME", "From Env")
        .args(["config", "show"])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("listen = \"127.0.0.1:9\""), "{shown}");
    assert!(
        shown.contains("name = \"From Env\""),
        "env overrides the file: {shown}"
    );
}
