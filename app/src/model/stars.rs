//! Stars of a collection or container.
use serde::{Deserialize, Serialize};

/// A target's star count and whether the viewer starred it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StarInfo {
    pub count: u64,
    pub starred: bool,
}
