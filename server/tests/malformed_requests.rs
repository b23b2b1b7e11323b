//! The malformed-request sweep: for every route of every surface (library, OCI, sregistry
//! and shub, REST, keyserver, web upload, server functions), malformed variants — bad,
//! huge and negative numbers, bad JSON and wrong JSON types, invalid names and references,
//! bad digests, bad `Range` / `Content-Range`, missing or garbled credentials, path segments
//! with `%2e%2e` and `%00` — must be answered with a 4xx in that surface's error envelope,
//! never a 5xx or a panic. The JSON bodies include the `json_body` fuzz corpus.
mod common;
mod malformed_support;

use common::PUBLIC_URL;
use malformed_support::{
    assert_not_server_error, assert_refused, bad_json_bodies, fuzz_corpus, long_segment, send,
    world, wrong_digest, Envelope, BAD_NUMBERS, HOSTILE_SEGMENTS,
};

/// Every hostile segment and the over-long one.
fn segments() -> Vec<String> {
    let mut all: Vec<String> = HOSTILE_SEGMENTS.iter().map(|s| s.to_string()).collect();
    all.push(long_segment());
    all
}

#[tokio::test]
async fn library_api_refuses_malformed_requests() {
    let w = world().await;
    let (h, t) = (&w.h, Some(w.token.as_str()));
    let lib = Envelope::Library;
    for bad in segments() {
        for uri in [
            format!("/v1/entities/{bad}"),
            format!("/v1/collections/{bad}/tools"),
            format!("/v1/collections/alice/{bad}"),
            format!("/v1/containers/alice/tools/{bad}"),
            format!("/v1/containers/{bad}/tools/bwa"),
            format!("/v1/images/alice/tools/{bad}:v1"),
            format!("/v1/images/alice/tools/bwa:{bad}"),
            format!("/v1/imagefile/alice/tools/{bad}:v1"),
            format!("/v1/imagefile/alice/tools/bwa:{bad}"),
            format!("/download/{bad}"),
        ] {
            let r = send(h, "GET", &uri, t, &[], vec![]).await;
            assert_refused(&r, lib, &format!("GET {uri}"));
        }
    }
    for hash in ["sha256.zz", "sha256.", "md5.abc", "sha256.%2e%2e%2f"] {
        let uri = format!("/v1/images/alice/tools/bwa:{hash}");
        assert_refused(&send(h, "GET", &uri, t, &[], vec![]).await, lib, &uri);
    }
    for bad in BAD_NUMBERS.iter().map(|s| s.to_string()).chain(segments()) {
        for (method, uri) in [
            ("GET", format!("/v1/tags/{bad}")),
            ("GET", format!("/v2/tags/{bad}")),
            ("POST", format!("/v1/tags/{bad}")),
            ("POST", format!("/v2/imagefile/{bad}")),
            ("PUT", format!("/v2/imagefile/{bad}/_complete")),
            ("POST", format!("/v2/imagefile/{bad}/_multipart")),
            ("PUT", format!("/v2/imagefile/{bad}/_multipart")),
            ("PUT", format!("/v2/imagefile/{bad}/_multipart_abort")),
            ("PUT", format!("/v2/imagefile/{bad}/_multipart_complete")),
            ("PUT", format!("/v2/imagefile/_upload/{bad}")),
            ("PUT", format!("/v2/imagefile/_upload/{bad}/1")),
            ("PUT", format!("/v2/imagefile/_upload/00ff/{bad}")),
        ] {
            if bad.is_empty() {
                continue;
            }
            let r = send(h, method, &uri, t, &[], b"{}".to_vec()).await;
            assert_refused(&r, lib, &format!("{method} {uri}"));
        }
    }
    let image = &w.image_id;
    let json_routes = [
        ("POST", "/v1/entities".to_string()),
        ("POST", "/v1/collections".to_string()),
        ("POST", "/v1/containers".to_string()),
        ("POST", "/v1/images".to_string()),
        ("POST", format!("/v1/tags/{}", w.container_id)),
        ("POST", format!("/v2/tags/{}", w.container_id)),
        ("POST", format!("/v2/imagefile/{image}")),
        ("PUT", format!("/v2/imagefile/{image}/_complete")),
        ("POST", format!("/v2/imagefile/{image}/_multipart")),
        ("PUT", format!("/v2/imagefile/{image}/_multipart")),
        ("PUT", format!("/v2/imagefile/{image}/_multipart_abort")),
        ("PUT", format!("/v2/imagefile/{image}/_multipart_complete")),
    ];
    // Every JSON body, the json_body fuzz corpus too, to every route that reads JSON.
    for body in bad_json_bodies()
        .into_iter()
        .chain(fuzz_corpus("json_body"))
    {
        for (method, uri) in &json_routes {
            let r = send(h, method, uri, t, &[], body.clone()).await;
            let what = format!("{method} {uri} {}", String::from_utf8_lossy(&body));
            assert_not_server_error(&r, lib, &what);
        }
    }
    let uri = "/v1/imagefile/alice/tools/bwa:v1";
    for range in [
        "bytes=9-2",
        "bytes=x-",
        "bytes=99999999999999999999-",
        "bytes=5-3,1-2",
    ] {
        let r = send(h, "GET", uri, t, &[("range", range)], vec![]).await;
        assert_not_server_error(&r, lib, &format!("Range {range}"));
    }
    let r = send(h, "GET", uri, t, &[("range", "bytes=1000000-")], vec![]).await;
    assert_refused(&r, lib, "a range past the end");
    for auth in ["Bearer", "Bearer x y", "Basic !!!", "Digest a=b"] {
        let r = send(
            h,
            "POST",
            "/v1/entities",
            None,
            &[("authorization", auth)],
            b"{}".to_vec(),
        )
        .await;
        assert_refused(&r, lib, &format!("Authorization {auth}"));
    }
    let r = send(h, "GET", "/v1/search?value=%00%ff&limit=-1", t, &[], vec![]).await;
    assert_not_server_error(&r, lib, "search");
}

#[tokio::test]
async fn oci_api_refuses_malformed_requests() {
    let w = world().await;
    let (h, t) = (&w.h, Some(w.token.as_str()));
    let oci = Envelope::Oci;
    for bad in segments() {
        for (method, uri) in [
            ("GET", format!("/v2/{bad}/tools/bwa/manifests/latest")),
            ("GET", format!("/v2/alice/{bad}/bwa/tags/list")),
            (
                "GET",
                format!("/v2/alice/tools/{bad}/blobs/{}", wrong_digest()),
            ),
            ("POST", format!("/v2/alice/tools/{bad}/blobs/uploads/")),
            ("GET", format!("/v2/alice/tools/bwa/manifests/{bad}")),
            ("PUT", format!("/v2/alice/tools/bwa/manifests/{bad}")),
            ("DELETE", format!("/v2/alice/tools/bwa/manifests/{bad}")),
            ("GET", format!("/v2/alice/tools/bwa/blobs/{bad}")),
            ("GET", format!("/v2/alice/tools/bwa/referrers/{bad}")),
            ("GET", format!("/v2/alice/tools/bwa/blobs/uploads/{bad}")),
            ("PATCH", format!("/v2/alice/tools/bwa/blobs/uploads/{bad}")),
            (
                "PUT",
                format!(
                    "/v2/alice/tools/bwa/blobs/uploads/{bad}?digest={}",
                    wrong_digest()
                ),
            ),
            ("DELETE", format!("/v2/alice/tools/bwa/blobs/uploads/{bad}")),
        ] {
            let r = send(h, method, &uri, t, &[], b"x".to_vec()).await;
            assert_refused(&r, oci, &format!("{method} {uri}"));
        }
    }
    for digest in [
        "sha256:zz",
        "sha256:",
        "sha512:abc",
        ":abc",
        "sha256:%2e%2e",
        "md5:00",
    ] {
        for uri in [
            format!("/v2/alice/tools/bwa/blobs/{digest}"),
            format!("/v2/alice/tools/bwa/manifests/{digest}"),
            format!("/v2/alice/tools/bwa/referrers/{digest}"),
            format!("{}?digest={digest}", w.oci_upload),
        ] {
            let method = if uri.contains("?digest") {
                "PUT"
            } else {
                "GET"
            };
            let r = send(h, method, &uri, t, &[], vec![]).await;
            assert_refused(&r, oci, &format!("{method} {uri}"));
        }
    }
    let manifest_uri = "/v2/alice/tools/bwa/manifests/latest";
    let typed = [("content-type", "application/vnd.oci.image.index.v1+json")];
    for body in bad_json_bodies() {
        let what = format!("manifest {}", String::from_utf8_lossy(&body));
        let r = send(h, "PUT", manifest_uri, t, &[], body.clone()).await;
        assert_refused(&r, oci, &what);
        assert_refused(
            &send(h, "PUT", manifest_uri, t, &typed, body).await,
            oci,
            &what,
        );
    }
    // The manifest corpus holds valid manifests too: those may be stored, none may fail.
    for body in fuzz_corpus("oci_manifest") {
        let what = format!("manifest {}", String::from_utf8_lossy(&body));
        let r = send(h, "PUT", manifest_uri, t, &[], body.clone()).await;
        assert_not_server_error(&r, oci, &what);
        assert_not_server_error(
            &send(h, "PUT", manifest_uri, t, &typed, body).await,
            oci,
            &what,
        );
    }
    for range in [
        "",
        "-",
        "9-2",
        "a-b",
        "-5",
        "5-",
        "1-99999999999999999999",
        "bytes=3-4/x",
    ] {
        let headers = [("content-range", range)];
        let r = send(h, "PATCH", &w.oci_upload, t, &headers, b"x".to_vec()).await;
        assert_refused(&r, oci, &format!("Content-Range {range:?}"));
    }
    for query in [
        "n=-1",
        "n=99999999999999999999",
        "n=abc",
        "last=%00",
        "n=1&last=%2e%2e",
    ] {
        for path in ["/v2/_catalog", "/v2/alice/tools/bwa/tags/list"] {
            let uri = format!("{path}?{query}");
            let r = send(h, "GET", &uri, t, &[], vec![]).await;
            assert_not_server_error(&r, oci, &uri);
        }
    }
    for scope in [
        "garbage",
        "repository:",
        "repository:%2e%2e:pull",
        "repository:a/b/c/d:*",
    ] {
        let uri = format!("/v2/token?scope={scope}");
        assert_not_server_error(&send(h, "GET", &uri, None, &[], vec![]).await, oci, &uri);
    }
    for auth in [
        "Bearer",
        "Bearer x y",
        "Basic !!!",
        "Basic YWxpY2U=",
        "Basic Og==",
        "Digest a",
    ] {
        let headers = [("authorization", auth)];
        for (method, uri) in [
            ("GET", "/v2/"),
            ("POST", "/v2/alice/tools/bwa/blobs/uploads/"),
        ] {
            let r = send(h, method, uri, None, &headers, vec![]).await;
            assert_refused(&r, oci, &format!("{method} {uri} with {auth}"));
        }
        let r = send(h, "GET", "/v2/token", None, &headers, vec![]).await;
        assert_refused(&r, oci, &format!("token with {auth}"));
    }
}

#[tokio::test]
async fn sregistry_and_shub_refuse_malformed_requests() {
    let w = world().await;
    let (h, t) = (&w.h, Some(w.token.as_str()));
    let sreg = Envelope::Sregistry;
    let mut refs: Vec<String> = segments();
    refs.extend([
        "a/b/c/d".into(),
        "a/b:x/y".into(),
        "tools/bwa:bad%20tag".into(),
    ]);
    for bad in refs {
        for (method, uri) in [
            ("GET", format!("/api/container/{bad}")),
            ("GET", format!("/api/container/tools/{bad}")),
            ("DELETE", format!("/api/container/alice/tools/{bad}")),
            ("DELETE", format!("/container/alice/{bad}/bwa")),
            ("GET", format!("/{bad}/api/container/tools/bwa")),
            ("GET", format!("/alice/api/container/{bad}")),
            ("GET", format!("/api/collection/{bad}/x/y")),
        ] {
            // An entity prefix with slashes is not that route at all: the web interface's
            // fallback serves such paths.
            if bad.contains('/') && uri.starts_with(&format!("/{bad}/api")) {
                continue;
            }
            let r = send(h, method, &uri, t, &[], vec![]).await;
            assert_refused(&r, sreg, &format!("{method} {uri}"));
        }
    }
    for auth in [
        "SREGISTRY-HMAC-SHA256",
        "SREGISTRY-HMAC-SHA256 Credential=push/!!/20261125T10Z,Signature=ab",
        "SREGISTRY-HMAC-SHA256 Credential=push/YWxpY2U=,Signature=ab",
        "SREGISTRY-HMAC-SHA256 Credential=pull/YWxpY2U=/99999999T99Z,Signature=ab",
        "SREGISTRY-HMAC-SHA256 Credential=pull/YWxpY2U=/20261125T10Z,Signature=%00",
        "SREGISTRY-HMAC-SHA256 Credential=pull/Ly4uLy4u/20261125T10Z,Signature=zz",
    ] {
        let headers = [("authorization", auth)];
        for (method, uri) in [
            ("GET", "/api/container/alice/tools/bwa:v1"),
            ("DELETE", "/api/container/alice/tools/bwa:v1"),
            ("POST", "/api/upload/chunked_upload"),
        ] {
            let r = send(h, method, uri, None, &headers, b"{}".to_vec()).await;
            assert_refused(&r, sreg, &format!("{method} {uri} with {auth}"));
        }
    }
    for body in bad_json_bodies() {
        let r = send(
            h,
            "POST",
            "/api/upload/chunked_upload",
            None,
            &[],
            body.clone(),
        )
        .await;
        assert_refused(
            &r,
            sreg,
            &format!("start push {}", String::from_utf8_lossy(&body)),
        );
    }
    for content_type in [
        "multipart/form-data",
        "multipart/form-data; boundary=x",
        "text/plain",
    ] {
        let headers = [("content-type", content_type)];
        let r = send(
            h,
            "POST",
            "/upload",
            None,
            &headers,
            b"--x\r\ngarbage".to_vec(),
        )
        .await;
        assert_refused(&r, sreg, &format!("upload as {content_type}"));
    }
    for query in ["%00", "%2e%2e/%2e%2e", "a:b:c", "collection/%ff"] {
        let uri = format!("/api/container/search/{query}");
        assert_not_server_error(&send(h, "GET", &uri, None, &[], vec![]).await, sreg, &uri);
    }
}

#[tokio::test]
async fn keyserver_web_upload_and_server_functions_refuse_malformed_requests() {
    let w = world().await;
    let h = &w.h;
    for query in [
        "",
        "op=get",
        "op=get&search=%00",
        "op=get&search=0x%2e%2e",
        "op=index&search=&options=mr",
        "op=get&search=0xZZ",
        "op=vindex&search=0x0000000000000000000000000000000000000000000000",
    ] {
        let uri = format!("/pks/lookup?{query}");
        let r = send(h, "GET", &uri, None, &[], vec![]).await;
        assert_refused(&r, Envelope::Keyserver, &uri);
    }
    // HKP's own answer to an operation it does not implement is 501, not a server fault.
    let r = send(h, "GET", "/pks/lookup?op=%00&search=x", None, &[], vec![]).await;
    assert!(
        r.status.is_client_error() || r.status.as_u16() == 501,
        "{}",
        r.status
    );
    let form = [("content-type", "application/x-www-form-urlencoded")];
    for body in ["", "keytext=", "keytext=garbage", "keytext=%ff%00", "x=1"] {
        let r = send(h, "POST", "/pks/add", Some(&w.token), &form, body.into()).await;
        assert_refused(&r, Envelope::Keyserver, &format!("pks add {body}"));
    }

    let origin = [("origin", PUBLIC_URL), ("content-length", "3")];
    for query in [
        "".to_string(),
        "entity=%2e%2e&collection=x&container=y".into(),
        "entity=alice&collection=%00&container=y".into(),
        "entity=alice&collection=tools&container=bwa&tag=%2e%2e%2f".into(),
        format!("entity=alice&collection=tools&container={}", long_segment()),
    ] {
        let uri = format!("/web/upload?{query}");
        let r = send(h, "POST", &uri, Some(&w.token), &origin, b"abc".to_vec()).await;
        assert_refused(&r, Envelope::Library, &uri);
        let r = send(h, "POST", &uri, None, &origin, b"abc".to_vec()).await;
        assert_refused(&r, Envelope::Library, &format!("anonymous {uri}"));
    }

    let rpc_headers = [
        ("origin", PUBLIC_URL),
        ("content-type", "application/x-www-form-urlencoded"),
        ("accept", "application/json"),
    ];
    for (name, body) in [
        ("nonexistent", "x=1"),
        ("%2e%2e", ""),
        ("login", "username=%00&token="),
        ("login", "garbage%ff"),
        ("star", "target=-1"),
    ] {
        let uri = format!("/rpc/{name}");
        let r = send(h, "POST", &uri, None, &rpc_headers, body.into()).await;
        assert_refused(&r, Envelope::Rpc, &format!("{uri} {body}"));
    }
}

#[tokio::test]
async fn rest_api_refuses_malformed_requests_on_every_documented_route() {
    let w = world().await;
    let (h, t) = (&w.h, Some(w.token.as_str()));
    let rest = Envelope::Rest;
    let doc = send(h, "GET", "/api/openapi.json", None, &[], vec![])
        .await
        .json();
    let paths = doc["paths"].as_object().expect("documented paths");
    assert!(paths.len() >= 5, "the REST API documents its routes");
    for (template, operations) in paths {
        for method in operations.as_object().unwrap().keys() {
            let method = method.to_uppercase();
            if template.contains('{') {
                for bad in segments() {
                    let uri = fill(template, &bad);
                    let r = send(h, &method, &uri, t, &[], b"{".to_vec()).await;
                    assert_refused(&r, rest, &format!("{method} {uri}"));
                }
            }
            let uri = fill(template, "alice");
            for query in [
                "page=-1",
                "page=99999999999999999999",
                "per_page=abc",
                "per_page=-5",
                "sort=%00",
                "order=sideways",
                "since=yesterday",
                "q=%ff%00",
            ] {
                let uri = format!("{uri}?{query}");
                let r = send(h, &method, &uri, t, &[], vec![]).await;
                assert_not_server_error(&r, rest, &format!("{method} {uri}"));
            }
            for auth in ["Bearer", "Bearer x y", "Basic !!!"] {
                let r = send(h, &method, &uri, None, &[("authorization", auth)], vec![]).await;
                assert_not_server_error(&r, rest, &format!("{method} {uri} with {auth}"));
            }
        }
    }
}

/// A path template with every `{parameter}` replaced by `value`.
fn fill(template: &str, value: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
        out.push_str(value);
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}
