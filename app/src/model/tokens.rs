//! API tokens (the `/auth/tokens` page) and share links (the container page's Share panel and
//! the `/share/<secret>` page), as the browser sees them. Secrets appear only in the answers
//! that create them.
use serde::{Deserialize, Serialize};

use super::{ContainerData, Timestamp};

/// One of the viewer's API tokens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    pub id: i64,
    pub label: String,
    /// `read`, `push` or `admin`.
    pub scope: String,
    pub created_at: Timestamp,
    /// `None`: never expires.
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    /// `active`, `expired` or `revoked`.
    pub status: String,
}

/// The tokens page: the viewer's tokens and the scopes they may create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokensData {
    pub username: String,
    /// Newest first.
    pub tokens: Vec<TokenRow>,
    /// The scopes a new token may have (up to the credential the viewer signed in with).
    pub scopes: Vec<String>,
    /// Robots' tokens are managed by their owners; the page only lists them.
    pub can_create: bool,
}

/// A token just created: the secret is shown this once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCreatedData {
    pub secret: String,
    pub token: TokenRow,
}

/// One share link of a container.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareLinkRow {
    pub id: i64,
    pub label: String,
    pub created_by: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub use_count: i64,
    /// `active`, `expired` or `revoked`.
    pub status: String,
}

/// A share link just created: its URL (with the secret) is shown this once, with the
/// commands that use it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareLinkCreatedData {
    /// `<public url>/share/<secret>`: the page to send.
    pub url: String,
    /// `curl` command downloading the `latest` image.
    pub curl: String,
    /// `apptainer pull shub://…/share/<secret>`.
    pub shub: String,
    pub link: ShareLinkRow,
}

/// What the `/share/<secret>` page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedData {
    pub container: ContainerData,
    /// `<public url>/share/<secret>/download`; add `?tag=…&arch=…`.
    pub download_url: String,
    /// `shub://<host>/share/<secret>` (append `:tag`).
    pub shub_ref: String,
    pub expires_at: Timestamp,
}

/// The expiry choices of the tokens page (value sent to the server, label shown).
pub const TOKEN_EXPIRY_CHOICES: &[(&str, &str)] = &[
    ("30", "30 days"),
    ("90", "90 days"),
    ("365", "1 year"),
    ("never", "Never"),
    ("date", "On a date…"),
];

/// The expiry choices of share links, in days (at most 90).
pub const SHARE_EXPIRY_DAYS: &[(u32, &str)] = &[
    (1, "1 day"),
    (7, "7 days"),
    (30, "30 days"),
    (90, "90 days"),
];
