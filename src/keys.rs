//! Keys derived from `CONSENTRY_SECRET_KEY`, one per purpose, so that no secret is
//! stored where staff or a database reader could use it:
//! - **sealing**: mail that carries a private link or a code is stored with the
//!   secret sealed (AES-256-GCM, bound to the recipient's address) and opened only
//!   by the sender at send time;
//! - **address hashes**: audit events and sign-in counters name an e-mail address by
//!   a keyed hash (HMAC-SHA-256), which cannot be confirmed by hashing a guess.
//!
//! A new secret key makes sealed, unsent mail unreadable (it is marked failed) and
//! starts new address hashes; nothing else depends on it.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

const NONCE_LEN: usize = 12;

#[derive(Clone)]
pub struct Keys {
    seal: [u8; 32],
    address: [u8; 32],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(…)")
    }
}

fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(message);
    mac.finalize().into_bytes().into()
}

impl Keys {
    /// The keys for one secret (the configured key, as written in the configuration).
    pub fn derive(secret: &str) -> Keys {
        let root = secret.trim().as_bytes();
        Keys {
            seal: hmac(root, b"consentry/v1/mail-seal"),
            address: hmac(root, b"consentry/v1/address-hash"),
        }
    }

    /// The keyed hash of an e-mail address (trimmed and lower-cased), in hex.
    pub fn address_hash(&self, email: &str) -> String {
        hex::encode(hmac(&self.address, email.trim().to_lowercase().as_bytes()))
    }

    /// `plain` sealed for `bound_to` (a recipient's address): nonce, then ciphertext.
    pub fn seal(&self, plain: &[u8], bound_to: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let cipher = Aes256Gcm::new(&self.seal.into());
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad: bound_to.as_bytes() })
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(sealed);
        out
    }

    /// What `seal` sealed, if it was sealed with these keys for `bound_to` and not altered.
    pub fn open(&self, sealed: &[u8], bound_to: &str) -> Option<Vec<u8>> {
        if sealed.len() <= NONCE_LEN {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let cipher = Aes256Gcm::new(&self.seal.into());
        cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad: bound_to.as_bytes() })
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_text_opens_only_with_its_key_and_recipient() {
        let keys = Keys::derive("8f1c1b4b7a0f6c0d2f7b9a5e3c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d");
        let sealed = keys.seal(b"http://x/p/cpt_secret", "pat@example.org");
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(
            keys.open(&sealed, "pat@example.org").as_deref(),
            Some(&b"http://x/p/cpt_secret"[..])
        );
        assert_eq!(keys.open(&sealed, "mallory@example.org"), None, "bound to the recipient");
        assert_eq!(
            Keys::derive("another key of enough length, 32+ bytes")
                .open(&sealed, "pat@example.org"),
            None
        );
        let mut altered = sealed.clone();
        let last = altered.len() - 1;
        altered[last] ^= 1;
        assert_eq!(keys.open(&altered, "pat@example.org"), None);
        assert_eq!(keys.open(b"short", "pat@example.org"), None);
        assert_ne!(
            keys.seal(b"same", "a@b.c"),
            keys.seal(b"same", "a@b.c"),
            "a fresh nonce each time"
        );
    }

    #[test]
    fn address_hashes_are_keyed_and_normalised() {
        let a = Keys::derive("one key of at least thirty-two bytes..");
        let b = Keys::derive("two key of at least thirty-two bytes..");
        assert_eq!(a.address_hash(" Pat@Example.org "), a.address_hash("pat@example.org"));
        assert_ne!(a.address_hash("pat@example.org"), b.address_hash("pat@example.org"));
        assert_ne!(
            a.address_hash("pat@example.org"),
            crate::domain::audit::sha256_hex(b"pat@example.org")
        );
        assert_eq!(a.address_hash("pat@example.org").len(), 64);
    }
}
