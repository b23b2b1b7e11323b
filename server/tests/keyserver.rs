//! The HKP keyserver (`/pks/lookup`, `/pks/add`) through the real router, on SQLite or
//! PostgreSQL. The fixtures are keys GnuPG 2.2 exported; `*.fpr` hold the fingerprints gpg
//! printed for them.
mod common;

use axum::body::Body;
use axum::http::StatusCode;
use common::{Harness, Reply};

const ALICE: &str = include_str!("fixtures/alice.asc");
const ALICE_NEWER: &str = include_str!("fixtures/alice-newer.asc");
const ALICE_SECRET: &str = include_str!("fixtures/alice-secret.asc");
const BOB: &str = include_str!("fixtures/bob.asc");

fn alice_fpr() -> String {
    include_str!("fixtures/alice.fpr").trim().to_string()
}
fn bob_fpr() -> String {
    include_str!("fixtures/bob.fpr").trim().to_string()
}

fn form(keytext: &str) -> Body {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("keytext", keytext)
        .finish();
    Body::from(body)
}

fn text(reply: &Reply) -> String {
    String::from_utf8(reply.body.clone()).expect("UTF-8 body")
}

async fn add(h: &Harness, token: Option<&str>, keytext: &str) -> Reply {
    let mut builder = axum::http::Request::builder()
        .method("POST")
        .uri("/pks/add")
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(t) = token {
        builder = builder.header("authorization", format!("Bearer {t}"));
    }
    h.send(builder.body(form(keytext)).unwrap()).await
}

async fn lookup(h: &Harness, query: &str) -> Reply {
    h.get(&format!("/pks/lookup?{query}"), None).await
}

fn search(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Asserts a plain-text error with this status; returns its message.
fn assert_text_error(reply: &Reply, status: StatusCode) -> String {
    let body = text(reply);
    assert_eq!(reply.status, status, "body: {body}");
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("text/plain"),
        "{:?}",
        reply.header("content-type")
    );
    assert!(!body.trim().is_empty());
    body
}

async fn with_alice_and_bob() -> (Harness, String) {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    let r = add(&h, Some(&token), ALICE).await;
    assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
    let r = add(&h, Some(&token), BOB).await;
    assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
    (h, token)
}

#[tokio::test]
async fn anonymous_and_read_only_adds_are_refused() {
    let h = Harness::new().await;
    h.registry.create_user("carol", "", false).await.unwrap();
    let read_only = h
        .registry
        .create_token(
            "carol",
            silo_domain::services::NewToken {
                label: "ro".into(),
                scope: Some(silo_domain::Scope::Read),
                expires_in_days: None,
            },
        )
        .await
        .unwrap()
        .secret;

    let r = add(&h, None, ALICE).await;
    assert_text_error(&r, StatusCode::UNAUTHORIZED);
    assert_eq!(r.header("www-authenticate").as_deref(), Some("Bearer"));

    let r = add(&h, Some("silo_not-a-real-token"), ALICE).await;
    assert_text_error(&r, StatusCode::UNAUTHORIZED);

    let r = add(&h, Some(&read_only), ALICE).await;
    let message = assert_text_error(&r, StatusCode::FORBIDDEN);
    assert!(message.contains("read-only"), "{message}");

    // Nothing was stored.
    let r = lookup(&h, &format!("op=get&search=0x{}", alice_fpr())).await;
    assert_text_error(&r, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn get_by_fingerprint_and_key_id_in_every_form() {
    let (h, _) = with_alice_and_bob().await;
    let fpr = alice_fpr();
    let long_id = &fpr[24..];
    let short_id = &fpr[32..];
    for form in [
        format!("0x{fpr}"),
        fpr.to_lowercase(),
        format!("0x{}", long_id.to_lowercase()),
        long_id.to_string(),
        format!("0x{short_id}"),
        short_id.to_string(),
    ] {
        // The exact request Apptainer sends when verifying a signed image, and gpg's.
        for query in [
            format!("exact=on&op=get&search={form}"),
            format!("op=get&options=mr&search={form}"),
        ] {
            let r = lookup(&h, &query).await;
            assert_eq!(r.status, StatusCode::OK, "{query}: {}", text(&r));
            assert_eq!(
                r.header("content-type").as_deref(),
                Some("application/pgp-keys")
            );
            let body = text(&r);
            assert_eq!(
                body.matches("-----BEGIN PGP PUBLIC KEY BLOCK-----").count(),
                1
            );
            assert!(body
                .trim_end()
                .ends_with("-----END PGP PUBLIC KEY BLOCK-----"));
        }
    }
    // The served key is Alice's: uploading it again names her fingerprint.
    let r = lookup(&h, &format!("op=get&search=0x{fpr}")).await;
    let token = h.token("alice").await;
    let again = add(&h, Some(&token), &text(&r)).await;
    assert_eq!(text(&again).trim(), format!("updated: {fpr}"));
}

#[tokio::test]
async fn machine_readable_index_matches_gpg() {
    let (h, _) = with_alice_and_bob().await;
    let r = lookup(
        &h,
        &format!(
            "op=index&options=mr&fingerprint=on&search={}",
            search("alice@example.org")
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let body = text(&r);
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines[0], "info:1:1");
    // gpg --with-colons: pub:u:255:22:A39D82D5F04C0C8F:1795604118:…  (ed25519, algorithm 22)
    assert_eq!(lines[1], format!("pub:{}:22:255:1795604118::", alice_fpr()));
    let mut uids: Vec<&str> = lines[2..].to_vec();
    uids.sort();
    assert_eq!(
        uids,
        [
            "uid:Alice Example <alice@example.org>:::",
            "uid:Alice Work <alice@work.example>:::"
        ]
    );

    // RSA: gpg shows pub:u:2048:1:9350C512F7524CB8:1795604118
    let r = lookup(&h, &format!("op=vindex&options=mr&search=0x{}", bob_fpr())).await;
    let body = text(&r);
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(
        lines,
        [
            "info:1:1",
            &format!("pub:{}:1:2048:1795604118::", bob_fpr()),
            "uid:Bob Builder <bob@example.org>:::"
        ]
    );
}

#[tokio::test]
async fn human_readable_index() {
    let (h, _) = with_alice_and_bob().await;
    for op in ["index", "vindex"] {
        let r = lookup(&h, &format!("op={op}&search=bob")).await;
        assert_eq!(r.status, StatusCode::OK);
        let body = text(&r);
        assert!(body.starts_with("1 key(s) found"), "{body}");
        assert!(
            body.contains(&format!("pub  rsa/2048 {}", bob_fpr())),
            "{body}"
        );
        assert!(
            body.contains("uid  Bob Builder <bob@example.org>"),
            "{body}"
        );
        assert!(!body.contains('<') || !body.contains("<html"), "{body}");
    }
}

#[tokio::test]
async fn exact_versus_substring_search() {
    let (h, _) = with_alice_and_bob().await;
    let count = |r: &Reply| -> usize {
        let body = text(r);
        body.lines()
            .next()
            .and_then(|l| l.strip_prefix("info:1:"))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no info line: {body}"))
    };
    // Substring, case-insensitive, in names and e-mail addresses.
    let r = lookup(&h, "op=index&options=mr&search=example.org").await;
    assert_eq!(count(&r), 2);
    let r = lookup(&h, "op=index&options=mr&search=ALICE").await;
    assert_eq!(count(&r), 1);
    let r = lookup(
        &h,
        &format!("op=index&options=mr&search={}", search("Work <")),
    )
    .await;
    assert_eq!(count(&r), 1);

    // Exact: a whole user ID or a whole e-mail address, nothing less.
    let r = lookup(&h, "op=index&options=mr&exact=on&search=example.org").await;
    assert_text_error(&r, StatusCode::NOT_FOUND);
    let r = lookup(&h, "op=index&options=mr&exact=on&search=alice").await;
    assert_text_error(&r, StatusCode::NOT_FOUND);
    for wanted in [
        "bob@example.org",
        "<bob@example.org>",
        "Bob Builder <bob@example.org>",
    ] {
        let r = lookup(
            &h,
            &format!("op=index&options=mr&exact=on&search={}", search(wanted)),
        )
        .await;
        assert_eq!(count(&r), 1, "{wanted}");
        assert!(text(&r).contains(&bob_fpr()));
    }
    let r = lookup(&h, "op=get&exact=off&search=alice%40work.example").await;
    assert_eq!(r.status, StatusCode::OK);

    // LIKE wildcards are literal text.
    for wild in ["%", "_", "%25"] {
        let r = lookup(&h, &format!("op=index&options=mr&search={wild}")).await;
        assert_text_error(&r, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn re_adding_keeps_the_newest_copy() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    let fpr = alice_fpr();
    let uids = |r: &Reply| text(r).lines().filter(|l| l.starts_with("uid:")).count();
    let index = format!("op=index&options=mr&search=0x{fpr}");

    assert_eq!(
        text(&add(&h, Some(&token), ALICE).await).trim(),
        format!("added: {fpr}")
    );
    assert_eq!(
        text(&add(&h, Some(&token), ALICE).await).trim(),
        format!("updated: {fpr}")
    );
    assert_eq!(uids(&lookup(&h, &index).await), 2);

    // A newer copy (a third user ID) replaces it …
    assert_eq!(
        text(&add(&h, Some(&token), ALICE_NEWER).await).trim(),
        format!("updated: {fpr}")
    );
    assert_eq!(uids(&lookup(&h, &index).await), 3);
    // … and the older copy no longer does.
    let r = add(&h, Some(&token), ALICE).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(text(&r).starts_with("unchanged"), "{}", text(&r));
    assert_eq!(uids(&lookup(&h, &index).await), 3);
    let r = lookup(&h, "op=index&options=mr&search=alice").await;
    assert!(text(&r).starts_with("info:1:1\n"));
}

#[tokio::test]
async fn several_keys_in_one_upload() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    let both = format!("{ALICE}\n{BOB}");
    let r = add(&h, Some(&token), &both).await;
    assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
    let body = text(&r);
    assert!(body.contains(&format!("added: {}", alice_fpr())), "{body}");
    assert!(body.contains(&format!("added: {}", bob_fpr())), "{body}");
    let r = lookup(&h, "op=get&search=example.org").await;
    assert_eq!(
        text(&r)
            .matches("-----BEGIN PGP PUBLIC KEY BLOCK-----")
            .count(),
        2
    );
}

#[tokio::test]
async fn secret_keys_and_malformed_input_are_refused() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;

    let r = add(&h, Some(&token), ALICE_SECRET).await;
    let message = assert_text_error(&r, StatusCode::BAD_REQUEST);
    assert!(message.contains("secret"), "{message}");

    // A secret key block disguised under a public-key header is refused too.
    let disguised = ALICE_SECRET
        .replace("PRIVATE KEY BLOCK", "PUBLIC KEY BLOCK")
        .lines()
        .filter(|l| !l.starts_with('='))
        .collect::<Vec<_>>()
        .join("\n");
    let r = add(&h, Some(&token), &disguised).await;
    assert_text_error(&r, StatusCode::BAD_REQUEST);

    let truncated = &ALICE[..ALICE.len() / 2];
    let garbage = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nbm90IGEga2V5\n=AAAA\n-----END PGP PUBLIC KEY BLOCK-----\n";
    let bad_base64 =
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!!!****\n-----END PGP PUBLIC KEY BLOCK-----\n";
    for bad in ["", "hello", truncated, garbage, bad_base64] {
        let r = add(&h, Some(&token), bad).await;
        assert!(
            r.status == StatusCode::BAD_REQUEST,
            "{bad:?}: {} {}",
            r.status,
            text(&r)
        );
    }

    // No keytext field, and a body over the limit.
    let r = h
        .call("POST", "/pks/add", Some(&token), Body::from("key=value"))
        .await;
    let message = assert_text_error(&r, StatusCode::BAD_REQUEST);
    assert!(message.contains("keytext"), "{message}");
    let huge = "keytext=".to_string() + &"A".repeat(3 * 1024 * 1024);
    let r = h
        .call("POST", "/pks/add", Some(&token), Body::from(huge))
        .await;
    assert_text_error(&r, StatusCode::PAYLOAD_TOO_LARGE);
    let big = "A".repeat(silo_domain::services::MAX_KEYTEXT_BYTES + 1);
    let r = add(&h, Some(&token), &big).await;
    assert_text_error(&r, StatusCode::BAD_REQUEST);

    let r = lookup(&h, "op=index&options=mr&search=alice").await;
    assert_text_error(&r, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_and_unknown_lookups() {
    let (h, _) = with_alice_and_bob().await;
    let unknown = "0123456789ABCDEF0123456789ABCDEF01234567";
    for query in [
        format!("op=get&search=0x{unknown}"),
        format!("op=index&options=mr&search=0x{}", &unknown[24..]),
        "op=get&search=0x01234567".to_string(),
        "op=index&search=nobody%40nowhere.example".to_string(),
    ] {
        let r = lookup(&h, &query).await;
        assert_text_error(&r, StatusCode::NOT_FOUND);
    }
    for query in [
        "op=get",
        "search=alice",
        "",
        "op=get&search=0x123",
        "op=get&search=0xnothex",
        "op=get&search=",
    ] {
        let r = lookup(&h, query).await;
        assert_text_error(&r, StatusCode::BAD_REQUEST);
    }
    let r = lookup(&h, &format!("op=stats&search={}", search("x"))).await;
    assert_text_error(&r, StatusCode::NOT_IMPLEMENTED);
    let long = "a".repeat(1000);
    let r = lookup(&h, &format!("op=index&search={long}")).await;
    assert_text_error(&r, StatusCode::BAD_REQUEST);

    // A bad credential is refused on lookups too; none is fine.
    let r = h
        .get(
            &format!("/pks/lookup?op=get&search=0x{}", alice_fpr()),
            Some("silo_bogus"),
        )
        .await;
    assert_text_error(&r, StatusCode::UNAUTHORIZED);

    // /pks/ never falls back to the web interface.
    let r = h.get("/pks/nothing", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!text(&r).contains("<html"));
    let r = h.call("GET", "/pks/add", None, Body::empty()).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn concurrent_uploads_of_one_new_key() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    let (a, b, c, d) = tokio::join!(
        add(&h, Some(&token), ALICE),
        add(&h, Some(&token), ALICE),
        add(&h, Some(&token), ALICE),
        add(&h, Some(&token), ALICE),
    );
    let replies = [a, b, c, d];
    for r in &replies {
        assert_eq!(r.status, StatusCode::OK, "{}", text(r));
    }
    let added = replies
        .iter()
        .filter(|r| text(r).starts_with("added:"))
        .count();
    assert_eq!(added, 1);
    let r = lookup(&h, "op=index&options=mr&search=alice").await;
    assert!(text(&r).starts_with("info:1:1\n"));
}
