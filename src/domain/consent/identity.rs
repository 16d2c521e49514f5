//! The e-mailed one-time code that checks a participant's identity before signing:
//! six digits, valid for 15 minutes, five tries per code, five codes an hour; once
//! entered, signing is open for two hours.

use chrono::{DateTime, Duration, Utc};

use crate::domain::audit::sha256_hex;

pub const CODE_TTL_MINUTES: i64 = 15;
pub const MAX_TRIES: i32 = 5;
pub const MAX_CODES_PER_HOUR: i32 = 5;
pub const VERIFIED_FOR_HOURS: i64 = 2;

/// A participant's current code, as stored (the code itself only as a hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeState {
    pub code_hash: String,
    pub expires_at: DateTime<Utc>,
    pub attempts: i32,
    pub sent_in_window: i32,
    pub window_start: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
}

/// The hash a code is kept as, bound to its participant.
pub fn code_hash(participant_id: i64, code: &str) -> String {
    sha256_hex(format!("{participant_id}:{}", code.trim()).as_bytes())
}

/// Six digits from a random number.
pub fn format_code(random: u32) -> String {
    format!("{:06}", random % 1_000_000)
}

/// The state after sending a new code at `now`, or `None` when too many codes were
/// sent in the last hour.
pub fn after_send(
    previous: Option<&CodeState>,
    participant_id: i64,
    code: &str,
    now: DateTime<Utc>,
) -> Option<CodeState> {
    let (window_start, sent) = match previous {
        Some(p) if now - p.window_start < Duration::hours(1) => (p.window_start, p.sent_in_window),
        _ => (now, 0),
    };
    if sent >= MAX_CODES_PER_HOUR {
        return None;
    }
    Some(CodeState {
        code_hash: code_hash(participant_id, code),
        expires_at: now + Duration::minutes(CODE_TTL_MINUTES),
        attempts: 0,
        sent_in_window: sent + 1,
        window_start,
        verified_at: None,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeError {
    NoCode,
    Expired,
    TooManyTries,
    Wrong { tries_left: i32 },
}

/// Checks an entered code; returns the state to store either way.
pub fn check(
    state: &CodeState,
    participant_id: i64,
    entered: &str,
    now: DateTime<Utc>,
) -> (CodeState, Result<(), CodeError>) {
    let mut next = state.clone();
    if state.verified_at.is_some() {
        return (next, Ok(()));
    }
    if state.attempts >= MAX_TRIES {
        return (next, Err(CodeError::TooManyTries));
    }
    if now > state.expires_at {
        return (next, Err(CodeError::Expired));
    }
    next.attempts += 1;
    if code_hash(participant_id, entered) == state.code_hash {
        next.verified_at = Some(now);
        (next, Ok(()))
    } else {
        let tries_left = MAX_TRIES - next.attempts;
        (
            next,
            Err(if tries_left == 0 {
                CodeError::TooManyTries
            } else {
                CodeError::Wrong { tries_left }
            }),
        )
    }
}

/// Whether signing is open: a code was entered within the last two hours.
pub fn is_verified(state: Option<&CodeState>, now: DateTime<Utc>) -> bool {
    state
        .and_then(|s| s.verified_at)
        .is_some_and(|at| now - at < Duration::hours(VERIFIED_FOR_HOURS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        assert_eq!(format_code(42), "000042");
        assert_eq!(format_code(4_294_967_295), "967295");
    }

    #[test]
    fn a_right_code_verifies_once_within_its_time() {
        let now = Utc::now();
        let s = after_send(None, 7, "123456", now).unwrap_or_else(|| panic!("sent"));
        let (after, ok) = check(&s, 7, " 123456 ", now + Duration::minutes(5));
        assert_eq!(ok, Ok(()));
        assert!(is_verified(Some(&after), now + Duration::minutes(6)));
        assert!(!is_verified(Some(&after), now + Duration::hours(3)));
        assert_eq!(
            check(&s, 8, "123456", now).1,
            Err(CodeError::Wrong { tries_left: 4 }),
            "bound to its participant"
        );
        assert_eq!(check(&s, 7, "123456", now + Duration::minutes(16)).1, Err(CodeError::Expired));
    }

    #[test]
    fn tries_and_sends_are_limited() {
        let now = Utc::now();
        let mut s = after_send(None, 7, "123456", now).unwrap_or_else(|| panic!("sent"));
        for left in (0..MAX_TRIES).rev() {
            let (next, r) = check(&s, 7, "000000", now);
            assert_eq!(
                r,
                Err(if left == 0 {
                    CodeError::TooManyTries
                } else {
                    CodeError::Wrong { tries_left: left }
                })
            );
            s = next;
        }
        assert_eq!(
            check(&s, 7, "123456", now).1,
            Err(CodeError::TooManyTries),
            "even the right code, after five tries"
        );
        let mut state = None;
        for _ in 0..MAX_CODES_PER_HOUR {
            state = after_send(state.as_ref(), 7, "1", now);
            assert!(state.is_some());
        }
        assert!(after_send(state.as_ref(), 7, "1", now + Duration::minutes(30)).is_none());
        assert!(
            after_send(state.as_ref(), 7, "1", now + Duration::minutes(61)).is_some(),
            "a new hour"
        );
    }
}
