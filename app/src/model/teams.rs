//! Teams, collection roles and robot accounts, as the browser sees them.
use serde::{Deserialize, Serialize};

use super::Timestamp;

/// One team in the `/teams` list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamRow {
    pub name: String,
    pub description: String,
    /// `owner`, `member`, or `None` (admins looking at every team).
    pub my_role: Option<String>,
    pub members: u64,
}

impl TeamRow {
    pub fn href(&self) -> String {
        format!("/teams/{}", self.name)
    }
}

/// A member of a team.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRow {
    pub username: String,
    pub is_robot: bool,
    /// `owner` or `member`.
    pub role: String,
    pub joined_at: Timestamp,
}

/// A collection of the team's entity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamCollection {
    pub name: String,
    pub private: bool,
    /// The SPA route of the collection page.
    pub href: String,
}

/// The `/teams/:name` page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamData {
    pub name: String,
    pub description: String,
    /// The entity the team owns (named like the team).
    pub entity: Option<String>,
    pub members: Vec<MemberRow>,
    pub collections: Vec<TeamCollection>,
    pub my_role: Option<String>,
    /// Team owners and admins manage members, robots and the team itself.
    pub can_manage: bool,
    /// The team's robots the viewer manages (with their tokens).
    pub robots: Vec<RobotData>,
    /// The signed-in user's name.
    pub viewer: String,
}

/// A role on a collection, as the collection page's Access panel lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRow {
    /// `user` or `team`.
    pub holder_kind: String,
    pub holder: String,
    pub is_robot: bool,
    /// `reader`, `contributor` or `owner`.
    pub role: String,
    pub granted_at: Timestamp,
}

/// A token of a robot (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RobotTokenRow {
    pub id: i64,
    pub label: String,
    /// `read` or `push`.
    pub scope: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub revoked: bool,
    pub expired: bool,
}

impl RobotTokenRow {
    /// Still accepted by the registry.
    pub fn active(&self) -> bool {
        !self.revoked && !self.expired
    }
}

/// A robot account and its tokens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RobotData {
    pub name: String,
    /// The person who created it.
    pub creator: Option<String>,
    pub teams: Vec<String>,
    pub created_at: Timestamp,
    pub tokens: Vec<RobotTokenRow>,
}

/// A freshly created robot token: the secret is shown once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRobotToken {
    pub secret: String,
    pub token: RobotTokenRow,
}

/// The roles a collection role may be, in increasing power, with what each allows.
pub const COLLECTION_ROLES: [(&str, &str); 3] = [
    ("reader", "Reader: pulls private images"),
    ("contributor", "Contributor: also pushes"),
    ("owner", "Owner: also deletes, shares and grants roles"),
];
