//! Staff sign-in: Argon2id passwords, random bearer tokens stored as hashes,
//! browser sessions, and throttling of repeated failures.

use std::net::IpAddr;
use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use serde_json::json;

use super::AppState;
use crate::audit;
use crate::domain::audit::{NewEvent, sha256_hex};
use crate::domain::user::TokenKind;
use crate::domain::user::{Email, User};
use crate::error::{AppError, AppResult};
use crate::store;

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

/// Throttle scopes. A failure counts for the address it came from, for the account
/// from that address, and for the account from anywhere.
const FAILED_FROM_ADDRESS: &str = "sign_in_address";
const FAILED_FROM_ADDRESS_FOR_ACCOUNT: &str = "sign_in_pair";
const FAILED_FOR_ACCOUNT: &str = "sign_in_account";

/// The longest an account is slowed down before each attempt.
const MAX_SLOWDOWN_MS: i64 = 4000;

/// How long throttle events are kept: the sign-in window, and at least a day (link
/// requests count by the hour).
pub fn throttle_memory(config: &crate::config::AppConfig) -> Duration {
    Duration::minutes(config.login_window_minutes).max(Duration::days(1))
}

/// The pause before checking a password for an account that failed `failures`
/// times in the window from anywhere: none up to the per-account limit, then
/// 250 ms doubling with each failure, at most `MAX_SLOWDOWN_MS`. It slows guessing
/// without ever locking the owner out.
pub fn slowdown(failures: u64, limit: u64) -> std::time::Duration {
    if failures < limit {
        return std::time::Duration::ZERO;
    }
    let doublings = u32::try_from((failures - limit).min(10)).unwrap_or(10);
    let ms = (250_i64 << doublings).min(MAX_SLOWDOWN_MS);
    std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// Checks an e-mail address and password. Throttling, shared by every instance on
/// the database:
/// - an address with `login_max_failures_per_address` failures in the window (for
///   any accounts) is refused with 429 before the password is checked;
/// - so is an address with `login_max_failures_per_account` failures for this
///   account: wrong passwords from elsewhere never stop the owner's own sign-in;
/// - an account with that many failures from anywhere is slowed down (`slowdown`),
///   never locked.
///
/// The moment a limit is reached is recorded in the audit log.
#[tracing::instrument(skip_all)]
pub async fn check_credentials(
    state: &AppState,
    email: &str,
    password: &str,
    address: Option<IpAddr>,
) -> AppResult<User> {
    let cfg = &state.config;
    let now = Utc::now();
    let since = now - Duration::minutes(cfg.login_window_minutes);
    let account = state.keys()?.address_hash(email);
    let address = address.map_or_else(|| "unknown".to_string(), |a| a.to_string());
    let pair = format!("{account}@{address}");
    let account_limit = u64::from(cfg.login_max_failures_per_account);
    let address_limit = u64::from(cfg.login_max_failures_per_address);
    let db = state.db.conn();
    if store::auth::throttle::count(db, FAILED_FROM_ADDRESS, &address, since).await?
        >= address_limit
        || store::auth::throttle::count(db, FAILED_FROM_ADDRESS_FOR_ACCOUNT, &pair, since).await?
            >= account_limit
    {
        return Err(AppError::TooMany);
    }
    let account_failures =
        store::auth::throttle::count(db, FAILED_FOR_ACCOUNT, &account, since).await?;
    tokio::time::sleep(slowdown(account_failures, account_limit)).await;

    let wrong = || AppError::Unauthenticated("Wrong e-mail address or password.".into());
    let found = match Email::parse(email) {
        Ok(e) => store::user::find_for_login(db, &e).await?,
        Err(_) => None,
    };
    let ok_user = match &found {
        Some((user, hash)) => verify_password(hash, password) && user.active,
        None => {
            verify_password(&DUMMY_HASH, password);
            false
        }
    };
    let tx = state.db.begin_write().await?;
    if ok_user && let Some((user, _)) = found {
        store::auth::throttle::clear(tx.conn(), FAILED_FROM_ADDRESS_FOR_ACCOUNT, &pair).await?;
        tx.commit().await?;
        return Ok(user);
    }
    store::auth::throttle::prune(tx.conn(), now - throttle_memory(cfg)).await?;
    let mut reached = Vec::new();
    for (scope, key, limit) in [
        (FAILED_FROM_ADDRESS, address.as_str(), address_limit),
        (FAILED_FROM_ADDRESS_FOR_ACCOUNT, pair.as_str(), account_limit),
        (FAILED_FOR_ACCOUNT, account.as_str(), account_limit),
    ] {
        store::auth::throttle::record(tx.conn(), scope, key, now).await?;
        if store::auth::throttle::count(tx.conn(), scope, key, since).await? == limit {
            reached.push(scope);
        }
    }
    if !reached.is_empty() {
        let subject = match &found {
            Some((user, _)) => format!("user:{}", user.id),
            None => format!("unknown-account:{}", &account[..16]),
        };
        audit::record(
            tx.conn(),
            NewEvent::new("anonymous", "auth.throttled", "sign_in", subject).with(json!({
                "limits": reached,
                "address_hmac": state.keys()?.address_hash(&address),
                "window_minutes": cfg.login_window_minutes,
            })),
        )
        .await?;
        tracing::warn!(limits = ?reached, "sign-in throttled after repeated failures");
    }
    tx.commit().await?;
    Err(wrong())
}

/// Issues a token of `kind` for `user`; returns the token (shown once) and its expiry.
#[tracing::instrument(skip_all)]
pub async fn issue_token(
    state: &AppState,
    user: &User,
    kind: TokenKind,
) -> AppResult<(String, DateTime<Utc>)> {
    let now = Utc::now();
    let ttl = match kind {
        TokenKind::Api => state.config.token_ttl_hours,
        TokenKind::Session => state.config.session_ttl_hours,
        TokenKind::PasswordReset => crate::domain::user::PASSWORD_LINK_HOURS,
    };
    let expires_at = now + Duration::hours(ttl);
    let (token, hash) = new_token(STAFF_TOKEN_PREFIX);
    let tx = state.db.begin_write().await?;
    store::auth::token::insert(tx.conn(), &hash, kind, user.id, now, expires_at).await?;
    let action = match kind {
        TokenKind::Api => "auth.token_issued",
        TokenKind::Session => "auth.signed_in",
        TokenKind::PasswordReset => "user.password_link_issued",
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
#[tracing::instrument(skip_all)]
pub async fn authenticate(
    state: &AppState,
    token: &str,
    kind: TokenKind,
) -> AppResult<Option<User>> {
    if !token.starts_with(STAFF_TOKEN_PREFIX) || token.len() > 200 {
        return Ok(None);
    }
    let hash = sha256_hex(token.as_bytes());
    store::auth::token::find_user(state.db.conn(), &hash, kind, Utc::now()).await
}

/// Ends a browser session.
#[tracing::instrument(skip_all)]
pub async fn sign_out(state: &AppState, user: &User, token: &str) -> AppResult<()> {
    let tx = state.db.begin_write().await?;
    store::auth::token::revoke(tx.conn(), &sha256_hex(token.as_bytes()), Utc::now()).await?;
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
    fn the_slowdown_grows_and_stays_bounded() {
        let ms = |n| slowdown(n, 5).as_millis();
        assert_eq!((ms(0), ms(4)), (0, 0), "no delay below the limit");
        assert_eq!((ms(5), ms(6), ms(7)), (250, 500, 1000));
        assert_eq!((ms(9), ms(50), ms(u64::MAX)), (4000, 4000, 4000), "never more than 4 s");
    }
}
