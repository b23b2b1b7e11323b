//! Keys every replica must agree on, kept in the `settings` table and created race-free
//! (insert if absent, then read what won): the download/OCI token signing key
//! (`capability.rs`), and a fingerprint of the server's secret key (that sregistry client
//! secrets derive from; the key itself stays outside the database).
use hmac::Mac;
use sea_orm::{EntityTrait, Set};

use super::{now, Registry};
use crate::entities::setting;
use crate::error::{DomainError, Result};

/// The `settings` key holding a fingerprint of the server's secret key (never the key).
const SECRET_KEY_FINGERPRINT: &str = "server_secret_key_fingerprint";

impl Registry {
    /// The hex key stored under `setting`, storing `candidate` first when there is none:
    /// whichever replica inserts first wins, and all read the same key back.
    pub(crate) async fn shared_hex_key(&self, setting: &str, candidate: String) -> Result<Vec<u8>> {
        let fresh = setting::ActiveModel {
            key: Set(setting.into()),
            value: Set(serde_json::Value::String(candidate).to_string()),
            updated_at: Set(now()),
        };
        setting::Entity::insert(fresh)
            .on_conflict_do_nothing_on([setting::Column::Key])
            .exec_without_returning(&self.db)
            .await?;
        let unreadable = || DomainError::Storage(format!("the setting {setting} is unreadable"));
        let stored = setting::Entity::find_by_id(setting.to_string())
            .one(&self.db)
            .await?
            .ok_or_else(|| DomainError::Storage(format!("the setting {setting} is missing")))?;
        let hex_key: String = serde_json::from_str(&stored.value).map_err(|_| unreadable())?;
        hex::decode(hex_key).map_err(|_| unreadable())
    }

    /// Checks that `key` (the server's secret key, kept outside the database so that a copy
    /// of the database reveals no sregistry secret) is the key every other replica sharing
    /// this database uses: the first replica records a fingerprint of its key
    /// (HMAC-SHA256 of a fixed text, which does not reveal the key), the others compare.
    /// A different key is a `Conflict`.
    pub async fn check_secret_key(&self, key: &[u8; 32]) -> Result<()> {
        let mine = fingerprint(key);
        let recorded = self
            .shared_hex_key(SECRET_KEY_FINGERPRINT, hex::encode(&mine))
            .await?;
        if recorded == mine {
            Ok(())
        } else {
            Err(DomainError::Conflict(
                "another replica sharing this database uses a different server secret key".into(),
            ))
        }
    }
}

fn fingerprint(key: &[u8; 32]) -> Vec<u8> {
    let mut mac = Registry::mac(key);
    mac.update(b"silo server secret key fingerprint v1");
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::FsBlobStore;
    use crate::testing::TestDb;

    async fn registry(db: &TestDb, dir: &str) -> Registry {
        let store = FsBlobStore::open(db.dir.path().join(dir)).await.unwrap();
        Registry::new(db.db.clone(), Arc::new(store))
    }

    #[tokio::test]
    async fn replicas_sharing_a_database_must_share_one_secret_key() {
        let db = TestDb::new().await;
        let (a, b) = (registry(&db, "a").await, registry(&db, "b").await);
        let key = [42u8; 32];
        let (first, second) = tokio::join!(a.check_secret_key(&key), b.check_secret_key(&key));
        first.unwrap();
        second.unwrap();
        a.check_secret_key(&key).await.unwrap();
        let other = [7u8; 32];
        let refused = b.check_secret_key(&other).await;
        assert!(
            matches!(refused, Err(DomainError::Conflict(_))),
            "{}: {refused:?}",
            db.backend_name()
        );
        let stored = setting::Entity::find_by_id(SECRET_KEY_FINGERPRINT.to_string())
            .one(&a.db)
            .await
            .unwrap()
            .unwrap();
        assert!(!stored.value.contains(&hex::encode(key)), "no key stored");
    }
}
