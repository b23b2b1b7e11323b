//! One module per route.
mod collection;
mod collections;
mod container;
mod container_sif;
mod home;
mod info;
mod login;
mod upload;

pub use collection::CollectionPage;
pub use collections::CollectionsPage;
pub use container::ContainerPage;
pub use home::HomePage;
pub use info::{AboutPage, TermsPage, ToolsPage};
pub use login::LoginPage;
pub use upload::UploadPage;
