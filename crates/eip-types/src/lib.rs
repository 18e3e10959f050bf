//! Vocabulary shared by every openeip crate: typed resource ids with the
//! cloud's prefixes, the status and type enums that appear on the wire, wall
//! time in the cloud's text format, and the one domain [`Error`].
//!
//! Nothing here performs I/O, so every other crate (pure rules, store, wire,
//! controller) can depend on it without pulling in a runtime.

pub mod enums;
pub mod error;
pub mod ids;
pub mod time;

pub use enums::*;
pub use error::{DependencyKind, Error, ResourceKind, Result};
pub use ids::*;
