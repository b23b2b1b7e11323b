//! The write cells. Each prepares what it acts on as the admin (a victim image to delete, a
//! manifest to remove), tries the write as the caller, and checks afterwards that the write
//! happened exactly when it was answered with success.
use serde_json::json;

use super::http::{json as parse, send, signature, Auth};
use super::ops::{Kind, Observed};
use super::world::{Target, Who, World, CONTAINER};
use crate::common::sha256_hex;

fn unique(who: Who, t: &Target, what: &str) -> String {
    format!("{what}-{}-{}", who.label(), t.collection)
}

fn problem_if(cond: bool, what: impl FnOnce() -> String) -> Option<String> {
    cond.then(what)
}

/// A manifest of the empty config and the target's library image (visible as a blob).
fn manifest(t: &Target) -> Vec<u8> {
    json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.empty.v1+json",
            "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            "size": 2
        },
        "layers": [{
            "mediaType": "application/octet-stream",
            "digest": format!("sha256:{}", t.sha()),
            "size": t.bytes.len()
        }]
    })
    .to_string()
    .into_bytes()
}

async fn put_manifest(w: &World, token: Option<&str>, t: &Target, tag: &str) -> u16 {
    let creds = super::world::Creds {
        token: token.map(str::to_string),
        ..Default::default()
    };
    send(
        &w.h,
        &creds,
        Auth::Bearer,
        "PUT",
        &format!("/v2/{}/manifests/{tag}", t.path()),
        &[(
            "content-type",
            "application/vnd.oci.image.manifest.v1+json".into(),
        )],
        manifest(t),
    )
    .await
    .status
    .as_u16()
}

/// The admin can see the image (`sha256.<hex>`) in the target container.
async fn image_exists(w: &World, t: &Target, bytes: &[u8]) -> bool {
    let uri = format!("/v1/images/{}:sha256.{}", t.path(), sha256_hex(bytes));
    w.h.get(&uri, Some(&w.admin_token)).await.status == 200
}

pub async fn run(kind: Kind, w: &World, who: Who, t: &Target) -> Observed {
    let creds = w.creds(who);
    let h = &w.h;
    let path = t.path();
    let post = |uri: String, body: serde_json::Value| async move {
        send(
            h,
            creds,
            Auth::Bearer,
            "POST",
            &uri,
            &[],
            body.to_string().into_bytes(),
        )
        .await
    };
    let (status, problem) = match kind {
        Kind::LibPush => {
            let bytes = unique(who, t, "pushed").into_bytes();
            let hash = format!("sha256.{}", sha256_hex(&bytes));
            let r = post(
                "/v1/images".into(),
                json!({"hash": hash, "container": t.container_id.to_string()}),
            )
            .await;
            let mut problem = None;
            if r.status == 200 {
                let id = parse(&r).and_then(|v| v["data"]["id"].as_str().map(str::to_string));
                let id = id.unwrap_or_default();
                let body =
                    json!({"filesize": bytes.len(), "sha256sum": sha256_hex(&bytes), "md5sum": ""});
                let start = post(format!("/v2/imagefile/{id}"), body).await;
                let url = parse(&start)
                    .and_then(|v| v["data"]["uploadURL"].as_str().map(str::to_string))
                    .unwrap_or_default();
                let put = send(
                    h,
                    &Default::default(),
                    Auth::None,
                    "PUT",
                    &url,
                    &[],
                    bytes.clone(),
                )
                .await;
                let done = send(
                    h,
                    creds,
                    Auth::Bearer,
                    "PUT",
                    &format!("/v2/imagefile/{id}/_complete"),
                    &[],
                    b"{}".to_vec(),
                )
                .await;
                problem = problem_if(
                    start.status != 200 || put.status != 200 || done.status != 200,
                    || {
                        format!(
                            "upload steps {} {} {}",
                            start.status, put.status, done.status
                        )
                    },
                );
            }
            let exists = image_exists(w, t, &bytes).await;
            (
                r.status.as_u16(),
                problem.or(problem_if(exists != (r.status == 200), || {
                    format!("image exists afterwards: {exists}")
                })),
            )
        }
        Kind::LibTag => {
            let tag = unique(who, t, "t");
            let r = post(
                format!("/v1/tags/{}", t.container_id),
                json!({"Tag": tag, "ImageID": t.image_id.to_string()}),
            )
            .await;
            let uri = format!("/v1/images/{path}:{tag}");
            let exists = w.h.get(&uri, Some(&w.admin_token)).await.status == 200;
            (
                r.status.as_u16(),
                problem_if(exists != (r.status == 200), || {
                    format!("tag exists afterwards: {exists}")
                }),
            )
        }
        Kind::LibCreateContainer => {
            let name = unique(who, t, "new");
            let r = post(
                "/v1/containers".into(),
                json!({"name": name, "collection": t.collection_id.to_string()}),
            )
            .await;
            let uri = format!("/v1/containers/{}/{}/{name}", t.entity, t.collection);
            let exists = w.h.get(&uri, Some(&w.admin_token)).await.status == 200;
            (
                r.status.as_u16(),
                problem_if(exists != (r.status == 200), || {
                    format!("container exists afterwards: {exists}")
                }),
            )
        }
        Kind::LibDelete | Kind::SregDelete => {
            let tag = unique(who, t, "victim");
            let bytes = tag.clone().into_bytes();
            w.h.push(&w.admin_token, &t.container_id.to_string(), &bytes, &tag)
                .await;
            let r = if kind == Kind::LibDelete {
                let uri = format!("/v1/images/{path}:sha256.{}", sha256_hex(&bytes));
                send(h, creds, Auth::Bearer, "DELETE", &uri, &[], vec![]).await
            } else {
                let collection = format!("{}/{}", t.entity, t.collection);
                let headers: Vec<(&str, String)> = creds
                    .key
                    .as_ref()
                    .map(|k| signature(k, "delete", &collection, CONTAINER, &tag))
                    .into_iter()
                    .map(|v| ("authorization", v))
                    .collect();
                let uri = format!("/api/container/{path}:{tag}");
                send(h, creds, Auth::None, "DELETE", &uri, &headers, vec![]).await
            };
            let exists = image_exists(w, t, &bytes).await;
            let ok = r.status.is_success();
            (
                r.status.as_u16(),
                problem_if(exists == ok, || {
                    format!("image exists afterwards: {exists}")
                }),
            )
        }
        Kind::OciPut => {
            let tag = unique(who, t, "m");
            let status = put_manifest(w, creds.token.as_deref(), t, &tag).await;
            let uri = format!("/v2/{path}/manifests/{tag}");
            let exists = w.h.get(&uri, Some(&w.admin_token)).await.status == 200;
            (
                status,
                problem_if(exists != (status == 201), || {
                    format!("manifest exists afterwards: {exists}")
                }),
            )
        }
        Kind::OciDelete => {
            let tag = unique(who, t, "d");
            assert_eq!(put_manifest(w, Some(&w.admin_token), t, &tag).await, 201);
            let uri = format!("/v2/{path}/manifests/{tag}");
            let r = send(h, creds, Auth::Bearer, "DELETE", &uri, &[], vec![]).await;
            let exists = w.h.get(&uri, Some(&w.admin_token)).await.status == 200;
            (
                r.status.as_u16(),
                problem_if(exists == (r.status == 202), || {
                    format!("manifest exists afterwards: {exists}")
                }),
            )
        }
        Kind::SregPush => {
            let tag = unique(who, t, "s");
            let collection = format!("{}/{}", t.entity, t.collection);
            let sign = |kind: &str, coll: &str| {
                creds
                    .key
                    .as_ref()
                    .map(|k| signature(k, kind, coll, CONTAINER, &tag))
            };
            let headers: Vec<(&str, String)> = sign("push", &collection)
                .into_iter()
                .map(|v| ("authorization", v))
                .collect();
            let body = json!({"collection": collection, "name": CONTAINER, "tag": tag});
            let first = send(
                h,
                creds,
                Auth::None,
                "POST",
                "/api/upload/chunked_upload",
                &headers,
                body.to_string().into_bytes(),
            )
            .await;
            let bytes = unique(who, t, "sregistry-push").into_bytes();
            let mut problem = None;
            if first.status == 200 {
                let auth = sign("upload", &collection).unwrap_or_default();
                let form = crate::sreg::form(&auth, CONTAINER, &collection, &tag, &bytes);
                let second = crate::sreg::upload(h, &auth, form).await;
                problem = problem_if(second.status != 200, || {
                    format!("upload answered {}", second.status)
                });
            }
            let exists = image_exists(w, t, &bytes).await;
            (
                first.status.as_u16(),
                problem.or(problem_if(exists != (first.status == 200), || {
                    format!("image exists afterwards: {exists}")
                })),
            )
        }
        Kind::OciBlobUpload => {
            let uri = format!("/v2/{path}/blobs/uploads/");
            let r = send(h, creds, Auth::Bearer, "POST", &uri, &[], vec![]).await;
            (r.status.as_u16(), None)
        }
        Kind::OciBlobDelete => {
            let bytes = unique(who, t, "blob").into_bytes();
            let digest = format!("sha256:{}", sha256_hex(&bytes));
            let admin = super::world::Creds {
                token: Some(w.admin_token.clone()),
                ..Default::default()
            };
            let uri = format!("/v2/{path}/blobs/uploads/?digest={digest}");
            let up = send(h, &admin, Auth::Bearer, "POST", &uri, &[], bytes).await;
            assert_eq!(up.status, 201, "victim blob upload");
            let uri = format!("/v2/{path}/blobs/{digest}");
            let r = send(h, creds, Auth::Bearer, "DELETE", &uri, &[], vec![]).await;
            let exists = send(h, &admin, Auth::Bearer, "GET", &uri, &[], vec![])
                .await
                .status
                == 200;
            (
                r.status.as_u16(),
                problem_if(exists == (r.status == 202), || {
                    format!("blob exists afterwards: {exists}")
                }),
            )
        }
        Kind::SpaStar => {
            let form = format!(
                "entity={}&collection={}&container={CONTAINER}&on=true",
                t.entity, t.collection
            );
            let r = super::http::rpc(w, creds, "star", &form).await;
            let starred = parse(&r).is_some_and(|v| v["starred"] == true);
            (
                r.status.as_u16(),
                problem_if(starred != (r.status == 200), || {
                    format!("starred: {starred}")
                }),
            )
        }
        Kind::WebUpload => {
            let tag = unique(who, t, "w");
            let bytes = unique(who, t, "web-upload").into_bytes();
            let uri = format!(
                "/web/upload?entity={}&collection={}&container={CONTAINER}&tag={tag}",
                t.entity, t.collection
            );
            let headers = [("content-length", bytes.len().to_string())];
            let r = send(
                h,
                creds,
                Auth::Browser,
                "POST",
                &uri,
                &headers,
                bytes.clone(),
            )
            .await;
            let exists = image_exists(w, t, &bytes).await;
            (
                r.status.as_u16(),
                problem_if(exists != (r.status == 201), || {
                    format!("image exists afterwards: {exists}")
                }),
            )
        }
        other => unreachable!("{other:?} is not a write"),
    };
    Observed { status, problem }
}
