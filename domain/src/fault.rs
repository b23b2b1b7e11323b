//! Named crash points for the fault-injection test (`end2end/run-faults.sh`).
//!
//! Built only with the cargo feature `fault-injection` (never in release builds by default):
//! then `SILO_FAULT_POINT=<name>` makes the process abort (SIGABRT, no unwinding, no cleanup,
//! like `kill -9`) the first time it reaches that point, and `SILO_FAULT_POINT=<name>@<n>` the
//! n-th time. Without the feature [`point`] is an empty inline function.
//!
//! Points:
//! - `store-commit`: a blob's bytes are all received and verified, about to become visible
//!   in the store (filesystem: before the rename into `sha256/`; S3: before the completing
//!   request or the server-side copy).
//! - `db-commit`: a blob is committed to the store, its image not yet marked uploaded in the
//!   database (`Registry::mark_uploaded`).
//! - `multipart-complete`: a library multipart completion has begun, before the parts are
//!   assembled.
//! - `oci-finish`: the closing `PUT` of an OCI blob upload has received its last bytes,
//!   before the upload is finished in the store.

/// Aborts the process here if `SILO_FAULT_POINT` names this point (see the module docs).
#[cfg(feature = "fault-injection")]
pub fn point(name: &str) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static HITS: AtomicU64 = AtomicU64::new(0);
    let Ok(wanted) = std::env::var("SILO_FAULT_POINT") else {
        return;
    };
    let (wanted_name, nth) = match wanted.split_once('@') {
        Some((n, count)) => (n.to_string(), count.parse::<u64>().unwrap_or(1)),
        None => (wanted, 1),
    };
    if wanted_name != name {
        return;
    }
    if HITS.fetch_add(1, Ordering::SeqCst) + 1 >= nth {
        eprintln!("silo: fault injection: aborting at {name}");
        std::process::abort();
    }
}

/// Without the `fault-injection` feature: nothing.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn point(_name: &str) {}
