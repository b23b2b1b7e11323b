//! SeaORM entities, one module per table. The schema itself lives in `crate::migration`.
pub mod api_token;
pub mod audit_log;
pub mod collection;
pub mod container;
pub mod download_event;
pub mod entity;
pub mod image;
pub mod image_metadata;
pub mod setting;
pub mod star;
pub mod tag;
pub mod team;
pub mod team_membership;
pub mod upload_part;
pub mod upload_session;
pub mod user;
