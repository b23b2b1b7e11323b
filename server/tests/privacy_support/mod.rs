//! The privacy matrix's world, rule table, operations and report (see `privacy_matrix.rs`).
#![allow(dead_code)]
pub mod events;
pub mod http;
pub mod ops;
pub mod rules;
pub mod world;
pub mod writes;

use std::collections::BTreeMap;

/// One cell that did not hold.
pub struct Failure {
    pub op: &'static str,
    pub target: String,
    pub who: world::Who,
    pub expected: u16,
    pub got: u16,
    pub problem: Option<String>,
}

/// A compact matrix of the failing cells: one line per operation and target, one column per
/// caller (`.` held, `got/want` or `!` for a body problem), then the details.
pub fn report(failures: &[Failure]) -> String {
    let mut rows: BTreeMap<(String, String), Vec<&Failure>> = BTreeMap::new();
    for f in failures {
        rows.entry((f.op.to_string(), f.target.clone()))
            .or_default()
            .push(f);
    }
    let mut out = format!(
        "{} failing cells\n{:<26} {:<15}",
        failures.len(),
        "operation",
        "target"
    );
    for who in world::Who::ALL {
        out.push_str(&format!(" {:>9}", who.label()));
    }
    out.push('\n');
    for ((op, target), cells) in &rows {
        out.push_str(&format!("{op:<26} {target:<15}"));
        for who in world::Who::ALL {
            let cell = match cells.iter().find(|f| f.who == who) {
                None => ".".to_string(),
                Some(f) if f.got != f.expected => format!("{}/{}", f.got, f.expected),
                Some(_) => "!".to_string(),
            };
            out.push_str(&format!(" {cell:>9}"));
        }
        out.push('\n');
    }
    for f in failures.iter().filter(|f| f.problem.is_some()) {
        out.push_str(&format!(
            "  {} {} as {}: {}\n",
            f.op,
            f.target,
            f.who.label(),
            f.problem.as_deref().unwrap_or_default()
        ));
    }
    out
}
