//! Table mappings, private to `store`. Nothing outside `store` sees a `Model`.

pub mod audit_chain_heads;
pub mod audit_events;
pub mod consent_forms;
pub mod staff_tokens;
pub mod studies;
pub mod study_staff;
pub mod users;
