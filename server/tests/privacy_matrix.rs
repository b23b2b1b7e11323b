//! The privacy matrix: every kind of caller × every read and write operation of every surface
//! (library API, OCI, shub, sregistry, REST, the SPA's server functions) × a public and a
//! private collection, of a user's entity and of a team's. The rule table is
//! `privacy_support/rules.rs` (who holds which role, what each operation needs, how each
//! surface refuses); each cell asserts the exact status and, for lists and totals, that the
//! target shows exactly when the caller may read it. All cells run, then every failing one
//! is printed as a matrix.
mod common;
mod privacy_support;
#[path = "common/sregistry.rs"]
mod sreg;

use privacy_support::ops::{Op, READS, WRITES};
use privacy_support::rules::{can_read, expected_status, level, Level};
use privacy_support::world::{self, Who};
use privacy_support::{report, Failure};

async fn run_cells(w: &world::World, ops: &[Op], failures: &mut Vec<Failure>) {
    for op in ops {
        for target in &w.targets {
            for who in Who::ALL {
                let expected =
                    expected_status(op.need, op.ok, &op.refusals, level(who, target), target);
                let seen = op.run(w, who, target).await;
                if seen.status != expected || seen.problem.is_some() {
                    failures.push(Failure {
                        op: op.name,
                        target: target.label(),
                        who,
                        expected,
                        got: seen.status,
                        problem: seen.problem,
                    });
                }
            }
        }
    }
}

#[tokio::test]
async fn privacy_matrix() {
    let w = world::build().await;
    let mut failures = Vec::new();
    run_cells(&w, READS, &mut failures).await;
    run_cells(&w, WRITES, &mut failures).await;
    assert!(failures.is_empty(), "\n{}", report(&failures));
}

/// `/api/events`: each caller hears of a push exactly when it may read the container; expired
/// and revoked tokens cannot even open the stream.
#[tokio::test]
async fn events_reach_exactly_the_readers() {
    let w = world::build().await;
    let mut streams = Vec::new();
    for who in Who::ALL {
        streams.push((who, privacy_support::events::open(&w.h, w.creds(who)).await));
    }
    for (i, target) in w.targets.iter().enumerate() {
        let bytes = format!("event probe {i}").into_bytes();
        w.h.push(
            &w.admin_token,
            &target.container_id.to_string(),
            &bytes,
            "probe",
        )
        .await;
    }
    let mut wrong = Vec::new();
    for (who, stream) in &mut streams {
        let refused = w.targets.iter().all(|t| level(*who, t) == Level::Refused);
        match stream {
            Err(status) if refused && *status == 401 => {}
            Err(status) => wrong.push(format!("{}: stream refused with {status}", who.label())),
            Ok(_) if refused => wrong.push(format!("{}: stream opened", who.label())),
            Ok(stream) => {
                let heard = stream.paths().await;
                let want: Vec<String> = w
                    .targets
                    .iter()
                    .filter(|t| can_read(level(*who, t), t))
                    .map(|t| t.path())
                    .collect();
                if heard != want {
                    wrong.push(format!("{}: heard {heard:?}, want {want:?}", who.label()));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Share links pull exactly their one private container, through the browser download URL
/// and the shub name `share/<secret>`; an expired link pulls nothing.
/// As a bearer token on the library API the link pulls that container and nothing else.
#[tokio::test]
async fn share_links_pull_exactly_their_container() {
    let w = world::build().await;
    let diary = w.targets.iter().find(|t| t.collection == "diary").unwrap();
    let live = w.creds(Who::ShareLink).share.clone().unwrap();
    let expired = w.creds(Who::ExpiredShareLink).share.clone().unwrap();
    let r =
        w.h.get(&format!("/share/{live}/download?tag=v1"), None)
            .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, diary.bytes, "the shared container's image");
    let r =
        w.h.get(&format!("/api/container/share/{live}:v1"), None)
            .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let url = r.json()["image"].as_str().unwrap().to_string();
    assert_eq!(w.h.get(&url, None).await.body, diary.bytes);
    for uri in [
        format!("/share/{expired}/download"),
        format!("/api/container/share/{expired}"),
        "/share/not-a-link/download".to_string(),
    ] {
        let r = w.h.get(&uri, None).await;
        assert_eq!(r.status, 404, "{uri}");
        assert!(!String::from_utf8_lossy(&r.body).contains("IMAGE-OF"));
    }
    // As a bearer token the link pulls its own container and no other private one.
    let r =
        w.h.get(&format!("/v1/imagefile/{}:v1", diary.path()), Some(&live))
            .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, diary.bytes);
    let drafts = w.targets.iter().find(|t| t.collection == "drafts").unwrap();
    let r =
        w.h.get(&format!("/v1/imagefile/{}:v1", drafts.path()), Some(&live))
            .await;
    assert!(matches!(r.status.as_u16(), 401 | 403 | 404), "{}", r.status);
    assert_ne!(r.body, drafts.bytes);
}

/// A private image's bytes are reachable only under its own name: never by its digest through
/// a public repository of the same entity, nor by mounting it from a repository the pusher
/// may not read.
#[tokio::test]
async fn private_content_never_leaks_through_other_names() {
    let w = world::build().await;
    let owner = w.creds(Who::Owner).token.clone();
    let team = w.creds(Who::TeamMember).token.clone();
    let diary = w.targets.iter().find(|t| t.collection == "diary").unwrap();
    let sha = diary.sha();
    let mut wrong = Vec::new();
    for (who, token) in [("anonymous", None), ("owner", owner.as_deref())] {
        for uri in [
            format!("/v2/olivia/gallery/tool/blobs/sha256:{sha}"),
            format!("/v2/olivia/gallery/tool/manifests/sha256:{sha}"),
            format!("/v1/images/olivia/gallery/tool:sha256.{sha}"),
            format!("/v1/imagefile/olivia/gallery/tool:sha256.{sha}"),
            format!("/api/container/olivia/gallery/tool@{sha}"),
        ] {
            let r = w.h.get(&uri, token).await;
            // The shub endpoint answers unsigned anonymous misses 403 (see rules::SREGISTRY).
            let want = if token.is_none() && uri.starts_with("/api/") {
                403
            } else {
                404
            };
            // The request's own digest may be echoed; the image's bytes must not appear.
            let leaked = String::from_utf8_lossy(&r.body).contains("IMAGE-OF-");
            if r.status != want || leaked {
                wrong.push(format!("{who} {uri}: {}", r.status));
            }
        }
    }
    // The team member may push into lab/papers but not read olivia/diary: no mount.
    let uri =
        format!("/v2/lab/papers/tool/blobs/uploads/?mount=sha256:{sha}&from=olivia/diary/tool");
    let r =
        w.h.call("POST", &uri, team.as_deref(), axum::body::Body::empty())
            .await;
    if r.status != 202 {
        wrong.push(format!(
            "mount answered {} (want 202: upload instead)",
            r.status
        ));
    }
    let r =
        w.h.get(
            &format!("/v2/lab/papers/tool/blobs/sha256:{sha}"),
            team.as_deref(),
        )
        .await;
    if r.status != 404 {
        wrong.push(format!("mounted blob readable in lab/papers: {}", r.status));
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
