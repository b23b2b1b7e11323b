//! Every operation of the matrix: its surface, what it needs (the rule table) and how to run
//! it as one caller against one target. Reads run first, on the untouched world; writes
//! prepare what they act on (a victim image, a manifest) per cell, so cells stay independent.
use super::http::{holds_private_content, json, names_target, rpc, send, Auth};
use super::rules::{self, can_read, level, Need, Refusals};
use super::world::{Target, Who, World, CONTAINER, TAG};
use crate::common::sha256_hex;

/// One operation of the matrix.
pub struct Op {
    pub name: &'static str,
    pub need: Need,
    /// The status of success.
    pub ok: u16,
    pub refusals: Refusals,
    pub kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    LibEntity,
    LibCollection,
    LibContainer,
    LibImage,
    LibTags,
    LibPull,
    LibSearch,
    OciTokenPull,
    OciTokenPush,
    OciManifest,
    OciBlob,
    OciTagList,
    OciCatalog,
    ShubPull,
    SregCollections,
    SregCollection,
    SregSearch,
    SregPull,
    RestEntity,
    RestEntities,
    RestCollections,
    RestCollection,
    RestContainers,
    RestContainer,
    RestImages,
    RestContainerUsage,
    RestUsage,
    RestStats,
    SpaCollections,
    SpaCollection,
    SpaContainer,
    SpaSearch,
    SpaTreemap,
    SpaUsage,
    SpaContainerUsage,
    SpaCollectionUsage,
    SpaEntity,
    SpaHome,
    SpaHighlights,
    SpaStars,
    // Writes.
    SpaStar,
    WebUpload,
    OciBlobUpload,
    OciBlobDelete,
    LibPush,
    LibTag,
    LibCreateContainer,
    LibDelete,
    OciPut,
    OciDelete,
    SregPush,
    SregDelete,
}

const fn op(name: &'static str, need: Need, ok: u16, refusals: Refusals, kind: Kind) -> Op {
    Op {
        name,
        need,
        ok,
        refusals,
        kind,
    }
}

use rules::{
    OCI, OCI_PUSH, SREGISTRY, SREGISTRY_LISTING, SREGISTRY_PUSH, STANDARD, STANDARD_WRITE,
    WEB_WRITE,
};
use Kind::*;
use Need::{Delete, List, Push, Read, SignedInRead};

/// The operations that change nothing, in the order they run.
pub const READS: &[Op] = &[
    op("lib GET entity", List, 200, STANDARD, LibEntity),
    op("lib GET collection", Read, 200, STANDARD, LibCollection),
    op("lib GET container", Read, 200, STANDARD, LibContainer),
    op("lib GET image", Read, 200, STANDARD, LibImage),
    op("lib GET tags", Read, 200, STANDARD, LibTags),
    op("lib pull", Read, 200, STANDARD, LibPull),
    op("lib search", List, 200, STANDARD, LibSearch),
    op("oci token pull", List, 200, OCI, OciTokenPull),
    op("oci token push+delete", List, 200, OCI, OciTokenPush),
    op("oci GET manifest", Read, 200, OCI, OciManifest),
    op("oci GET blob", Read, 200, OCI, OciBlob),
    op("oci tags/list", Read, 200, OCI, OciTagList),
    op("oci _catalog", List, 200, OCI, OciCatalog),
    op("shub pull", Read, 200, SREGISTRY, ShubPull),
    op("sreg collections", List, 200, SREGISTRY, SregCollections),
    op(
        "sreg collection",
        Read,
        200,
        SREGISTRY_LISTING,
        SregCollection,
    ),
    op("sreg search", List, 200, SREGISTRY, SregSearch),
    op("sreg pull (signed)", Read, 200, SREGISTRY, SregPull),
    op("rest entity", List, 200, STANDARD, RestEntity),
    op("rest entities", List, 200, STANDARD, RestEntities),
    op("rest collections", List, 200, STANDARD, RestCollections),
    op("rest collection", Read, 200, STANDARD, RestCollection),
    op("rest containers", List, 200, STANDARD, RestContainers),
    op("rest container", Read, 200, STANDARD, RestContainer),
    op("rest images", Read, 200, STANDARD, RestImages),
    op(
        "rest container usage",
        Read,
        200,
        STANDARD,
        RestContainerUsage,
    ),
    op("rest usage", List, 200, STANDARD, RestUsage),
    op("rest stats", List, 200, STANDARD, RestStats),
    op("spa collections", List, 200, STANDARD, SpaCollections),
    op("spa collection", Read, 200, STANDARD, SpaCollection),
    op("spa container", Read, 200, STANDARD, SpaContainer),
    op("spa search", List, 200, STANDARD, SpaSearch),
    op("spa treemap", List, 200, STANDARD, SpaTreemap),
    op("spa usage", List, 200, STANDARD, SpaUsage),
    op(
        "spa container usage",
        Read,
        200,
        STANDARD,
        SpaContainerUsage,
    ),
    op(
        "spa collection usage",
        Read,
        200,
        STANDARD,
        SpaCollectionUsage,
    ),
    op("spa entity", List, 200, STANDARD, SpaEntity),
    op("spa home", List, 200, STANDARD, SpaHome),
    op("spa highlights", List, 200, STANDARD, SpaHighlights),
    op("spa stars", Read, 200, STANDARD, SpaStars),
];

/// The operations that change something.
pub const WRITES: &[Op] = &[
    op("lib push", Push, 200, STANDARD_WRITE, LibPush),
    op("lib tag set", Push, 200, STANDARD_WRITE, LibTag),
    op(
        "lib new container",
        Push,
        200,
        STANDARD_WRITE,
        LibCreateContainer,
    ),
    op("lib DELETE image", Delete, 200, STANDARD_WRITE, LibDelete),
    op("oci blob upload", Push, 202, OCI_PUSH, OciBlobUpload),
    op("oci PUT manifest", Push, 201, OCI_PUSH, OciPut),
    op("oci DELETE manifest", Delete, 202, OCI, OciDelete),
    op("oci DELETE blob", Delete, 202, OCI, OciBlobDelete),
    op("sreg push", Push, 200, SREGISTRY_PUSH, SregPush),
    op("sreg DELETE", Delete, 204, SREGISTRY, SregDelete),
    op("spa star", SignedInRead, 200, STANDARD_WRITE, SpaStar),
    op("web upload", Push, 201, WEB_WRITE, WebUpload),
];

/// What one cell saw: the status, and what was wrong with the body if anything.
pub struct Observed {
    pub status: u16,
    pub problem: Option<String>,
}

/// Bytes of the targets `who` may read (in `entity` only, if given): what totals must say.
fn readable_bytes(w: &World, who: Who, entity: Option<&str>) -> u64 {
    w.targets
        .iter()
        .filter(|t| can_read(level(who, t), t) && entity.is_none_or(|e| e == t.entity))
        .map(|t| t.bytes.len() as u64)
        .sum()
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Op {
    pub async fn run(&self, w: &World, who: Who, t: &Target) -> Observed {
        let creds = w.creds(who);
        let h = &w.h;
        let visible = can_read(level(who, t), t);
        let path = t.path();
        let (e, c) = (t.entity, t.collection);
        let get = |uri: String, auth: Auth<'static>| async move {
            send(h, creds, auth, "GET", &uri, &[], vec![]).await
        };
        let mut problem = None;
        // The list must show the target exactly when the caller may read it.
        let listed = |reply: &crate::common::Reply, problem: &mut Option<String>| {
            if reply.status != 200 {
                return;
            }
            let shown = json(reply).is_some_and(|v| names_target(&v, t));
            if shown != visible {
                *problem = Some(format!("lists {}: {shown}", t.label()));
            }
        };
        let total = |reply: &crate::common::Reply,
                     pointer: &str,
                     entity: Option<&str>,
                     problem: &mut Option<String>| {
            if reply.status != 200 {
                return;
            }
            let want = readable_bytes(w, who, entity);
            let got = json(reply).and_then(|v| v.pointer(pointer).and_then(|n| n.as_u64()));
            if got != Some(want) {
                *problem = Some(format!("{pointer} = {got:?}, want {want}"));
            }
        };
        let reply = match self.kind {
            LibEntity => {
                let r = get(format!("/v1/entities/{e}"), Auth::Bearer).await;
                if r.status == 200 {
                    let ids = json(&r).map(|v| v["data"]["collections"].to_string());
                    let shown =
                        ids.is_some_and(|s| s.contains(&format!("\"{}\"", t.collection_id)));
                    if shown != visible {
                        problem = Some(format!("collection ids list it: {shown}"));
                    }
                }
                total(&r, "/data/size", Some(e), &mut problem);
                r
            }
            LibCollection => get(format!("/v1/collections/{e}/{c}"), Auth::Bearer).await,
            LibContainer => get(format!("/v1/containers/{path}"), Auth::Bearer).await,
            LibImage => get(format!("/v1/images/{path}:{TAG}"), Auth::Bearer).await,
            LibTags => get(format!("/v1/tags/{}", t.container_id), Auth::Bearer).await,
            LibPull => {
                let r = get(format!("/v1/imagefile/{path}:{TAG}"), Auth::Bearer).await;
                if r.status == 200 && r.body != t.bytes {
                    problem = Some("wrong bytes".into());
                }
                r
            }
            LibSearch => {
                let r = get(format!("/v1/search?value={c}"), Auth::Bearer).await;
                listed(&r, &mut problem);
                r
            }
            OciTokenPull | OciTokenPush => {
                let actions = if self.kind == OciTokenPull {
                    "pull"
                } else {
                    "pull,push,delete"
                };
                let r = get(
                    format!("/v2/token?service=registry.test&scope=repository:{path}:{actions}"),
                    Auth::Bearer,
                )
                .await;
                if r.status == 200 {
                    let granted = granted_actions(&r);
                    let lvl = level(who, t);
                    let mut want = vec!["pull".to_string()];
                    if self.kind == OciTokenPush && lvl >= rules::Level::Contributor {
                        want.push("push".into());
                    }
                    if self.kind == OciTokenPush && lvl >= rules::Level::Owner {
                        want.push("delete".into());
                    }
                    if granted != want {
                        problem = Some(format!("grants {granted:?}, want {want:?}"));
                    }
                }
                r
            }
            OciManifest => get(format!("/v2/{path}/manifests/{TAG}"), Auth::Bearer).await,
            OciBlob => {
                let r = get(format!("/v2/{path}/blobs/sha256:{}", t.sha()), Auth::Bearer).await;
                if r.status == 200 && r.body != t.bytes {
                    problem = Some("wrong bytes".into());
                }
                r
            }
            OciTagList => get(format!("/v2/{path}/tags/list"), Auth::Bearer).await,
            OciCatalog => {
                let r = get("/v2/_catalog".into(), Auth::Bearer).await;
                listed(&r, &mut problem);
                r
            }
            ShubPull | SregPull => {
                let auth = if self.kind == ShubPull {
                    Auth::Bearer
                } else {
                    Auth::Signed("pull", "", CONTAINER, TAG)
                };
                let collection = format!("{e}/{c}");
                let auth = match auth {
                    Auth::Signed(kind, _, n, tag) => {
                        let value = creds
                            .key
                            .as_ref()
                            .map(|k| super::http::signature(k, kind, &collection, n, tag));
                        let headers: Vec<(&str, String)> =
                            value.into_iter().map(|v| ("authorization", v)).collect();
                        let uri = format!("/api/container/{path}:{TAG}");
                        let r = send(h, creds, Auth::None, "GET", &uri, &headers, vec![]).await;
                        return finish_pull(h, t, r).await;
                    }
                    other => other,
                };
                let r = get(format!("/api/container/{path}:{TAG}"), auth).await;
                return finish_pull(h, t, r).await;
            }
            SregCollections => {
                let r = get("/api/collections/".into(), Auth::Bearer).await;
                listed(&r, &mut problem);
                r
            }
            SregCollection => get(format!("/api/collection/{e}/{c}"), Auth::Bearer).await,
            SregSearch => {
                let r = get(
                    format!("/api/container/search/collection/{e}/{c}/name/{CONTAINER}"),
                    Auth::Bearer,
                )
                .await;
                listed(&r, &mut problem);
                r
            }
            RestEntity => {
                let r = get(format!("/api/v1/entities/{e}"), Auth::Bearer).await;
                total(&r, "/size_bytes", Some(e), &mut problem);
                r
            }
            RestEntities => {
                let r = get(format!("/api/v1/entities?q={e}"), Auth::Bearer).await;
                total(&r, "/items/0/size_bytes", Some(e), &mut problem);
                r
            }
            RestCollections => {
                let r = get("/api/v1/collections?per_page=100".into(), Auth::Bearer).await;
                listed(&r, &mut problem);
                r
            }
            RestCollection => get(format!("/api/v1/collections/{e}/{c}"), Auth::Bearer).await,
            RestContainers => {
                let r = get("/api/v1/containers?per_page=100".into(), Auth::Bearer).await;
                listed(&r, &mut problem);
                r
            }
            RestContainer => get(format!("/api/v1/containers/{path}"), Auth::Bearer).await,
            RestImages => get(format!("/api/v1/containers/{path}/images"), Auth::Bearer).await,
            RestContainerUsage => {
                get(format!("/api/v1/containers/{path}/usage"), Auth::Bearer).await
            }
            RestUsage => {
                let r = get("/api/v1/usage".into(), Auth::Bearer).await;
                let last = json(&r).map_or(0, |v| v["days"].as_array().map_or(0, Vec::len));
                total(
                    &r,
                    &format!("/days/{}/bytes_total", last.saturating_sub(1)),
                    None,
                    &mut problem,
                );
                r
            }
            RestStats => {
                let r = get("/api/v1/stats".into(), Auth::Bearer).await;
                total(&r, "/size_bytes", None, &mut problem);
                r
            }
            SpaCollections => {
                let form = "request[sort]=Name&request[descending]=false&request[entity]=\
                            &request[filter]=&request[page]=1";
                let r = rpc(w, creds, "collections", form).await;
                listed(&r, &mut problem);
                r
            }
            SpaCollection => {
                rpc(
                    w,
                    creds,
                    "collection",
                    &format!("entity={e}&collection={c}"),
                )
                .await
            }
            SpaContainer => {
                let form = format!("entity={e}&collection={c}&container={CONTAINER}");
                rpc(w, creds, "container", &form).await
            }
            SpaSearch => {
                let r = rpc(w, creds, "search", &format!("q={c}")).await;
                listed(&r, &mut problem);
                r
            }
            SpaTreemap => {
                let r = rpc(w, creds, "treemap", "").await;
                listed(&r, &mut problem);
                r
            }
            SpaUsage => {
                let r = rpc(w, creds, "usage", "path=&days=30").await;
                total(&r, "/days/29/bytes_total", None, &mut problem);
                r
            }
            SpaContainerUsage => {
                let form = format!("path={}&days=30", form_encode(&path));
                rpc(w, creds, "usage", &form).await
            }
            SpaCollectionUsage => {
                let form = format!("path={}&days=30", form_encode(&t.label()));
                let r = rpc(w, creds, "usage", &form).await;
                if r.status == 200 {
                    let want = t.bytes.len() as u64;
                    let got = json(&r).and_then(|v| v.pointer("/days/29/bytes_total")?.as_u64());
                    if got != Some(want) {
                        problem = Some(format!("bytes_total = {got:?}, want {want}"));
                    }
                }
                r
            }
            SpaEntity => {
                let r = rpc(w, creds, "entity", &format!("entity={e}&page=1")).await;
                listed(&r, &mut problem);
                if problem.is_none() {
                    total(&r, "/size_bytes", Some(e), &mut problem);
                }
                r
            }
            SpaHome => {
                let r = rpc(w, creds, "home", "").await;
                listed(&r, &mut problem);
                r
            }
            SpaHighlights => {
                let r = rpc(w, creds, "highlights", "").await;
                listed(&r, &mut problem);
                r
            }
            SpaStars => {
                let form = format!("entity={e}&collection={c}&container={CONTAINER}");
                rpc(w, creds, "stars", &form).await
            }
            LibPush | LibTag | LibCreateContainer | LibDelete | OciPut | OciDelete | SregPush
            | SregDelete | SpaStar | WebUpload | OciBlobUpload | OciBlobDelete => {
                return super::writes::run(self.kind, w, who, t).await
            }
        };
        if problem.is_none() && !visible && holds_private_content(&reply.body, t) {
            problem = Some("private content in the answer".into());
        }
        Observed {
            status: reply.status.as_u16(),
            problem,
        }
    }
}

/// The actions a registry token grants (its claims are hex JSON between `oci.` and `.`).
fn granted_actions(reply: &crate::common::Reply) -> Vec<String> {
    let token = json(reply).and_then(|v| v["token"].as_str().map(str::to_string));
    let claims = token
        .and_then(|t| t.split('.').nth(1).map(str::to_string))
        .and_then(|hex| hex::decode(hex).ok())
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok());
    claims
        .and_then(|c| c["g"][0]["actions"].as_array().cloned())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect()
}

/// A shub/sregistry manifest answer, followed to its download URL when it is a success.
async fn finish_pull(h: &crate::common::Harness, t: &Target, r: crate::common::Reply) -> Observed {
    let status = r.status.as_u16();
    if status != 200 {
        let problem = holds_private_content(&r.body, t).then(|| "private content".to_string());
        return Observed { status, problem };
    }
    let url = json(&r).and_then(|v| v["image"].as_str().map(str::to_string));
    let Some(url) = url else {
        return Observed {
            status,
            problem: Some("no image URL".into()),
        };
    };
    // The capability URL needs no credentials; fetch it without any.
    let fetched = send(h, &Default::default(), Auth::None, "GET", &url, &[], vec![]).await;
    let problem = (fetched.status != 200 || fetched.body != t.bytes).then(|| {
        format!(
            "download URL answered {} ({} bytes)",
            fetched.status,
            fetched.body.len()
        )
    });
    Observed { status, problem }
}

/// The sha256 of `bytes`, as the library API's `sha256.<hex>`.
pub fn library_hash(bytes: &[u8]) -> String {
    format!("sha256.{}", sha256_hex(bytes))
}
