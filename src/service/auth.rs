//! Staff sign-in: Argon2id passwords, random bearer tokens stored as hashes,
//! browser sessions, and throttling of repeated failures.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{LazyLock, Mutex};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use serde_json::json;

use super::AppState;
use crate::audit;
use crate::domain::audit::{NewEvent, sha256_hex};
use crate::domain::user::{Email, User};
use crate::error::{AppError, AppResult};
use crate::store::{self, tokens::TokenKind};

pub const STAFF_TOKEN_PREFIX: &str = "cst_";
pub const PARTICIPANT_TOKEN_PREFIX: &str = "cpt_";

/// A new random token: `prefix` + 256 random bits in hex, and the SHA-256 hash of
/// the whole token, which is all the database keeps.
pub fn new_token(prefix: &str) -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("{prefix}{}", hex::encode(bytes));
    let hash = sha256_hex(token.as_bytes());
    (token, hash)
}

pub fn hash_password(password: &str) -> AppResult<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| AppError::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
}

pub fn verify_password(stored_hash: &str, password: &str) -> bool {
    PasswordHash::new(stored_hash)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

/// Checked for unknown accounts so that a wrong address takes as long as a wrong password.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("no account has this password").unwrap_or_default());

/// Counts recent sign-in failures per account and per address, in this process.
#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, VecDeque<DateTime<Utc>>>>,
}

impl LoginThrottle {
    fn recent(&self, key: &str, window: Duration, now: DateTime<Utc>) -> usize {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match map.get_mut(key) {
            Some(times) => {
                while times.front().is_some_and(|t| *t <= now - window) {
                    times.pop_front();
                }
                times.len()
            }
            None => 0,
        }
    }

    /// Records a failure and returns how many fall in the window now.
    fn fail(&self, key: &str, window: Duration, now: DateTime<Utc>) -> usize {
        let n = self.recent(key, window, now);
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(key.to_string()).or_default().push_back(now);
        n + 1
    }

    fn clear(&self, key: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

/// Checks an e-mail address and password. Repeated failures for one account or from
/// one address are refused with 429 before the password is even checked; the
/// moment a limit is reached is recorded in the audit log.
pub async fn check_credentials(
    state: &AppState,
    email: &str,
    password: &str,
    address: Option<IpAddr>,
) -> AppResult<User> {
    let cfg = &state.config;
    let window = Duration::minutes(cfg.login_window_minutes);
    let now = Utc::now();
    let email_key = format!("account:{}", email.trim().to_lowercase());
    let addr_key = address.map(|a| format!("address:{a}"));
    let account_limit = cfg.login_max_failures_per_account as usize;
    let address_limit = cfg.login_max_failures_per_address as usize;
    if state.throttle.recent(&email_key, window, now) >= account_limit
        || addr_key.as_ref().is_some_and(|k| state.throttle.recent(k, window, now) >= address_limit)
    {
        return Err(AppError::TooMany);
    }

    let wrong = || AppError::Unauthenticated("Wrong e-mail address or password.".into());
    let found = match Email::parse(email) {
        Ok(e) => store::users::find_for_login(state.db.conn(), &e).await?,
        Err(_) => None,
    };
    let ok_user = match &found {
        Some((user, hash)) => verify_password(hash, password) && user.active,
        None => {
            verify_password(&DUMMY_HASH, password);
            false
        }
    };
    if ok_user && let Some((user, _)) = found {
        state.throttle.clear(&email_key);
        return Ok(user);
    }

    let account_failures = state.throttle.fail(&email_key, window, now);
    let address_failures =
        addr_key.as_ref().map(|k| state.throttle.fail(k, window, now)).unwrap_or(0);
    let account_hit = account_failures == account_limit;
    let address_hit = address_failures == address_limit;
    if account_hit || address_hit {
        let user_id = found.as_ref().map(|(u, _)| u.id);
        let scope = if account_hit { "account" } else { "address" };
        let subject = match (scope, user_id, address) {
            ("account", Some(id), _) => format!("user:{id}"),
            ("account", None, _) => {
                format!("unknown-account:{}", &sha256_hex(email_key.as_bytes())[..16])
            }
            (_, _, Some(a)) => format!("address:{}", &sha256_hex(a.to_string().as_bytes())[..16]),
            _ => "address:unknown".into(),
        };
        let tx = state.db.begin_write().await?;
        audit::record(
            tx.conn(),
            NewEvent::new("anonymous", "auth.throttled", "sign_in", subject)
                .with(json!({"scope": scope, "failures": account_failures.max(address_failures), "window_minutes": cfg.login_window_minutes})),
        )
        .await?;
        tx.commit().await?;
        tracing::warn!(scope, "sign-in throttled after repeated failures");
    }
    Err(wrong())
}

/// Issues a token of `kind` for `user`; returns the token (shown once) and its expiry.
pub async fn issue_token(
    state: &AppState,
    user: &User,
    kind: TokenKind,
) -> AppResult<(String, DateTime<Utc>)> {
    let now = Utc::now();
    let ttl = match kind {
        TokenKind::Api => state.config.token_ttl_hours,
        TokenKind::Session => state.config.session_ttl_hours,
    };
    let expires_at = now + Duration::hours(ttl);
    let (token, hash) = new_token(STAFF_TOKEN_PREFIX);
    let tx = state.db.begin_write().await?;
    store::tokens::insert(tx.conn(), &hash, kind, user.id, now, expires_at).await?;
    let action = match kind {
        TokenKind::Api => "auth.token_issued",
        TokenKind::Session => "auth.signed_in",
    };
    audit::record(
        tx.conn(),
        NewEvent::new(user.actor(), action, "user", user.id)
            .with(json!({"expires_at": expires_at.to_rfc3339()})),
    )
    .await?;
    tx.commit().await?;
    Ok((token, expires_at))
}

/// The staff member a presented token belongs to, if it is live.
pub async fn authenticate(
    state: &AppState,
    token: &str,
    kind: TokenKind,
) -> AppResult<Option<User>> {
    if !token.starts_with(STAFF_TOKEN_PREFIX) || token.len() > 200 {
        return Ok(None);
    }
    let hash = sha256_hex(token.as_bytes());
    store::tokens::find_user(state.db.conn(), &hash, kind, Utc::now()).await
}

/// Ends a browser session.
pub async fn sign_out(state: &AppState, user: &User, token: &str) -> AppResult<()> {
    let tx = state.db.begin_write().await?;
    store::tokens::revoke(tx.conn(), &sha256_hex(token.as_bytes()), Utc::now()).await?;
    audit::record(tx.conn(), NewEvent::new(user.actor(), "auth.signed_out", "user", user.id))
        .await?;
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_long_and_hashed() {
        let (a, ha) = new_token(STAFF_TOKEN_PREFIX);
        let (b, _) = new_token(STAFF_TOKEN_PREFIX);
        assert!(a.starts_with("cst_") && a.len() == 4 + 64);
        assert_ne!(a, b);
        assert_eq!(ha, sha256_hex(a.as_bytes()));
        assert!(!ha.contains(&a[4..]));
    }

    #[test]
    fn passwords_hash_with_argon2id() {
        let hash = hash_password("correct horse battery").unwrap_or_default();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "wrong"));
        assert!(!verify_password("not a hash", "x"));
        assert!(DUMMY_HASH.starts_with("$argon2id$") && !verify_password(&DUMMY_HASH, "anything"));
    }

    #[test]
    fn throttle_counts_within_the_window() {
        let t = LoginThrottle::default();
        let now = Utc::now();
        let w = Duration::minutes(15);
        assert_eq!(t.fail("k", w, now - Duration::minutes(20)), 1);
        assert_eq!(t.fail("k", w, now), 1, "the old failure left the window");
        assert_eq!(t.fail("k", w, now), 2);
        t.clear("k");
        assert_eq!(t.recent("k", w, now), 0);
    }
}
