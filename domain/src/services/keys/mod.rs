//! The keyserver's keys: OpenPGP public keys that anyone may look up and authenticated users
//! may add (so `apptainer key push|pull|search`, signature verification on pull and GnuPG's
//! HKP client work against Silo).
use chrono::{DateTime, TimeZone, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use sea_orm::{IntoActiveModel, Set};

use super::{now, Registry};
use crate::entities::pgp_key;
use crate::error::{DomainError, Result};
use crate::policy::Actor;

mod parse;

pub use parse::MAX_KEYS_PER_UPLOAD;

/// Largest key text accepted in one upload.
pub const MAX_KEYTEXT_BYTES: usize = 1024 * 1024;
/// Most keys one lookup returns.
pub const KEY_LOOKUP_LIMIT: u64 = 100;
/// Longest search string accepted.
const MAX_SEARCH_LEN: usize = 256;

/// What a keyserver lookup asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyQuery {
    /// A full primary-key fingerprint (40 or 64 hex digits, upper case).
    Fingerprint(String),
    /// A 16-digit key ID (upper case).
    KeyId(String),
    /// An 8-digit short key ID (upper case).
    ShortKeyId(String),
    /// Text in the user IDs; `exact` asks for a whole user ID or e-mail address.
    Text { text: String, exact: bool },
}

impl KeyQuery {
    /// Reads an HKP `search` value: `0x`-prefixed (or bare) hex of 8, 16, 40 or 64 digits is a
    /// key ID or fingerprint; anything else is text.
    pub fn parse(search: &str, exact: bool) -> Result<KeyQuery> {
        let search = search.trim();
        if search.is_empty() {
            return Err(DomainError::invalid("empty search"));
        }
        if search.len() > MAX_SEARCH_LEN {
            return Err(DomainError::invalid(format!(
                "search longer than {MAX_SEARCH_LEN} bytes"
            )));
        }
        let (digits, prefixed) = match search
            .strip_prefix("0x")
            .or_else(|| search.strip_prefix("0X"))
        {
            Some(rest) => (rest, true),
            None => (search, false),
        };
        if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_hexdigit()) {
            let upper = digits.to_ascii_uppercase();
            match digits.len() {
                8 => return Ok(KeyQuery::ShortKeyId(upper)),
                16 => return Ok(KeyQuery::KeyId(upper)),
                40 | 64 => return Ok(KeyQuery::Fingerprint(upper)),
                _ => {}
            }
        }
        if prefixed {
            return Err(DomainError::invalid(
                "a 0x search must be a key ID (8 or 16 hex digits) or a fingerprint (40 or 64)",
            ));
        }
        Ok(KeyQuery::Text {
            text: search.to_string(),
            exact,
        })
    }
}

/// A stored public key, as lookups return it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKeyView {
    pub fingerprint: String,
    pub key_id: String,
    pub algorithm: i32,
    pub bits: i32,
    pub created: DateTime<Utc>,
    pub expires: Option<DateTime<Utc>>,
    pub revoked: bool,
    pub user_ids: Vec<String>,
    /// The key, ASCII-armoured.
    pub armored: String,
}

impl From<pgp_key::Model> for PublicKeyView {
    fn from(m: pgp_key::Model) -> Self {
        let user_ids = serde_json::from_str(&m.user_ids).unwrap_or_default();
        PublicKeyView {
            fingerprint: m.fingerprint,
            key_id: m.key_id,
            algorithm: m.algorithm,
            bits: m.bits,
            created: m.key_created_at,
            expires: m.key_expires_at,
            revoked: m.revoked,
            user_ids,
            armored: m.armored,
        }
    }
}

/// What an upload did, by fingerprint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeysAdded {
    /// Keys not stored before.
    pub added: Vec<String>,
    /// Keys replaced by a copy at least as new.
    pub updated: Vec<String>,
    /// Keys whose stored copy is newer than the one uploaded; kept as they were.
    pub unchanged: Vec<String>,
}

/// What storing one key did.
enum Stored {
    Added,
    Updated,
    Unchanged,
}

fn timestamp(secs: u32) -> DateTime<Utc> {
    Utc.timestamp_opt(i64::from(secs), 0)
        .single()
        .unwrap_or_default()
}

/// `text` as a LIKE pattern matching it anywhere, with `\` as the escape character.
fn like_anywhere(text: &str) -> LikeExpr {
    let mut pattern = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    LikeExpr::new(pattern).escape('\\')
}

/// True when `uid` is `wanted` exactly, or its e-mail address (`<…>`) is.
fn uid_matches_exactly(uid: &str, wanted: &str) -> bool {
    let wanted = wanted.trim();
    let bare = wanted
        .strip_prefix('<')
        .and_then(|w| w.strip_suffix('>'))
        .unwrap_or(wanted);
    if uid.eq_ignore_ascii_case(wanted) {
        return true;
    }
    let email = uid
        .rfind('<')
        .and_then(|start| uid[start + 1..].strip_suffix('>'))
        .unwrap_or(uid);
    email.eq_ignore_ascii_case(bare)
}

impl Registry {
    /// Adds or refreshes the public keys in an ASCII-armoured block. Only users with a
    /// push-scoped token may add keys. A key already stored is replaced when the uploaded
    /// copy is at least as new (judged by its newest signature), so re-sending is idempotent
    /// and an older copy never overwrites a newer one (for example a revocation).
    pub async fn add_keys(&self, actor: &Actor, keytext: &str) -> Result<KeysAdded> {
        let principal = actor.require_key_upload()?;
        if keytext.len() > MAX_KEYTEXT_BYTES {
            return Err(DomainError::invalid(format!(
                "key text larger than {MAX_KEYTEXT_BYTES} bytes"
            )));
        }
        let text = keytext.to_string();
        let keys = tokio::task::spawn_blocking(move || parse::parse_keys(&text))
            .await
            .map_err(|e| DomainError::Storage(format!("key parser failed: {e}")))??;
        let mut outcome = KeysAdded::default();
        for key in keys {
            let fingerprint = key.fingerprint.clone();
            let stored = match self.store_key(&key, principal.user_id).await {
                // Another upload inserted the same new key a moment ago: compare with it.
                Err(_) if self.key_exists(&fingerprint).await? => {
                    self.store_key(&key, principal.user_id).await?
                }
                other => other?,
            };
            match stored {
                Stored::Added => outcome.added.push(fingerprint),
                Stored::Updated => outcome.updated.push(fingerprint),
                Stored::Unchanged => outcome.unchanged.push(fingerprint),
            }
        }
        tracing::info!(
            user = %principal.username,
            added = ?outcome.added,
            updated = ?outcome.updated,
            "keys uploaded"
        );
        Ok(outcome)
    }

    async fn key_exists(&self, fingerprint: &str) -> Result<bool> {
        Ok(pgp_key::Entity::find()
            .filter(pgp_key::Column::Fingerprint.eq(fingerprint))
            .one(&self.db)
            .await?
            .is_some())
    }

    /// Inserts `key`, or replaces the stored copy unless that one is newer.
    async fn store_key(&self, key: &parse::ParsedKey, uploader: i64) -> Result<Stored> {
        let existing = pgp_key::Entity::find()
            .filter(pgp_key::Column::Fingerprint.eq(&key.fingerprint))
            .one(&self.db)
            .await?;
        let newest = timestamp(key.newest_signature);
        let (mut model, stored) = match existing {
            Some(old) if old.newest_signature_at > newest => return Ok(Stored::Unchanged),
            Some(old) => (old.into_active_model(), Stored::Updated),
            None => (
                pgp_key::ActiveModel {
                    fingerprint: Set(key.fingerprint.clone()),
                    created_at: Set(now()),
                    ..Default::default()
                },
                Stored::Added,
            ),
        };
        let user_ids = serde_json::to_string(&key.user_ids)
            .map_err(|e| DomainError::invalid(format!("unencodable user ID: {e}")))?;
        model.key_id = Set(key.key_id.clone());
        model.algorithm = Set(i32::from(key.algorithm));
        model.bits = Set(i32::from(key.bits));
        model.key_created_at = Set(timestamp(key.created));
        model.key_expires_at = Set(key.expires.map(timestamp));
        model.revoked = Set(key.revoked);
        model.user_ids = Set(user_ids);
        model.search_text = Set(key.user_ids.join("\n").to_lowercase());
        model.newest_signature_at = Set(newest);
        model.armored = Set(key.armored.clone());
        model.uploader_id = Set(Some(uploader));
        model.updated_at = Set(now());
        model.save(&self.db).await?;
        Ok(stored)
    }

    /// Public keys matching `query`, at most [`KEY_LOOKUP_LIMIT`], ordered by fingerprint.
    /// Keys are public: anyone may look them up.
    pub async fn find_keys(&self, _actor: &Actor, query: &KeyQuery) -> Result<Vec<PublicKeyView>> {
        let select = pgp_key::Entity::find()
            .order_by_asc(pgp_key::Column::Fingerprint)
            .limit(KEY_LOOKUP_LIMIT);
        let rows = match query {
            KeyQuery::Fingerprint(f) => {
                select
                    .filter(pgp_key::Column::Fingerprint.eq(f.to_ascii_uppercase()))
                    .all(&self.db)
                    .await?
            }
            KeyQuery::KeyId(id) => {
                select
                    .filter(pgp_key::Column::KeyId.eq(id.to_ascii_uppercase()))
                    .all(&self.db)
                    .await?
            }
            KeyQuery::ShortKeyId(id) => {
                select
                    .filter(pgp_key::Column::KeyId.ends_with(id.to_ascii_uppercase()))
                    .all(&self.db)
                    .await?
            }
            KeyQuery::Text { text, exact } => {
                let needle = text
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_lowercase();
                if needle.is_empty() {
                    return Ok(Vec::new());
                }
                let rows = pgp_key::Entity::find()
                    .filter(Expr::col(pgp_key::Column::SearchText).like(like_anywhere(&needle)))
                    .order_by_asc(pgp_key::Column::Fingerprint)
                    .all(&self.db)
                    .await?;
                let views: Vec<PublicKeyView> = rows
                    .into_iter()
                    .map(PublicKeyView::from)
                    .filter(|k| !*exact || k.user_ids.iter().any(|u| uid_matches_exactly(u, text)))
                    .take(KEY_LOOKUP_LIMIT as usize)
                    .collect();
                return Ok(views);
            }
        };
        Ok(rows.into_iter().map(PublicKeyView::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_forms() {
        let fpr = "0123456789ABCDEF0123456789ABCDEF01234567";
        assert_eq!(
            KeyQuery::parse(&format!("0x{}", fpr.to_lowercase()), false).unwrap(),
            KeyQuery::Fingerprint(fpr.into())
        );
        assert_eq!(
            KeyQuery::parse(fpr, true).unwrap(),
            KeyQuery::Fingerprint(fpr.into())
        );
        assert_eq!(
            KeyQuery::parse("0x89ABCDEF01234567", false).unwrap(),
            KeyQuery::KeyId("89ABCDEF01234567".into())
        );
        assert_eq!(
            KeyQuery::parse("01234567", false).unwrap(),
            KeyQuery::ShortKeyId("01234567".into())
        );
        assert!(KeyQuery::parse("0x123", false).is_err());
        assert!(KeyQuery::parse("0xnothex", false).is_err());
        assert!(KeyQuery::parse("  ", false).is_err());
        assert_eq!(
            KeyQuery::parse("alice@example.org", true).unwrap(),
            KeyQuery::Text {
                text: "alice@example.org".into(),
                exact: true
            }
        );
    }

    #[test]
    fn exact_uid_match() {
        let uid = "Alice Example <alice@example.org>";
        assert!(uid_matches_exactly(uid, uid));
        assert!(uid_matches_exactly(uid, "ALICE@example.org"));
        assert!(uid_matches_exactly(uid, "<alice@example.org>"));
        assert!(!uid_matches_exactly(uid, "alice"));
        assert!(!uid_matches_exactly(uid, "lice@example.org"));
    }
}
