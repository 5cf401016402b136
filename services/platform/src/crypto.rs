//! Field-level protection of the most sensitive personal data (citizen ID, phone, email,
//! ethnicity, religion): authenticated encryption at rest bound to where the value lives, a key
//! id in every ciphertext so keys can be rotated, and a keyed blind index so a citizen ID can be
//! looked up and kept unique without being stored in clear.
//!
//! A ciphertext is `v2.<key id>.<base64(nonce ‖ sealed box)>`, sealed with XChaCha20-Poly1305
//! under the key `<key id>` with associated data naming its table, column and row: a value
//! copied into another row or column does not open. Values written before key ids
//! (plain base64, no associated data) open with the key [`LEGACY_KEY_ID`] until the
//! re-encryption job rewrites them.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The id of the key that sealed values written before key ids (the first key).
pub const LEGACY_KEY_ID: &str = "k1";

/// Where a protected value lives: bound into its ciphertext.
#[derive(Debug, Clone)]
pub struct Field<'a> {
    /// Table.
    pub table: &'static str,
    /// Column.
    pub column: &'static str,
    /// The row's key (several parts joined by `/`).
    pub row: std::borrow::Cow<'a, str>,
}

impl<'a> Field<'a> {
    /// The value of `table.column` in row `row`.
    pub fn new(table: &'static str, column: &'static str, row: impl Into<std::borrow::Cow<'a, str>>) -> Self {
        Self { table, column, row: row.into() }
    }
}

/// Encrypts and indexes sensitive fields. Cheap to clone.
#[derive(Clone)]
pub struct FieldCipher {
    active: String,
    index_id: String,
    keys: Arc<HashMap<String, XChaCha20Poly1305>>,
    index_key: [u8; 32],
}

const NONCE_LEN: usize = 24;
const VERSION: &str = "v2";

/// Whether `id` may name a key: 1 to 16 of `a-z`, `0-9`, `-`.
fn valid_key_id(id: &str) -> bool {
    (1..=16).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn master(label: &str, base64: &str) -> anyhow::Result<Vec<u8>> {
    let master = STANDARD.decode(base64.trim()).with_context(|| format!("{label} is not base64"))?;
    anyhow::ensure!(master.len() == 32, "{label} must decode to 32 bytes");
    Ok(master)
}

impl FieldCipher {
    /// One key, id [`LEGACY_KEY_ID`], that seals, opens and indexes (base64 of 32 bytes).
    pub fn from_base64(master_key: &str) -> anyhow::Result<Self> {
        Self::keyring(LEGACY_KEY_ID, master_key, "", LEGACY_KEY_ID)
    }

    /// A keyring: `active_key` (id `active_id`) seals new values; it and `previous_keys`
    /// (`id=base64` separated by commas or whitespace) open them; the blind index is derived
    /// from the key `index_key_id`, which must stay in the ring while indexes built with it
    /// exist.
    pub fn keyring(active_id: &str, active_key: &str, previous_keys: &str, index_key_id: &str) -> anyhow::Result<Self> {
        anyhow::ensure!(valid_key_id(active_id), "pii.key_id must be 1 to 16 of a-z, 0-9 and -");
        let mut masters: HashMap<String, Vec<u8>> = HashMap::new();
        masters.insert(active_id.to_string(), master("pii.encryption_key", active_key)?);
        for entry in previous_keys.split(|c: char| c == ',' || c.is_whitespace()).filter(|e| !e.is_empty()) {
            let (id, key) = entry.split_once('=').context("pii.previous_keys holds an entry that is not id=base64")?;
            anyhow::ensure!(valid_key_id(id), "pii.previous_keys names a key id that is not 1 to 16 of a-z, 0-9 and -");
            let key = master("a key of pii.previous_keys", key)?;
            match masters.get(id) {
                Some(existing) if *existing != key => {
                    anyhow::bail!("pii.previous_keys gives key {id} a second, different value")
                }
                _ => {
                    masters.insert(id.to_string(), key);
                }
            }
        }
        let index_master = masters.get(index_key_id).with_context(|| {
            format!("pii.index_key_id {index_key_id} is neither pii.key_id nor in pii.previous_keys")
        })?;
        let index_key = derive(index_master, b"doan/pii/blind-index");
        let keys = masters
            .into_iter()
            .map(|(id, m)| {
                let enc = derive(&m, b"doan/pii/encryption");
                (id, XChaCha20Poly1305::new(Key::from_slice(&enc)))
            })
            .collect();
        Ok(Self { active: active_id.to_string(), index_id: index_key_id.to_string(), keys: Arc::new(keys), index_key })
    }

    /// The keyring `pii` describes; fails without `pii.encryption_key`.
    pub fn from_settings(pii: &crate::config::PiiSettings) -> anyhow::Result<Self> {
        use secrecy::ExposeSecret;
        let key = pii
            .encryption_key
            .as_ref()
            .context("pii.encryption_key is required by membership (generate one with `doan keygen`)")?;
        let previous = pii.previous_keys.as_ref().map(|p| p.expose_secret().to_string()).unwrap_or_default();
        Self::keyring(&pii.key_id, key.expose_secret(), &previous, &pii.index_key_id)
    }

    /// A new random master key, base64.
    pub fn generate_key() -> String {
        STANDARD.encode(XChaCha20Poly1305::generate_key(&mut OsRng))
    }

    /// The id of the key that seals new values.
    pub fn active_key_id(&self) -> &str {
        &self.active
    }

    /// The id of the key the blind index is derived from.
    pub fn index_key_id(&self) -> &str {
        &self.index_id
    }

    /// Every key id in the ring, sorted.
    pub fn key_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.keys.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// The prefix every ciphertext sealed by the active key starts with.
    pub fn active_prefix(&self) -> String {
        format!("{VERSION}.{}.", self.active)
    }

    /// The id of the key that sealed `ciphertext` ([`LEGACY_KEY_ID`] for values from before
    /// key ids); `None` when it is not a ciphertext.
    pub fn key_of(ciphertext: &str) -> Option<&str> {
        match ciphertext.strip_prefix("v2.") {
            Some(rest) => rest.split_once('.').map(|(id, _)| id),
            None => (!ciphertext.is_empty()).then_some(LEGACY_KEY_ID),
        }
    }

    /// True when `ciphertext` is sealed by the active key, bound to its place.
    pub fn is_current(&self, ciphertext: &str) -> bool {
        ciphertext.starts_with(&self.active_prefix())
    }

    /// Seals `plaintext` as the value at `at` under the active key; a fresh nonce each time.
    pub fn seal(&self, at: &Field<'_>, plaintext: &str) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = associated(&self.active, at);
        let sealed = self.keys[&self.active]
            .encrypt(&nonce, Payload { msg: plaintext.as_bytes(), aad: &aad })
            .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
        let mut raw = nonce.to_vec();
        raw.extend_from_slice(&sealed);
        format!("{}{}", self.active_prefix(), STANDARD.encode(raw))
    }

    /// The plaintext of the value at `at`; fails on an unknown key, a value moved from
    /// elsewhere, or tampering.
    pub fn open(&self, at: &Field<'_>, ciphertext: &str) -> anyhow::Result<String> {
        let (id, body, aad) = match ciphertext.strip_prefix("v2.") {
            Some(rest) => {
                let (id, body) = rest.split_once('.').context("ciphertext has no key id")?;
                (id, body, associated(id, at))
            }
            None => (LEGACY_KEY_ID, ciphertext, Vec::new()),
        };
        let key = self.keys.get(id).with_context(|| format!("ciphertext is sealed by key {id}, not in the keyring"))?;
        let raw = STANDARD.decode(body).context("ciphertext is not base64")?;
        anyhow::ensure!(raw.len() > NONCE_LEN, "ciphertext is too short");
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        let plain = key
            .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: &aad })
            .map_err(|_| anyhow::anyhow!("ciphertext does not authenticate (wrong key, wrong place, or altered)"))?;
        String::from_utf8(plain).context("plaintext is not UTF-8")
    }

    /// `ciphertext` sealed again under the active key, bound to `at`.
    pub fn reseal(&self, at: &Field<'_>, ciphertext: &str) -> anyhow::Result<String> {
        Ok(self.seal(at, &self.open(at, ciphertext)?))
    }

    /// Deterministic keyed hash (hex) for equality lookups and uniqueness.
    pub fn blind_index(&self, value: &str) -> String {
        hex(&derive(&self.index_key, value.as_bytes()))
    }
}

/// The associated data of a value sealed by key `id` at `at`.
fn associated(id: &str, at: &Field<'_>) -> Vec<u8> {
    [VERSION, id, at.table, at.column, &at.row].join("\u{0}").into_bytes()
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

    const AT: &Field<'static> =
        &Field { table: "members", column: "citizen_id_enc", row: std::borrow::Cow::Borrowed("m-1") };

    #[test]
    fn encrypts_with_fresh_nonces_and_detects_a_wrong_key() {
        let c = FieldCipher::from_base64(&FieldCipher::generate_key()).unwrap();
        let a = c.seal(AT, "079203001234");
        let b = c.seal(AT, "079203001234");
        assert_ne!(a, b, "same plaintext must not give the same ciphertext");
        assert_eq!(c.open(AT, &a).unwrap(), "079203001234");
        assert!(!a.contains("079203001234"));
        assert!(a.starts_with("v2.k1."));
        let other = FieldCipher::from_base64(&FieldCipher::generate_key()).unwrap();
        assert!(other.open(AT, &a).is_err());
        assert_eq!(c.blind_index("079203001234"), c.blind_index("079203001234"));
        assert_ne!(c.blind_index("079203001234"), other.blind_index("079203001234"));
    }

    #[test]
    fn a_value_moved_to_another_row_or_column_or_altered_does_not_open() {
        let c = FieldCipher::from_base64(&FieldCipher::generate_key()).unwrap();
        let sealed = c.seal(AT, "Phật giáo");
        assert!(c.open(&Field::new("members", "citizen_id_enc", "m-2"), &sealed).is_err(), "another row");
        assert!(c.open(&Field::new("members", "religion_enc", "m-1"), &sealed).is_err(), "another column");
        assert!(c.open(&Field::new("applications", "citizen_id_enc", "m-1"), &sealed).is_err(), "another table");
        let relabelled = sealed.replacen("v2.k1.", "v2.k2.", 1);
        assert!(c.open(AT, &relabelled).is_err(), "another key id");
        let mut altered = sealed.into_bytes();
        let last = altered.len() - 3;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        assert!(c.open(AT, &String::from_utf8(altered).unwrap()).is_err(), "a changed byte");
    }

    #[test]
    fn rotation_keeps_old_values_readable_and_the_blind_index_stable() {
        let (k1, k2) = (FieldCipher::generate_key(), FieldCipher::generate_key());
        let before = FieldCipher::from_base64(&k1).unwrap();
        let old = before.seal(AT, "0912345678");
        let after = FieldCipher::keyring("k2", &k2, &format!("k1={k1}"), "k1").unwrap();
        assert_eq!(after.active_key_id(), "k2");
        assert_eq!(after.open(AT, &old).unwrap(), "0912345678");
        assert!(!after.is_current(&old));
        let new = after.reseal(AT, &old).unwrap();
        assert!(after.is_current(&new) && new.starts_with("v2.k2."));
        assert_eq!(FieldCipher::key_of(&new), Some("k2"));
        assert_eq!(after.open(AT, &new).unwrap(), "0912345678");
        assert!(before.open(AT, &new).is_err(), "the old ring does not know k2");
        assert_eq!(after.blind_index("0912345678"), before.blind_index("0912345678"), "index from k1 still");
        // Without k1 the old value is unreadable, and the index cannot be kept.
        let without = FieldCipher::keyring("k2", &k2, "", "k2").unwrap();
        assert!(without.open(AT, &old).unwrap_err().to_string().contains("key k1"));
        assert!(FieldCipher::keyring("k2", &k2, "", "k1").is_err());
    }

    #[test]
    fn values_from_before_key_ids_open_with_the_first_key() {
        let k1 = FieldCipher::generate_key();
        let c = FieldCipher::from_base64(&k1).unwrap();
        // The earlier format: base64(nonce ‖ sealed), no associated data.
        let enc = derive(&STANDARD.decode(&k1).unwrap(), b"doan/pii/encryption");
        let cipher = XChaCha20Poly1305::new(Key::from_slice(&enc));
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let mut raw = nonce.to_vec();
        raw.extend_from_slice(&cipher.encrypt(&nonce, b"Kinh".as_slice()).unwrap());
        let legacy = STANDARD.encode(raw);
        assert_eq!(FieldCipher::key_of(&legacy), Some(LEGACY_KEY_ID));
        assert!(!c.is_current(&legacy));
        assert_eq!(c.open(AT, &legacy).unwrap(), "Kinh");
        assert!(c.is_current(&c.reseal(AT, &legacy).unwrap()));
    }

    #[test]
    fn rejects_bad_keys_and_key_ids() {
        assert!(FieldCipher::from_base64("c2hvcnQ=").is_err());
        let k = FieldCipher::generate_key();
        assert!(FieldCipher::keyring("K1", &k, "", "K1").is_err());
        assert!(FieldCipher::keyring("k2", &k, "k1", "k2").is_err());
        assert!(FieldCipher::keyring("k2", &k, &format!("k2={}", FieldCipher::generate_key()), "k2").is_err());
        assert!(FieldCipher::keyring("a-very-long-key-id-indeed", &k, "", "k1").is_err());
    }
}
