//! A real `silo serve` process: JSON log lines carry request IDs, and no secret (API token,
//! metrics token, signed download URL, upload session, OAuth code) reaches its output;
//! `silo config show` prints configured secrets as `****`.
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// In this helper's port range (19150-19199).
const LISTEN: &str = "127.0.0.1:19151";

fn silo(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_silo"));
    cmd.current_dir(dir);
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("SILO_")) {
        cmd.env_remove(key);
    }
    cmd.env_remove("RUST_LOG");
    cmd
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn config_show_prints_secrets_as_stars() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("silo.toml");
    std::fs::write(
        &file,
        "[metrics]\ntoken = \"metrics-token-9931\"\n[storage.s3]\nsecret_key = \"s3-secret-7710\"\n",
    )
    .unwrap();
    let shown = run_ok(
        silo(dir.path())
            .env(
                "SILO_DATABASE_URL",
                "postgres://silo:db-pass-8812@127.0.0.1:5432/silo",
            )
            .arg("--config")
            .arg(&file)
            .args(["config", "show"]),
    );
    for secret in ["metrics-token-9931", "s3-secret-7710", "db-pass-8812"] {
        assert!(!shown.contains(secret), "{secret} shown:\n{shown}");
    }
    assert!(
        shown.contains("postgres://silo:****@127.0.0.1:5432/silo"),
        "{shown}"
    );
    assert!(shown.contains("token = \"****\""), "{shown}");
    assert!(shown.contains("secret_key = \"****\""), "{shown}");
    assert!(
        shown.contains("[log]") && shown.contains("format = \"text\""),
        "{shown}"
    );
}

/// The server process, killed if the test ends early.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Server {
    /// SIGTERM, as a service manager stops it; waits (bounded) for the exit.
    fn stop(&mut self) {
        let pid = self.0.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        for _ in 0..200 {
            if self.0.try_wait().unwrap().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("silo serve did not stop on SIGTERM");
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: serde_json::Value,
    ) -> serde_json::Value {
        let r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json::<serde_json::Value>().await.unwrap()["data"].clone()
    }
}

#[tokio::test]
async fn json_logs_carry_request_ids_and_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    run_ok(
        silo(dir.path())
            .env("SILO_DATA_DIR", &data)
            .args(["user", "create", "alice"]),
    );
    let token = run_ok(
        silo(dir.path())
            .env("SILO_DATA_DIR", &data)
            .args(["token", "create", "alice"]),
    )
    .trim()
    .to_string();
    let metrics_token = "metrics-secret-5c1e77";
    let log_path = dir.path().join("serve.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut server = Server(
        silo(dir.path())
            .env("SILO_DATA_DIR", &data)
            .env("SILO_LISTEN", LISTEN)
            .env("SILO_LOG", "debug")
            .env("SILO_LOG__FORMAT", "json")
            .env("SILO_METRICS__TOKEN", metrics_token)
            .env("SILO_ACCEPT_NON_SIF", "true")
            .env("SILO_LIBRARY__DOWNLOAD_MODE", "redirect")
            .arg("serve")
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap(),
    );
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("http://{LISTEN}");
    let mut ready = false;
    for _ in 0..300 {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await {
            if r.status() == 200 {
                ready = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "{}", std::fs::read_to_string(&log_path).unwrap());
    let client = Client {
        http: http.clone(),
        base: base.clone(),
        token: token.clone(),
    };

    // A push through the library API (the upload URL is a capability).
    use reqwest::Method;
    let entity = client
        .json(
            Method::POST,
            "/v1/entities",
            serde_json::json!({"name": "alice"}),
        )
        .await;
    let collection = client
        .json(
            Method::POST,
            "/v1/collections",
            serde_json::json!({"name": "tools", "entity": entity["id"]}),
        )
        .await;
    let container = client
        .json(
            Method::POST,
            "/v1/containers",
            serde_json::json!({"name": "bwa", "collection": collection["id"]}),
        )
        .await;
    let image: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    use sha2::Digest;
    let hash = hex::encode(sha2::Sha256::digest(&image));
    let created = client
        .json(
            Method::POST,
            "/v1/images",
            serde_json::json!({"hash": format!("sha256.{hash}"), "container": container["id"]}),
        )
        .await;
    let image_id = created["id"].as_str().unwrap().to_string();
    let started = client
        .json(
            Method::POST,
            &format!("/v2/imagefile/{image_id}"),
            serde_json::json!({"filesize": image.len(), "sha256sum": hash}),
        )
        .await;
    let upload_url = started["uploadURL"].as_str().unwrap().to_string();
    let session = upload_url.rsplit('/').next().unwrap().to_string();
    let put = http
        .put(&upload_url)
        .body(image.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    client
        .json(
            Method::PUT,
            &format!("/v2/imagefile/{image_id}/_complete"),
            serde_json::json!({}),
        )
        .await;
    let container_id = container["id"].as_str().unwrap();
    client
        .json(
            Method::POST,
            &format!("/v2/tags/{container_id}"),
            serde_json::json!({"Tag": "v1", "ImageID": image_id}),
        )
        .await;

    // A pull: 303 to a signed download URL, with our request ID.
    let pull = http
        .get(format!("{base}/v1/imagefile/alice/tools/bwa:v1"))
        .bearer_auth(&token)
        .header("x-request-id", "pull-req-77")
        .send()
        .await
        .unwrap();
    assert_eq!(pull.status(), 303);
    assert_eq!(pull.headers()["x-request-id"], "pull-req-77");
    let location = pull.headers()["location"].to_str().unwrap().to_string();
    let capability = location.rsplit('/').next().unwrap().to_string();
    assert!(capability.len() > 20, "{location}");
    let bytes = http
        .get(&location)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.as_ref(), image.as_slice());

    // An OAuth-style callback, a share link, and a scrape with the metrics token.
    http.get(format!(
        "{base}/auth/callback/github?code=oauth-code-31337&state=oauth-state-4242"
    ))
    .send()
    .await
    .unwrap();
    http.get(format!("{base}/share/share-secret-0099aa/download"))
        .send()
        .await
        .unwrap();
    let scrape = http
        .get(format!("{base}/metrics"))
        .bearer_auth(metrics_token)
        .send()
        .await
        .unwrap();
    assert_eq!(scrape.status(), 200);
    let scraped = scrape.text().await.unwrap();
    assert!(scraped.contains("silo_http_requests_total"));

    server.stop();
    let output = std::fs::read_to_string(&log_path).unwrap();
    for secret in [
        token.as_str(),
        metrics_token,
        capability.as_str(),
        session.as_str(),
        "oauth-code-31337",
        "oauth-state-4242",
        "share-secret-0099aa",
    ] {
        assert!(
            !output.contains(secret),
            "secret {secret:?} in the log:\n{output}"
        );
    }
    // One JSON object per line; the pull's lines carry its request ID.
    let lines: Vec<serde_json::Value> = output
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(lines.len() > 10, "{output}");
    let pull_lines: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["span"]["id"] == "pull-req-77")
        .collect();
    let response = pull_lines
        .iter()
        .find(|l| l["message"] == "response")
        .unwrap_or_else(|| panic!("no response line for the pull:\n{output}"));
    assert_eq!(response["status"], 303);
    assert_eq!(
        response["span"]["target"],
        "/v1/imagefile/alice/tools/bwa:v1"
    );
    let download = lines
        .iter()
        .find(|l| {
            l["message"] == "response" && l["status"] == 200 && {
                let target = l["span"]["target"].as_str().unwrap_or_default();
                target.starts_with("/download/")
            }
        })
        .unwrap_or_else(|| panic!("no download line:\n{output}"));
    assert_eq!(download["span"]["target"], "/download/****");
    assert!(output.contains("code=****&state=****"), "{output}");
    // Every request line has an ID.
    assert!(lines
        .iter()
        .filter(|l| l["message"] == "response")
        .all(|l| l["span"]["id"].as_str().is_some_and(|id| !id.is_empty())));
}
