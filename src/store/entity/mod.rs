//! Table mappings, private to `store`. Nothing outside `store` sees a `Model`.

pub mod ads;
pub mod answers;
pub mod audit_chain_heads;
pub mod audit_events;
pub mod availability;
pub mod consent_forms;
pub mod consents;
pub mod facilitator_conflicts;
pub mod focus_group_members;
pub mod focus_groups;
pub mod identity_codes;
pub mod outbox;
pub mod participant_contacts;
pub mod participant_links;
pub mod participants;
pub mod questionnaire_definitions;
pub mod responses;
pub mod screenings;
pub mod staff_tokens;
pub mod strata;
pub mod studies;
pub mod study_code_counters;
pub mod study_instruments;
pub mod study_staff;
pub mod throttle_events;
pub mod users;
