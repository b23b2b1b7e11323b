//! One module per route.
mod admin;
mod collection;
mod collections;
mod container;
mod container_sif;
mod container_versions;
mod entity;
mod home;
mod home_highlights;
mod info;
mod login;
mod stats;
mod upload;

pub use admin::{AdminAuditPage, AdminPage, AdminSettingsPage, AdminUsersPage};
pub use collection::CollectionPage;
pub use collections::CollectionsPage;
pub use container::ContainerPage;
pub use entity::{EntityLink, EntityPage};
pub use home::HomePage;
pub use info::{AboutPage, TermsPage, ToolsPage};
pub use login::LoginPage;
pub use stats::StatsPage;
pub use upload::UploadPage;
