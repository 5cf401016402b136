//! Field-level protection of the most sensitive personal data (citizen ID, phone,
//! ethnicity, religion): authenticated encryption at rest, and a keyed blind index so a
//! citizen ID can be looked up and kept unique without being stored in clear.

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Encrypts and indexes sensitive fields with keys derived from one master key.
#[derive(Clone)]
pub struct FieldCipher {
    cipher: XChaCha20Poly1305,
    index_key: [u8; 32],
}

const NONCE_LEN: usize = 24;

impl FieldCipher {
    /// A cipher from the base64 master key (32 bytes).
    pub fn from_base64(master_key: &str) -> anyhow::Result<Self> {
        let master = STANDARD.decode(master_key.trim()).context("pii.encryption_key is not base64")?;
        anyhow::ensure!(master.len() == 32, "pii.encryption_key must decode to 32 bytes");
        let enc = derive(&master, b"doan/pii/encryption");
        let index_key = derive(&master, b"doan/pii/blind-index");
        Ok(Self { cipher: XChaCha20Poly1305::new(Key::from_slice(&enc)), index_key })
    }

    /// A new random master key, base64.
    pub fn generate_key() -> String {
        STANDARD.encode(XChaCha20Poly1305::generate_key(&mut OsRng))
    }

    /// Ciphertext (base64 of nonce ‖ sealed box); a fresh nonce each time.
    pub fn encrypt(&self, plaintext: &str) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        STANDARD.encode(out)
    }

    /// The plaintext of [`FieldCipher::encrypt`]'s output; fails on a wrong key or tampering.
    pub fn decrypt(&self, ciphertext: &str) -> anyhow::Result<String> {
        let raw = STANDARD.decode(ciphertext).context("ciphertext is not base64")?;
        anyhow::ensure!(raw.len() > NONCE_LEN, "ciphertext is too short");
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), sealed)
            .map_err(|_| anyhow::anyhow!("ciphertext does not authenticate (wrong key?)"))?;
        String::from_utf8(plain).context("plaintext is not UTF-8")
    }

    /// Deterministic keyed hash (hex) for equality lookups and uniqueness.
    pub fn blind_index(&self, value: &str) -> String {
        hex(&derive(&self.index_key, value.as_bytes()))
    }
}

fn derive(key: &[u8], label: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(label);
    mac.finalize().into_bytes().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypts_with_fresh_nonces_and_detects_a_wrong_key() {
        let c = FieldCipher::from_base64(&FieldCipher::generate_key()).unwrap();
        let a = c.encrypt("079203001234");
        let b = c.encrypt("079203001234");
        assert_ne!(a, b, "same plaintext must not give the same ciphertext");
        assert_eq!(c.decrypt(&a).unwrap(), "079203001234");
        assert!(!a.contains("079203001234"));
        let other = FieldCipher::from_base64(&FieldCipher::generate_key()).unwrap();
        assert!(other.decrypt(&a).is_err());
        assert_eq!(c.blind_index("079203001234"), c.blind_index("079203001234"));
        assert_ne!(c.blind_index("079203001234"), other.blind_index("079203001234"));
    }

    #[test]
    fn rejects_short_keys() {
        assert!(FieldCipher::from_base64("c2hvcnQ=").is_err());
    }
}
