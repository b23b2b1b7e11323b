//! One module per route.
mod collection;
mod collections;
mod container;
mod container_share;
mod container_sif;
mod container_versions;
mod entity;
mod home;
mod home_highlights;
mod info;
mod login;
mod share;
mod stats;
mod tokens;
mod upload;

pub use collection::CollectionPage;
pub use collections::CollectionsPage;
pub use container::ContainerPage;
pub use entity::{EntityLink, EntityPage};
pub use home::HomePage;
pub use info::{AboutPage, TermsPage, ToolsPage};
pub use login::LoginPage;
pub use share::SharePage;
pub use stats::StatsPage;
pub use tokens::TokensPage;
pub use upload::UploadPage;
