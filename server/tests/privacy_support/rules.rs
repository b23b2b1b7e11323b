//! The specification the matrix checks: what each caller may do to each collection, and how
//! each surface says no.
use super::world::{Target, Who};

/// What a caller may do to one collection, in increasing order of power.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// An expired or revoked credential, or a disabled account: refused before anything else.
    Refused,
    /// No credential (a share link is no credential outside the share routes).
    Anonymous,
    /// Signed in, no role here: reads public collections only.
    Outsider,
    /// Role reader: also reads the private collection.
    Reader,
    /// Role contributor (or member of the owning team): also pushes and tags.
    Contributor,
    /// Entity owner, or admin: also deletes.
    Owner,
}

/// Who holds which role where: the rule table's left column.
pub fn level(who: Who, target: &Target) -> Level {
    match (who, target.team) {
        (Who::ExpiredToken | Who::RevokedToken | Who::Disabled, _) => Level::Refused,
        // A read-scoped token reads what its user reads, and writes nothing.
        (Who::ReadOnlyToken, false) => Level::Reader,
        (Who::ReadOnlyToken, true) => Level::Outsider,
        (Who::Anonymous | Who::ShareLink | Who::ExpiredShareLink, _) => Level::Anonymous,
        (Who::Admin, _) => Level::Owner,
        (Who::Owner, false) => Level::Owner,
        (Who::Contributor, false) => Level::Contributor,
        (Who::Reader, false) => Level::Reader,
        (Who::TeamMember, true) => Level::Contributor,
        (Who::Other | Who::Owner | Who::Contributor | Who::Reader | Who::TeamMember, _) => {
            Level::Outsider
        }
    }
}

/// Whether the caller may read the target's collection at all.
pub fn can_read(level: Level, target: &Target) -> bool {
    level != Level::Refused && (!target.private || level >= Level::Reader)
}

/// What an operation needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// A list or aggregate: everyone gets an answer, which shows the target only to readers.
    List,
    Read,
    /// Reading, signed in (stars).
    SignedInRead,
    Push,
    Delete,
}

impl Need {
    pub fn allows(self, level: Level, target: &Target) -> bool {
        match self {
            Need::List => level != Level::Refused,
            Need::Read => can_read(level, target),
            Need::SignedInRead => level >= Level::Outsider && can_read(level, target),
            Need::Push => level >= Level::Contributor,
            Need::Delete => level >= Level::Owner,
        }
    }
}

/// How a surface answers an operation it refuses. `hidden` is for callers who may not even
/// read the collection (a private one looks absent), `denied` for those who may read but not
/// do this.
#[derive(Clone, Copy, Debug)]
pub struct Refusals {
    /// Expired or revoked credential.
    pub bad_credential: u16,
    pub anonymous_hidden: u16,
    pub anonymous_denied: u16,
    pub hidden: u16,
    pub denied: u16,
}

/// Library API, REST and SPA: 401 without (valid) credentials, private things look absent.
pub const STANDARD: Refusals = Refusals {
    bad_credential: 401,
    anonymous_hidden: 404,
    anonymous_denied: 401,
    hidden: 404,
    denied: 403,
};

/// Writes on the library API ask anonymous callers to sign in before anything else.
pub const STANDARD_WRITE: Refusals = Refusals {
    anonymous_hidden: 401,
    ..STANDARD
};

/// Signed-in actions of the web interface (stars, uploads): anonymous callers are asked to
/// sign in first; a push refuses with 403 whether or not the collection exists.
pub const WEB_WRITE: Refusals = Refusals {
    anonymous_hidden: 401,
    hidden: 403,
    ..STANDARD
};

/// OCI: anonymous callers are challenged (401) rather than told a repository is absent.
pub const OCI: Refusals = Refusals {
    anonymous_hidden: 401,
    ..STANDARD
};

/// OCI push: refused with 403 whether or not the repository exists (as for someone else's
/// entity), so a push never confirms a private name.
pub const OCI_PUSH: Refusals = Refusals { hidden: 403, ..OCI };

/// shub and sregistry: the sregistry client exits on 401 without reading the answer, so every
/// authentication failure is 403 (and anonymous pulls of what they cannot see too: the
/// client then retries signed).
pub const SREGISTRY: Refusals = Refusals {
    bad_credential: 403,
    anonymous_hidden: 403,
    anonymous_denied: 403,
    hidden: 404,
    denied: 403,
};

/// sregistry listings of one collection: 404 when nothing readable matches, for everyone.
pub const SREGISTRY_LISTING: Refusals = Refusals {
    anonymous_hidden: 404,
    ..SREGISTRY
};

/// sregistry push: like OCI push, 403 whether or not the collection exists.
pub const SREGISTRY_PUSH: Refusals = Refusals {
    hidden: 403,
    ..SREGISTRY
};

/// The exact status expected for a caller at `level` doing an operation that needs `need`
/// (answering `ok` when allowed) on `target`, on a surface refusing as `refusals` says.
pub fn expected_status(
    need: Need,
    ok: u16,
    refusals: &Refusals,
    level: Level,
    target: &Target,
) -> u16 {
    if level == Level::Refused {
        return refusals.bad_credential;
    }
    if need.allows(level, target) {
        return ok;
    }
    match (level == Level::Anonymous, can_read(level, target)) {
        (true, false) => refusals.anonymous_hidden,
        (true, true) => refusals.anonymous_denied,
        (false, false) => refusals.hidden,
        (false, true) => refusals.denied,
    }
}
