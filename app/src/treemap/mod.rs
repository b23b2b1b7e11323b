//! The live treemap of the registry (`/treemap`): squarified layout ([`layout`]), levels
//! ([`tree`]), SVG drawing ([`paint`]), live updates ([`live`]) and the page ([`view`]).
pub mod layout;
pub mod live;
pub mod paint;
pub mod tree;
mod view;

pub use view::TreemapPage;
