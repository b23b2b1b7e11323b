//! Upload sessions at the domain level: in-order appends, the in-flight claim that keeps two
//! concurrent chunks apart, and sessions bound to their repository.
use bytes::Bytes;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::sync::Arc;

use super::{manifests::sha256_of, parse_repository, OciCode};
use crate::entities::oci_upload;
use crate::error::DomainError;
use crate::services::{NewToken, Registry};
use crate::store::{ByteStream, FsBlobStore};
use crate::testing::TestDb;

fn body(bytes: &'static [u8]) -> ByteStream {
    Box::pin(futures::stream::iter([Ok(Bytes::from_static(bytes))]))
}

#[tokio::test]
async fn appends_are_claimed_and_bound_to_their_repository() {
    let db = TestDb::new().await;
    let store = FsBlobStore::open(db.dir.path().join("blobs"))
        .await
        .unwrap();
    let registry = Registry::new(db.db.clone(), Arc::new(store));
    registry.create_user("alice", "", false).await.unwrap();
    let new = NewToken {
        label: "t".into(),
        scope: None,
        expires_in_days: None,
    };
    let token = registry.create_token("alice", new).await.unwrap();
    let actor = registry.authenticate(&token.secret).await.unwrap();
    let repo = parse_repository("alice/c/n").unwrap();
    let other = parse_repository("alice/c/other").unwrap();
    registry.oci_repo_for_write(&actor, &other).await.unwrap();

    let id = registry.oci_start_upload(&actor, &repo).await.unwrap();
    let len = registry
        .oci_append_upload(&actor, &repo, &id, Some(0), body(b"hello "))
        .await
        .unwrap();
    assert_eq!(len, 6);

    // A chunk in flight (as another request would mark it) makes a second one wait.
    let mark = |value: i64| {
        oci_upload::Entity::update_many()
            .col_expr(oci_upload::Column::Received, Expr::value(value))
            .filter(oci_upload::Column::Id.eq(id.as_str()))
            .exec(registry.db())
    };
    mark(-7).await.unwrap();
    let busy = registry
        .oci_append_upload(&actor, &repo, &id, None, body(b"world"))
        .await;
    assert!(matches!(
        busy,
        Err(DomainError::RangeNotSatisfiable { size: 6 })
    ));
    assert_eq!(
        registry
            .oci_upload_status(&actor, &repo, &id)
            .await
            .unwrap(),
        6
    );
    mark(6).await.unwrap();

    // The session belongs to its repository.
    let elsewhere = registry
        .oci_upload_status(&actor, &other, &id)
        .await
        .unwrap_err();
    assert_eq!(
        OciCode::classify(&elsewhere).map(|c| c.0),
        Some(OciCode::BlobUploadUnknown)
    );

    registry
        .oci_append_upload(&actor, &repo, &id, Some(6), body(b"world"))
        .await
        .unwrap();
    let digest = sha256_of(b"hello world");
    let size = registry
        .oci_finish_upload(&actor, &repo, &id, &digest, None)
        .await
        .unwrap();
    assert_eq!(size, 11);
    assert_eq!(
        registry
            .oci_blob_size(&actor, &repo, &digest)
            .await
            .unwrap(),
        11
    );
    assert_eq!(
        registry
            .oci_blob_size(&actor, &other, &digest)
            .await
            .map_err(|e| OciCode::classify(&e).map(|c| c.0))
            .unwrap_err(),
        Some(OciCode::BlobUnknown)
    );
}
