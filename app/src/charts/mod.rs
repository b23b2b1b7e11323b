//! Usage charts drawn in the browser with plotters: pulls per day and storage growth.
mod panel;
pub mod svg;

pub use panel::UsagePanel;
