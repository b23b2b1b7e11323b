//! The treemap's data: every container the viewer may read, flat and compact (one short
//! record per container, since a registry has thousands).
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreemapData {
    /// Ordered by entity, collection and container name.
    pub containers: Vec<TreemapContainer>,
    /// The server's clock (Unix seconds) when the data was read, for colouring by age.
    pub now: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreemapContainer {
    #[serde(rename = "e")]
    pub entity: String,
    #[serde(rename = "c")]
    pub collection: String,
    #[serde(rename = "n")]
    pub name: String,
    /// Bytes stored: the sizes of the container's uploaded images.
    #[serde(rename = "s")]
    pub size: u64,
    /// Uploaded images.
    #[serde(rename = "i")]
    pub images: u64,
    /// Unix seconds of the last finished upload; 0 when nothing was uploaded yet.
    #[serde(rename = "t")]
    pub last_push: i64,
}
