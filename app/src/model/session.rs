//! Who is signed in, as the browser sees it.
use serde::{Deserialize, Serialize};

/// The signed-in user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub username: String,
    pub is_admin: bool,
    /// Whether the credential the user signed in with may push (upload) images.
    pub can_push: bool,
}

/// The answer to a browser upload (`POST /web/upload`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadDone {
    /// `entity/collection/container`.
    pub path: String,
    pub tag: String,
    pub sha256: String,
    pub size: u64,
    /// The SPA route of the container page.
    pub href: String,
}
