//! The Alibaba Cloud RPC wire, and nothing else: how a request's parameters
//! are read (`Name.N.Field` flattening, booleans in either case, JSON-array
//! strings), how signatures V1 and V3 are checked, which actions exist per
//! product, and how results and errors are written as JSON or XML with the
//! exact codes and HTTP statuses the official SDKs expect.
//!
//! The domain [`eip_types::Error`] becomes a wire error in exactly one place,
//! [`errors::to_wire`].

pub mod auth;
pub mod bounds;
pub mod catalog;
pub mod encode;
pub mod errors;
pub mod params;
pub mod sign;

pub use catalog::{ActionSpec, Product};
pub use errors::WireError;
pub use params::Params;
