//! The registry's services. [`Registry`] is cheap to clone and shared by every adapter.
use sea_orm::DatabaseConnection;
use std::sync::Arc;

use crate::store::BlobStore;

mod access;
mod accounts;
#[cfg(test)]
mod admin_tests;
mod admin_users;
mod audit;
mod blobs;
mod branding;
#[cfg(test)]
mod browser_tests;
mod capability;
mod catalog;
mod events;
mod events_relay;
mod fsck;
#[cfg(test)]
mod fsck_tests;
mod gauges;
mod gc;
#[cfg(test)]
mod gc_tests;
mod get_or_create;
mod identities;
mod images;
mod jobs;
mod keys;
mod login_failures;
mod lookup;
mod lookup_cache;
#[cfg(test)]
mod lookup_cache_tests;
mod metadata;
mod multipart;
mod namespace;
pub mod oci;
#[cfg(test)]
mod quota_tests;
mod quotas;
#[cfg(test)]
mod race_tests;
mod registration;
mod request_counts;
mod robots;
#[cfg(test)]
mod robots_tests;
mod roles;
mod search;
mod sessions;
mod share_links;
mod shared_keys;
mod sregistry;
mod stars;
pub mod stats;
mod teams;
#[cfg(test)]
mod teams_tests;
mod tokens;
mod transfer;
mod user_deletion;
mod web_upload;

pub use access::{HUMAN_KIND, ROBOT_KIND};
pub use accounts::{NewToken, TokenCreated};
pub use admin_users::{AdminUserPage, AdminUserRow, NewUser, UserQuery, USERS_PAGE_SIZE};
pub use audit::{AuditPage, AUDIT_PAGE_SIZE};
pub use branding::BrandingOverride;
pub use capability::{DownloadGrant, DOWNLOAD_TOKEN_HOURS};
pub use catalog::{
    CollectionPage, CollectionSummary, ContainerPage, ContainerSummary, HomeSummary, ImageEntry,
    RecentPush, RECENT_PUSHES,
};
pub use events::{ChangeKind, RegistryEvent, EVENT_BUFFER, EVENT_CHANNEL};
pub use fsck::{FsckIssue, FsckOptions, FsckProblem, FsckReport};
pub use gauges::{StoreTotals, UploadGauge};
pub use gc::{GcItem, GcKind, GcOptions, GcReport};
pub use identities::{ExternalProfile, ACCOUNT_DISABLED, REGISTRATION_REFUSED};
pub use images::ImageView;
pub use jobs::{MaintenanceReport, MAINTENANCE_LOCK};
pub use keys::{
    KeyQuery, KeysAdded, PublicKeyView, KEY_LOOKUP_LIMIT, MAX_KEYS_PER_UPLOAD, MAX_KEYTEXT_BYTES,
};
pub use login_failures::LOGIN_FAILURE_KEY_MAX;
pub use lookup_cache::{
    ImageDetails, CATALOGUE_CHANNEL, LOOKUP_CACHE_ENTRIES, LOOKUP_WATCH_INTERVAL,
};
pub use metadata::SifMetadata;
pub use multipart::{MultipartTicket, MAX_PARTS, MIN_PART_SIZE};
pub use namespace::{ContainerView, NewCollection, NewContainer, NewEntity};
pub use quotas::{human_bytes, QuotaHolder, TeamQuota};
pub use registration::{RegistrationMode, RegistrationSettings};
pub use robots::{RobotFor, RobotView, ROBOT_TOKEN_MAX_DAYS};
pub use roles::{CollectionRoleEntry, RoleHolder};
pub use search::SearchHits;
pub use sessions::{SessionCreated, SessionLimits, LOGIN_REFUSED};
pub use share_links::{
    is_share_secret, ShareLinkCreated, ShareLinkInfo, SHARE_LABEL_MAX, SHARE_MAX_DAYS,
    SHARE_MIN_MINUTES, SHARE_PREFIX,
};
pub use sregistry::{ListedTag, ListingFilter, SregistrySecret};
pub use stars::{StarState, StarTarget};
pub use teams::{TeamMember, TeamRole, TeamSummary, TeamView};
pub use tokens::{
    OwnTokenCreated, OwnTokenRequest, TokenExpiry, TokenInfo, TokenStatus, TOKEN_LABEL_MAX,
    TOKEN_MAX_DAYS,
};
pub use transfer::{Download, UploadTicket};
pub use user_deletion::{ImagesOnDelete, UserDeleted};
pub use web_upload::WebUpload;

/// Length of the random part of API tokens; with the prefix they exceed the 200 characters
/// `apptainer remote login --tokenfile` insists on.
pub const TOKEN_RANDOM_LEN: usize = 220;

#[derive(Clone)]
pub struct Registry {
    db: DatabaseConnection,
    store: Arc<dyn BlobStore>,
    /// The download-capability signing key, read from `settings` once.
    signing_key: Arc<std::sync::OnceLock<Vec<u8>>>,
    /// Keep uploads that are not SIF images (some sites push other blobs through oras).
    accept_non_sif: bool,
    /// The key sregistry client secrets derive from; kept outside the database (random
    /// unless the server sets its persisted key).
    secret_key: Arc<[u8; 32]>,
    /// The event bus (see `events.rs`): local channel and origin id, shared by every clone.
    events: events::EventBus,
    /// Uploads streaming into the store right now (`gauges.rs`), shared by every clone.
    uploads: gauges::UploadGauge,
    /// Cached image lookups (`lookup_cache.rs`), shared by every clone.
    lookups: Arc<lookup_cache::LookupCache>,
}

impl Registry {
    pub fn new(db: DatabaseConnection, store: Arc<dyn BlobStore>) -> Self {
        let mut key = [0u8; 32];
        rand::fill(&mut key[..]);
        Registry {
            db,
            store,
            signing_key: Arc::default(),
            accept_non_sif: false,
            secret_key: Arc::new(key),
            events: events::EventBus::new(),
            uploads: gauges::UploadGauge::default(),
            lookups: Arc::new(lookup_cache::LookupCache::new(
                lookup_cache::LOOKUP_CACHE_ENTRIES,
            )),
        }
    }

    /// Keeps at most `entries` image lookups in memory (0: no cache).
    pub fn with_lookup_cache(mut self, entries: usize) -> Self {
        self.lookups = Arc::new(lookup_cache::LookupCache::new(entries));
        self
    }

    /// Whether uploads that are not valid SIF images are kept (default: refused).
    pub fn with_accept_non_sif(mut self, accept: bool) -> Self {
        self.accept_non_sif = accept;
        self
    }

    /// Uses `key` as the key sregistry secrets derive from (persisted by the caller).
    pub fn with_secret_key(mut self, key: [u8; 32]) -> Self {
        self.secret_key = Arc::new(key);
        self
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn store(&self) -> &Arc<dyn BlobStore> {
        &self.store
    }
}

pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(&mut buf[..]);
    hex::encode(buf)
}
