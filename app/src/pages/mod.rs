//! One module per route.
mod collection;
mod collections;
mod container;
mod container_sif;
mod container_versions;
mod entity;
mod home;
mod info;
mod login;
mod upload;
mod home_highlights;
mod stats;

pub use collection::CollectionPage;
pub use collections::CollectionsPage;
pub use container::ContainerPage;
pub use entity::{EntityLink, EntityPage};
pub use home::HomePage;
pub use info::{AboutPage, TermsPage, ToolsPage};
pub use login::LoginPage;
pub use upload::UploadPage;
pub use stats::StatsPage;
