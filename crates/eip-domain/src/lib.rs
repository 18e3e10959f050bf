//! Pure rules of openeip: the region catalogue, address arithmetic, and the
//! state machines and association checks of rules.md. No I/O, no clock, no
//! database: the controller gathers facts, these functions decide.

pub mod billing;
pub mod catalogue;
pub mod cidr;
pub mod pool;
pub mod quotas;
pub mod rules;
pub mod targets;
pub mod throttle;
