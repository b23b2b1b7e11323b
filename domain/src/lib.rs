//! Silo's domain layer: the one place where registry behaviour lives.
//!
//! Protocol adapters (library API, shub, OCI, sregistry, SPA server functions) translate their
//! dialect into calls on [`services::Registry`], passing an [`policy::Actor`]; the registry
//! checks access with [`policy`], keeps metadata in the database through the SeaORM
//! [`entities`] and streams bytes through a [`store::BlobStore`].
pub mod backup;
pub mod db;
pub mod entities;
pub mod error;
pub mod fault;
#[cfg(any(test, feature = "test-support"))]
pub mod fuzz_checks;
pub mod headers;
pub mod migration;
pub mod names;
pub mod policy;
pub mod seed;
pub mod services;
pub mod sif;
pub mod store;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;

pub use error::{DomainError, Result};
pub use policy::{Actor, Principal, ReadScope, Scope};
pub use services::Registry;
