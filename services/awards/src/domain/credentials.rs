//! Verifiable award credentials: Open Badges 3.0 `OpenBadgeCredential`s (W3C VC 2.0) with a Data
//! Integrity proof, cryptosuite `eddsa-rdfc-2022` (Ed25519 over RDFC-1.0 canonical N-Quads), and
//! revocation through a W3C Bitstring Status List. Pure: no I/O, no storage, no proto.
//!
//! # Shape
//! The platform issues one fixed credential shape and [`verify`] accepts nothing else. Every node
//! has an IRI `id` except the recipient's `IdentityObject` (OB 3.0 allows it no `id`) and the
//! proof, so the RDF graph is built here by hand (no JSON-LD processor) with exactly the quads
//! jsonld.js produces for that JSON in safe mode; `rdf-canon` canonicalises them (RDFC-1.0).
//! The independent check is `tests/vc/verify.mjs` (jsonld.js, @digitalbazaar/vc, Ajv against the
//! OB 3.0 JSON schema); the unit tests pin proof values that Node produced for the same shape.
//!
//! - `@context`: VC 2.0 then OB 3.0.3, nothing else (`credentialSchema` is left out: its type
//!   `1EdTechJsonSchemaValidator2019` is defined in no context and breaks JSON-LD safe mode).
//! - `issuer`: a `Profile` whose `id` is the issuing unit's https profile URL; that URL also
//!   serves the controller document ([`controller_document`]) listing the unit's keys.
//! - `credentialSubject`: `id` is the `urn:uuid` of the member or unit; `identifier` holds one
//!   `IdentityObject` of type `name`: a salted SHA-256 hash for a member (the name never appears
//!   in clear), the name in clear for a unit (collective).
//! - `achievement`: `https` id, `achievementType` `Award`, name and description (the caller puts
//!   the award form, decision number and date in them), `criteria` `{id: <achievement>#criteria,
//!   narrative}`.
//! - `credentialStatus`: a `BitstringStatusListEntry` with purpose `revocation`.
//! - `proof`: an array (the OB 3.0 schema requires one) with one `DataIntegrityProof`.
//!
//! Text is stored in Unicode NFC; carriage returns become line feeds, tabs spaces, and other
//! control characters are dropped, so the N-Quads escaping is the same under RDF 1.1 and RDF 1.2
//! canonical N-Quads (only `\\`, `\"` and `\n` then occur).

use std::fmt;
use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Datelike, NaiveDateTime, Timelike, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use oxrdf::{BlankNode, Dataset, GraphName, Literal, NamedNode, Quad, Subject, Term};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

/// Bits in one status list (16 KiB, the Bitstring Status List minimum for herd privacy).
pub const STATUS_LIST_BITS: usize = 131_072;

const VC_V2: &str = "https://www.w3.org/ns/credentials/v2";
const OB_V3: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";
const SECURITY_V2: &str = "https://w3id.org/security/v2";
const MULTIKEY_V1: &str = "https://w3id.org/security/multikey/v1";
const CRYPTOSUITE: &str = "eddsa-rdfc-2022";
const DATE_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";
/// Multicodec `ed25519-pub` (0xed) as an unsigned varint.
const ED25519_PUB: [u8; 2] = [0xed, 0x01];

// IRIs the JSON terms map to (checked against jsonld.js 9 with the contexts of tests/vc).
const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
const XSD_DATE_TIME: &str = "http://www.w3.org/2001/XMLSchema#dateTime";
/// The OB 3.0.3 context types `hashed` with an *https* XSD namespace.
const OB_XSD_BOOLEAN: &str = "https://www.w3.org/2001/XMLSchema#boolean";
const CRED: &str = "https://www.w3.org/2018/credentials#";
const OB: &str = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#";
const SCHEMA: &str = "https://schema.org/";
const STATUS: &str = "https://www.w3.org/ns/credentials/status#";
const SEC: &str = "https://w3id.org/security#";
const DC_CREATED: &str = "http://purl.org/dc/terms/created";

/// The unit issuing credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    /// https URL of the unit's profile; it also serves the controller document, and the key
    /// ids are fragments of it. No fragment of its own.
    pub id: String,
    /// The unit's name, shown by wallets.
    pub name: String,
}

/// Where a credential's revocation bit lives (purpose always `revocation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    /// https URL of the status list credential (no fragment).
    pub list_url: String,
    /// The credential's bit in that list, below [`STATUS_LIST_BITS`].
    pub index: u64,
}

/// How the recipient is named in the credential (OB 3.0 `IdentityObject`, type `name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientName {
    /// An individual member: only `sha256$<hex>` of the NFC name followed by the salt, as
    /// OB 3.0 `identityHash` with `hashed: true`. Names carry little entropy: the hash lets a
    /// holder prove the name, it does not hide it from someone guessing names one by one.
    Hashed {
        /// `sha256$` and 64 lowercase hex digits.
        identity_hash: String,
        /// The salt appended to the name before hashing (8 to 64 of `A-Z a-z 0-9 - _`).
        salt: String,
    },
    /// A collective (unit): its name in clear (`hashed: false`).
    Clear(String),
}

impl RecipientName {
    /// The hashed form of a member's `name` with `salt` (a fresh random string per credential).
    pub fn hashed(name: &str, salt: &str) -> Self {
        Self::Hashed { identity_hash: identity_hash(name, salt), salt: salt.to_owned() }
    }

    /// Whether this names `name` (hashing it with the salt when hashed).
    pub fn matches(&self, name: &str) -> bool {
        match self {
            Self::Hashed { identity_hash: hash, salt } => *hash == identity_hash(name, salt),
            Self::Clear(clear) => *clear == normalise_text(name),
        }
    }
}

/// One award to one recipient, as the credential states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Award {
    /// `urn:uuid:` and a lowercase UUID.
    pub credential_id: String,
    /// The issuing unit.
    pub issuer: Issuer,
    /// From when the award holds (stored to the second).
    pub valid_from: DateTime<Utc>,
    /// `urn:uuid:` of the member or unit awarded.
    pub subject_id: String,
    /// The recipient's name: hashed for a member, in clear for a unit.
    pub subject_name: RecipientName,
    /// https URL of the achievement (no fragment; the criteria are `<id>#criteria`).
    pub achievement_id: String,
    /// Achievement name, also the credential's name (e.g. "Bằng khen của Ban Thường vụ …").
    pub achievement_name: String,
    /// Achievement description: the form and the decision as text (e.g. "Bằng khen — Quyết
    /// định 12-QĐ/TĐTN ngày 2026-11-20").
    pub achievement_description: String,
    /// Why it was awarded (the criteria narrative).
    pub criteria: String,
    /// Revocation bit.
    pub status: StatusEntry,
}

/// A credential that [`verify`] accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// What it states.
    pub award: Award,
    /// The issuer's key that signed it (fragment of the issuer id).
    pub key_id: String,
    /// When the proof was made.
    pub created: DateTime<Utc>,
}

/// Why a credential could not be issued or verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialError {
    /// The input cannot be issued (the detail names the field and the rule).
    Invalid(String),
    /// Not a credential (or status list) issued by this platform: a field is missing, unknown
    /// or not in the platform's exact form (the detail says which).
    Foreign(String),
    /// The verifier knows no key for this verification method.
    UnknownKey(String),
    /// The proof's signature does not match the content.
    BadSignature,
}

impl fmt::Display for CredentialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid(detail) => write!(f, "invalid credential input: {detail}"),
            Self::Foreign(detail) => write!(f, "not a credential issued by this platform: {detail}"),
            Self::UnknownKey(method) => write!(f, "unknown verification method {method}"),
            Self::BadSignature => f.write_str("the credential's signature does not verify"),
        }
    }
}

impl std::error::Error for CredentialError {}

type Result<T> = std::result::Result<T, CredentialError>;

fn invalid(detail: impl Into<String>) -> CredentialError {
    CredentialError::Invalid(detail.into())
}

fn foreign(detail: impl Into<String>) -> CredentialError {
    CredentialError::Foreign(detail.into())
}

/// A rule broken by a credential read back: not one the platform issued.
fn as_foreign(error: CredentialError) -> CredentialError {
    match error {
        CredentialError::Invalid(detail) => CredentialError::Foreign(detail),
        other => other,
    }
}

/// The verification method id of an issuer's key: `{issuer_id}#{key_id}`.
pub fn verification_method(issuer_id: &str, key_id: &str) -> String {
    format!("{issuer_id}#{key_id}")
}

/// An Ed25519 public key as a Multikey `publicKeyMultibase`: `z` + base58btc(0xed 0x01 + key),
/// so always `z6Mk…`.
pub fn multikey(key: &VerifyingKey) -> String {
    let mut bytes = ED25519_PUB.to_vec();
    bytes.extend_from_slice(key.as_bytes());
    format!("z{}", bs58::encode(bytes).into_string())
}

/// The inverse of [`multikey`].
pub fn parse_multikey(value: &str) -> Result<VerifyingKey> {
    let bad = || foreign(format!("{value:?} is not an Ed25519 Multikey"));
    let bytes = bs58::decode(value.strip_prefix('z').ok_or_else(bad)?).into_vec().map_err(|_| bad())?;
    let key: [u8; 32] = bytes.strip_prefix(&ED25519_PUB).and_then(|k| k.try_into().ok()).ok_or_else(bad)?;
    VerifyingKey::from_bytes(&key).map_err(|_| bad())
}

/// The controller document served at `issuer.id`: every key (old ones stay, so the credentials
/// they signed still verify) as a `Multikey` verification method listed in `assertionMethod`.
/// Its contexts (security v2 then Multikey v1) are those jsonld-signatures frames an https
/// controller with in safe mode.
pub fn controller_document(issuer: &Issuer, keys: &[(String, VerifyingKey)]) -> Value {
    let methods: Vec<Value> = keys
        .iter()
        .map(|(key_id, key)| {
            json!({
                "id": verification_method(&issuer.id, key_id),
                "type": "Multikey",
                "controller": issuer.id,
                "publicKeyMultibase": multikey(key),
            })
        })
        .collect();
    let assertion: Vec<String> = keys.iter().map(|(key_id, _)| verification_method(&issuer.id, key_id)).collect();
    json!({
        "@context": [SECURITY_V2, MULTIKEY_V1],
        "id": issuer.id,
        "verificationMethod": methods,
        "assertionMethod": assertion,
    })
}

/// The key a controller document (as [`controller_document`] writes it) gives for
/// `verification_method`, if it lists it in `assertionMethod`.
pub fn key_in_controller_document(document: &Value, verification_method: &str) -> Option<VerifyingKey> {
    let controller = document.get("id")?.as_str()?;
    let asserted = document.get("assertionMethod")?.as_array()?;
    if !asserted.iter().any(|m| m.as_str() == Some(verification_method)) {
        return None;
    }
    let method = document.get("verificationMethod")?.as_array()?.iter().find(|m| {
        m.get("id").and_then(Value::as_str) == Some(verification_method)
            && m.get("type").and_then(Value::as_str) == Some("Multikey")
            && m.get("controller").and_then(Value::as_str) == Some(controller)
    })?;
    parse_multikey(method.get("publicKeyMultibase")?.as_str()?).ok()
}

/// Signs `award` with the issuer's key `key_id`: the credential JSON, its `proof` an array of
/// one `DataIntegrityProof` (`eddsa-rdfc-2022`, `assertionMethod`, created to the second).
/// Text is normalised (see the module documentation) and `valid_from` truncated to the second.
pub fn issue(award: &Award, key_id: &str, key: &SigningKey, created: DateTime<Utc>) -> Result<Value> {
    let award = normalise(award)?;
    sign(award_document(&award), &award_quads(&award), &award.issuer.id, key_id, key, created)
}

/// Verifies a credential of this platform's exact shape (anything else is
/// [`CredentialError::Foreign`]): rebuilds its N-Quads and checks the proof with the key `key`
/// gives for the verification method, which must be a fragment of the issuer id. Dates and
/// revocation are the caller's to judge (`valid_from`; [`verify_status_list`] and [`bit`]).
pub fn verify(credential: &Value, key: impl Fn(&str) -> Option<VerifyingKey>) -> Result<Verified> {
    let (unsigned, proof) = split_proof(credential)?;
    let award = parse_award(&unsigned)?;
    let rebuilt = award_document(&award);
    if rebuilt != Value::Object(unsigned) {
        return Err(foreign("fields or values differ from the platform's credential shape"));
    }
    let key_id = proof.check(&award.issuer.id, &award_quads(&award), key)?;
    Ok(Verified { award, key_id, created: proof.created })
}

/// A status list as `encodedList`: `u` + base64url without padding of the gzip of the bytes
/// (bit 0 is the most significant bit of byte 0).
pub fn encode_list(bits: &[u8]) -> String {
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(bits).expect("writing to a Vec does not fail");
    let compressed = gzip.finish().expect("writing to a Vec does not fail");
    format!("u{}", URL_SAFE_NO_PAD.encode(compressed))
}

/// The inverse of [`encode_list`]; the list must hold exactly [`STATUS_LIST_BITS`] bits.
pub fn decode_list(encoded: &str) -> Result<Vec<u8>> {
    let bad = |why: &str| foreign(format!("encodedList {why}"));
    let compressed = URL_SAFE_NO_PAD
        .decode(encoded.strip_prefix('u').ok_or_else(|| bad("must start with u"))?)
        .map_err(|_| bad("is not base64url without padding"))?;
    let mut bits = Vec::new();
    flate2::read::GzDecoder::new(compressed.as_slice())
        .take(STATUS_LIST_BITS as u64 / 8 + 1)
        .read_to_end(&mut bits)
        .map_err(|_| bad("is not gzip"))?;
    if bits.len() != STATUS_LIST_BITS / 8 {
        return Err(bad("does not hold exactly 131072 bits"));
    }
    Ok(bits)
}

/// Bit `index` of a status list (most significant bit first). An index past the end reads as
/// set: a revocation check fails closed.
pub fn bit(bytes: &[u8], index: u64) -> bool {
    let Ok(position) = usize::try_from(index / 8) else { return true };
    bytes.get(position).is_none_or(|byte| byte & (0x80 >> (index % 8)) != 0)
}

/// Sets (`on`) or clears bit `index` of a status list.
pub fn set_bit(bytes: &mut [u8], index: u64, on: bool) -> Result<()> {
    let byte = usize::try_from(index / 8)
        .ok()
        .and_then(|position| bytes.get_mut(position))
        .ok_or_else(|| invalid(format!("status index {index} is past the end of the list")))?;
    let mask = 0x80 >> (index % 8);
    if on {
        *byte |= mask;
    } else {
        *byte &= !mask;
    }
    Ok(())
}

/// The signed `BitstringStatusListCredential` published at `list_url`: same issuer as the
/// credentials pointing to it, subject `{list_url}#list`, purpose `revocation`, `encoded` as
/// [`encode_list`] makes it.
pub fn status_list_credential(
    issuer: &Issuer,
    list_url: &str,
    encoded: &str,
    valid_from: DateTime<Utc>,
    key_id: &str,
    key: &SigningKey,
    created: DateTime<Utc>,
) -> Result<Value> {
    let issuer = normalise_issuer(issuer)?;
    check_https("list_url", list_url)?;
    decode_list(encoded).map_err(|e| match e {
        CredentialError::Foreign(detail) => invalid(detail),
        other => other,
    })?;
    let valid_from = to_second("valid_from", valid_from)?;
    let list = StatusList { issuer, list_url: list_url.to_owned(), encoded: encoded.to_owned(), valid_from };
    sign(list.document(), &list.quads(), &list.issuer.id, key_id, key, created)
}

/// Verifies a status list credential of this platform's shape published at `list_url` by the
/// issuer `issuer_id` (the issuer of the credential whose status is checked) and returns its
/// bits.
pub fn verify_status_list(
    credential: &Value,
    issuer_id: &str,
    list_url: &str,
    key: impl Fn(&str) -> Option<VerifyingKey>,
) -> Result<Vec<u8>> {
    let (unsigned, proof) = split_proof(credential)?;
    let list = StatusList::parse(&unsigned)?;
    if list.list_url != list_url {
        return Err(foreign(format!("the status list at {list_url} names itself {}", list.list_url)));
    }
    if list.issuer.id != issuer_id {
        return Err(foreign(format!("the status list is issued by {}, not {issuer_id}", list.issuer.id)));
    }
    if list.document() != Value::Object(unsigned) {
        return Err(foreign("fields or values differ from the platform's status list shape"));
    }
    proof.check(&list.issuer.id, &list.quads(), key)?;
    decode_list(&list.encoded)
}

// ---------------------------------------------------------------------------------------------
// Normalisation and checks

/// NFC; CR LF and CR become LF, tabs spaces, other control characters are dropped.
fn normalise_text(text: &str) -> String {
    let cleaned: String = text
        .replace("\r\n", "\n")
        .chars()
        .filter_map(|c| match c {
            '\n' | '\r' => Some('\n'),
            '\t' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect();
    cleaned.nfc().collect()
}

fn identity_hash(name: &str, salt: &str) -> String {
    let name: String = name.nfc().collect();
    let digest = Sha256::digest(format!("{name}{salt}").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256${hex}")
}

/// An absolute https URL of plain ASCII IRI characters (what jsonld.js and RDFC-1.0 leave as
/// is), without a fragment.
fn check_https(field: &str, url: &str) -> Result<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~:/?[]@!$&'()*+,;=%".contains(c);
    let host = url.strip_prefix("https://").unwrap_or_default();
    if host.is_empty() || host.starts_with('/') || !url.chars().all(allowed) || NamedNode::new(url).is_err() {
        return Err(invalid(format!("{field} must be an https URL without a fragment, not {url:?}")));
    }
    Ok(())
}

fn check_urn_uuid(field: &str, value: &str) -> Result<()> {
    let uuid = value.strip_prefix("urn:uuid:").unwrap_or_default();
    let canonical = uuid.len() == 36
        && uuid.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) { c == '-' } else { c.is_ascii_digit() || ('a'..='f').contains(&c) }
        });
    if !canonical {
        return Err(invalid(format!("{field} must be urn:uuid: and a lowercase UUID, not {value:?}")));
    }
    Ok(())
}

fn check_key_id(key_id: &str) -> Result<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._".contains(c);
    if key_id.is_empty() || key_id.len() > 64 || !key_id.chars().all(allowed) {
        return Err(invalid(format!("key id must be 1 to 64 of A-Z a-z 0-9 - . _, not {key_id:?}")));
    }
    Ok(())
}

fn to_second(field: &str, time: DateTime<Utc>) -> Result<DateTime<Utc>> {
    if !(1..=9999).contains(&time.year()) {
        return Err(invalid(format!("{field} must fall in the years 1 to 9999")));
    }
    Ok(time.with_nanosecond(0).unwrap_or(time))
}

fn normalise_issuer(issuer: &Issuer) -> Result<Issuer> {
    check_https("issuer id", &issuer.id)?;
    Ok(Issuer { id: issuer.id.clone(), name: normalise_text(&issuer.name) })
}

fn normalise(award: &Award) -> Result<Award> {
    check_urn_uuid("credential_id", &award.credential_id)?;
    check_urn_uuid("subject_id", &award.subject_id)?;
    check_https("achievement_id", &award.achievement_id)?;
    check_https("status list_url", &award.status.list_url)?;
    let issuer = normalise_issuer(&award.issuer)?;
    let ids = [&award.credential_id, &award.subject_id, &issuer.id, &award.achievement_id, &award.status.list_url];
    if ids.iter().enumerate().any(|(i, id)| ids[..i].contains(id)) {
        return Err(invalid("credential, subject, issuer, achievement and status list ids must differ"));
    }
    if award.status.index >= STATUS_LIST_BITS as u64 {
        return Err(invalid(format!("status index must be below {STATUS_LIST_BITS}")));
    }
    let subject_name = match &award.subject_name {
        RecipientName::Hashed { identity_hash, salt } => {
            let hex = identity_hash.strip_prefix("sha256$").unwrap_or_default();
            if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)) {
                return Err(invalid("identity hash must be sha256$ and 64 lowercase hex digits"));
            }
            let salt_ok = (8..=64).contains(&salt.len())
                && salt.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !salt_ok {
                return Err(invalid("salt must be 8 to 64 of A-Z a-z 0-9 - _"));
            }
            award.subject_name.clone()
        }
        RecipientName::Clear(name) => RecipientName::Clear(normalise_text(name)),
    };
    Ok(Award {
        credential_id: award.credential_id.clone(),
        issuer,
        valid_from: to_second("valid_from", award.valid_from)?,
        subject_id: award.subject_id.clone(),
        subject_name,
        achievement_id: award.achievement_id.clone(),
        achievement_name: normalise_text(&award.achievement_name),
        achievement_description: normalise_text(&award.achievement_description),
        criteria: normalise_text(&award.criteria),
        status: award.status.clone(),
    })
}

fn date(time: DateTime<Utc>) -> String {
    time.format(DATE_FORMAT).to_string()
}

fn parse_date(field: &str, value: &str) -> Result<DateTime<Utc>> {
    let time = NaiveDateTime::parse_from_str(value, DATE_FORMAT)
        .map_err(|_| foreign(format!("{field} is not YYYY-MM-DDTHH:MM:SSZ")))?
        .and_utc();
    if date(time) != value {
        return Err(foreign(format!("{field} is not YYYY-MM-DDTHH:MM:SSZ")));
    }
    Ok(time)
}

// ---------------------------------------------------------------------------------------------
// JSON

fn criteria_id(award: &Award) -> String {
    format!("{}#criteria", award.achievement_id)
}

fn status_id(status: &StatusEntry) -> String {
    format!("{}#{}", status.list_url, status.index)
}

fn award_document(award: &Award) -> Value {
    let identifier = match &award.subject_name {
        RecipientName::Hashed { identity_hash, salt } => json!({
            "type": "IdentityObject",
            "identityHash": identity_hash,
            "identityType": "name",
            "hashed": true,
            "salt": salt,
        }),
        RecipientName::Clear(name) => json!({
            "type": "IdentityObject",
            "identityHash": name,
            "identityType": "name",
            "hashed": false,
        }),
    };
    json!({
        "@context": [VC_V2, OB_V3],
        "id": award.credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": award.achievement_name,
        "issuer": { "id": award.issuer.id, "type": ["Profile"], "name": award.issuer.name },
        "validFrom": date(award.valid_from),
        "credentialSubject": {
            "id": award.subject_id,
            "type": ["AchievementSubject"],
            "identifier": [identifier],
            "achievement": {
                "id": award.achievement_id,
                "type": ["Achievement"],
                "achievementType": "Award",
                "name": award.achievement_name,
                "description": award.achievement_description,
                "criteria": { "id": criteria_id(award), "narrative": award.criteria },
            },
        },
        "credentialStatus": {
            "id": status_id(&award.status),
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": award.status.index.to_string(),
            "statusListCredential": award.status.list_url,
        },
    })
}

/// Reads a string at a path of object keys (and array positions as numbers).
fn text_at(value: &Value, path: &[&str]) -> Result<String> {
    path.iter()
        .try_fold(value, |v, key| match key.parse::<usize>() {
            Ok(i) => v.get(i),
            Err(_) => v.get(key),
        })
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| foreign(format!("{} is missing or not a string", path.join("."))))
}

/// Reads the fields of a credential; the caller compares its rebuilt JSON with the input, so
/// anything this does not read must still match exactly.
fn parse_award(doc: &Map<String, Value>) -> Result<Award> {
    let doc = Value::Object(doc.clone());
    let subject = |path: &[&str]| text_at(&doc, &[&["credentialSubject"], path].concat());
    let identity = ["identifier", "0"];
    let hashed = doc
        .pointer("/credentialSubject/identifier/0/hashed")
        .and_then(Value::as_bool)
        .ok_or_else(|| foreign("credentialSubject.identifier.0.hashed is missing or not a boolean"))?;
    let identity_hash = subject(&[&identity[..], &["identityHash"]].concat())?;
    let subject_name = if hashed {
        RecipientName::Hashed { identity_hash, salt: subject(&[&identity[..], &["salt"]].concat())? }
    } else {
        RecipientName::Clear(identity_hash)
    };
    let index = text_at(&doc, &["credentialStatus", "statusListIndex"])?;
    let award = Award {
        credential_id: text_at(&doc, &["id"])?,
        issuer: Issuer { id: text_at(&doc, &["issuer", "id"])?, name: text_at(&doc, &["issuer", "name"])? },
        valid_from: parse_date("validFrom", &text_at(&doc, &["validFrom"])?)?,
        subject_id: subject(&["id"])?,
        subject_name,
        achievement_id: subject(&["achievement", "id"])?,
        achievement_name: subject(&["achievement", "name"])?,
        achievement_description: subject(&["achievement", "description"])?,
        criteria: subject(&["achievement", "criteria", "narrative"])?,
        status: StatusEntry {
            list_url: text_at(&doc, &["credentialStatus", "statusListCredential"])?,
            index: index.parse().map_err(|_| foreign("credentialStatus.statusListIndex is not a number"))?,
        },
    };
    normalise(&award).map_err(as_foreign)
}

struct StatusList {
    issuer: Issuer,
    list_url: String,
    encoded: String,
    valid_from: DateTime<Utc>,
}

impl StatusList {
    fn subject_id(&self) -> String {
        format!("{}#list", self.list_url)
    }

    fn document(&self) -> Value {
        json!({
            "@context": [VC_V2],
            "id": self.list_url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": { "id": self.issuer.id, "name": self.issuer.name },
            "validFrom": date(self.valid_from),
            "credentialSubject": {
                "id": self.subject_id(),
                "type": "BitstringStatusList",
                "statusPurpose": "revocation",
                "encodedList": self.encoded,
            },
        })
    }

    fn parse(doc: &Map<String, Value>) -> Result<Self> {
        let doc = Value::Object(doc.clone());
        let list = Self {
            issuer: normalise_issuer(&Issuer {
                id: text_at(&doc, &["issuer", "id"])?,
                name: text_at(&doc, &["issuer", "name"])?,
            })
            .map_err(as_foreign)?,
            list_url: text_at(&doc, &["id"])?,
            encoded: text_at(&doc, &["credentialSubject", "encodedList"])?,
            valid_from: parse_date("validFrom", &text_at(&doc, &["validFrom"])?)?,
        };
        check_https("id", &list.list_url).map_err(as_foreign)?;
        Ok(list)
    }

    fn quads(&self) -> Dataset {
        let mut q = Quads::default();
        let list = iri(&self.list_url);
        let subject = iri(&self.subject_id());
        let issuer = iri(&self.issuer.id);
        q.add(&list, RDF_TYPE, iri(&format!("{CRED}VerifiableCredential")));
        q.add(&list, RDF_TYPE, iri(&format!("{STATUS}BitstringStatusListCredential")));
        q.add(&list, &format!("{CRED}issuer"), issuer.clone());
        q.add(&issuer, &format!("{SCHEMA}name"), Literal::new_simple_literal(&self.issuer.name));
        q.add(
            &list,
            &format!("{CRED}validFrom"),
            Literal::new_typed_literal(date(self.valid_from), iri(XSD_DATE_TIME)),
        );
        q.add(&list, &format!("{CRED}credentialSubject"), subject.clone());
        q.add(&subject, RDF_TYPE, iri(&format!("{STATUS}BitstringStatusList")));
        q.add(&subject, &format!("{STATUS}statusPurpose"), Literal::new_simple_literal("revocation"));
        q.add(
            &subject,
            &format!("{STATUS}encodedList"),
            Literal::new_typed_literal(&self.encoded, iri(&format!("{SEC}multibase"))),
        );
        q.0
    }
}

// ---------------------------------------------------------------------------------------------
// RDF and the proof

#[derive(Default)]
struct Quads(Dataset);

impl Quads {
    fn add<S: Clone + Into<Subject>>(&mut self, subject: &S, predicate: &str, object: impl Into<Term>) {
        self.0.insert(&Quad::new(subject.clone(), iri(predicate), object, GraphName::DefaultGraph));
    }
}

/// A named node from an IRI checked before (constants, or ids that passed `check_https`,
/// `check_urn_uuid` or `check_key_id`).
fn iri(value: &str) -> NamedNode {
    NamedNode::new_unchecked(value)
}

/// The quads jsonld.js produces for [`award_document`] (safe mode, RDF 1.1 direction).
fn award_quads(award: &Award) -> Dataset {
    let mut q = Quads::default();
    let credential = iri(&award.credential_id);
    let issuer = iri(&award.issuer.id);
    let subject = iri(&award.subject_id);
    let achievement = iri(&award.achievement_id);
    let criteria = iri(&criteria_id(award));
    let status = iri(&status_id(&award.status));
    let identity = BlankNode::default();
    let ob = |term: &str| format!("{OB}{term}");
    let text = |value: &str| Literal::new_simple_literal(value);

    q.add(&credential, RDF_TYPE, iri(&format!("{CRED}VerifiableCredential")));
    q.add(&credential, RDF_TYPE, iri(&ob("OpenBadgeCredential")));
    q.add(&credential, &format!("{SCHEMA}name"), text(&award.achievement_name));
    q.add(&credential, &format!("{CRED}issuer"), issuer.clone());
    q.add(&issuer, RDF_TYPE, iri(&ob("Profile")));
    q.add(&issuer, &format!("{SCHEMA}name"), text(&award.issuer.name));
    let valid_from = Literal::new_typed_literal(date(award.valid_from), iri(XSD_DATE_TIME));
    q.add(&credential, &format!("{CRED}validFrom"), valid_from);

    q.add(&credential, &format!("{CRED}credentialSubject"), subject.clone());
    q.add(&subject, RDF_TYPE, iri(&ob("AchievementSubject")));
    q.add(&subject, &ob("identifier"), identity.clone());
    q.add(&identity, RDF_TYPE, iri(&ob("IdentityObject")));
    q.add(&identity, &ob("identityType"), text("name"));
    let (hash, hashed, salt) = match &award.subject_name {
        RecipientName::Hashed { identity_hash, salt } => (identity_hash, "true", Some(salt)),
        RecipientName::Clear(name) => (name, "false", None),
    };
    q.add(&identity, &ob("identityHash"), text(hash));
    q.add(&identity, &ob("hashed"), Literal::new_typed_literal(hashed, iri(OB_XSD_BOOLEAN)));
    if let Some(salt) = salt {
        q.add(&identity, &ob("salt"), text(salt));
    }

    q.add(&subject, &ob("achievement"), achievement.clone());
    q.add(&achievement, RDF_TYPE, iri(&ob("Achievement")));
    q.add(&achievement, &ob("achievementType"), text("Award"));
    q.add(&achievement, &format!("{SCHEMA}name"), text(&award.achievement_name));
    q.add(&achievement, &format!("{SCHEMA}description"), text(&award.achievement_description));
    // The OB 3.0.3 context maps the property `criteria` to the class-like IRI `…#Criteria`.
    q.add(&achievement, &ob("Criteria"), criteria.clone());
    q.add(&criteria, &ob("narrative"), text(&award.criteria));

    q.add(&credential, &format!("{CRED}credentialStatus"), status.clone());
    q.add(&status, RDF_TYPE, iri(&format!("{STATUS}BitstringStatusListEntry")));
    q.add(&status, &format!("{STATUS}statusPurpose"), text("revocation"));
    q.add(&status, &format!("{STATUS}statusListIndex"), text(&award.status.index.to_string()));
    q.add(&status, &format!("{STATUS}statusListCredential"), iri(&award.status.list_url));
    q.0
}

/// The proof options without `proofValue`, under the document's contexts, as quads.
fn proof_config_quads(created: DateTime<Utc>, method: &str) -> Dataset {
    let mut q = Quads::default();
    let proof = BlankNode::default();
    q.add(&proof, RDF_TYPE, iri(&format!("{SEC}DataIntegrityProof")));
    q.add(&proof, DC_CREATED, Literal::new_typed_literal(date(created), iri(XSD_DATE_TIME)));
    q.add(
        &proof,
        &format!("{SEC}cryptosuite"),
        Literal::new_typed_literal(CRYPTOSUITE, iri(&format!("{SEC}cryptosuiteString"))),
    );
    q.add(&proof, &format!("{SEC}proofPurpose"), iri(&format!("{SEC}assertionMethod")));
    q.add(&proof, &format!("{SEC}verificationMethod"), iri(method));
    q.0
}

/// eddsa-rdfc-2022 hash data: SHA-256 of the canonical proof options, then of the document.
fn signed_data(document: &Dataset, created: DateTime<Utc>, method: &str) -> Result<Vec<u8>> {
    let canonical = |dataset: &Dataset| {
        rdf_canon::canonicalize(dataset).map_err(|e| invalid(format!("RDF canonicalisation failed: {e}")))
    };
    let mut data = Sha256::digest(canonical(&proof_config_quads(created, method))?.as_bytes()).to_vec();
    data.extend_from_slice(&Sha256::digest(canonical(document)?.as_bytes()));
    Ok(data)
}

fn sign(
    unsigned: Value,
    quads: &Dataset,
    issuer_id: &str,
    key_id: &str,
    key: &SigningKey,
    created: DateTime<Utc>,
) -> Result<Value> {
    check_key_id(key_id)?;
    let created = to_second("created", created)?;
    let method = verification_method(issuer_id, key_id);
    let signature = key.sign(&signed_data(quads, created, &method)?);
    let Value::Object(mut credential) = unsigned else { unreachable!("documents are objects") };
    credential.insert(
        "proof".into(),
        json!([{
            "type": "DataIntegrityProof",
            "created": date(created),
            "verificationMethod": method,
            "cryptosuite": CRYPTOSUITE,
            "proofPurpose": "assertionMethod",
            "proofValue": format!("z{}", bs58::encode(signature.to_bytes()).into_string()),
        }]),
    );
    Ok(Value::Object(credential))
}

struct Proof {
    method: String,
    created: DateTime<Utc>,
    signature: Signature,
}

/// Separates the one proof of the exact platform form from the rest of the credential.
fn split_proof(credential: &Value) -> Result<(Map<String, Value>, Proof)> {
    let mut unsigned = credential.as_object().cloned().ok_or_else(|| foreign("not a JSON object"))?;
    let proofs = unsigned.remove("proof").ok_or_else(|| foreign("no proof"))?;
    let [proof] = proofs.as_array().map(Vec::as_slice).unwrap_or_default() else {
        return Err(foreign("proof must be an array of one proof"));
    };
    let method = text_at(proof, &["verificationMethod"])?;
    let created = parse_date("proof.created", &text_at(proof, &["created"])?)?;
    let value = text_at(proof, &["proofValue"])?;
    let signature = value
        .strip_prefix('z')
        .and_then(|b58| bs58::decode(b58).into_vec().ok())
        .and_then(|bytes| Signature::from_slice(&bytes).ok())
        .ok_or_else(|| foreign("proofValue is not a base58btc Ed25519 signature"))?;
    let expected = json!({
        "type": "DataIntegrityProof",
        "created": date(created),
        "verificationMethod": method,
        "cryptosuite": CRYPTOSUITE,
        "proofPurpose": "assertionMethod",
        "proofValue": format!("z{}", bs58::encode(signature.to_bytes()).into_string()),
    });
    if *proof != expected {
        return Err(foreign("the proof is not an eddsa-rdfc-2022 assertionMethod DataIntegrityProof"));
    }
    Ok((unsigned, Proof { method, created, signature }))
}

impl Proof {
    /// Checks the signature over `quads`; returns the key id.
    fn check(&self, issuer_id: &str, quads: &Dataset, key: impl Fn(&str) -> Option<VerifyingKey>) -> Result<String> {
        let key_id = self
            .method
            .strip_prefix(issuer_id)
            .and_then(|rest| rest.strip_prefix('#'))
            .filter(|key_id| check_key_id(key_id).is_ok())
            .ok_or_else(|| foreign(format!("verification method {} is not a key of the issuer", self.method)))?;
        let public = key(&self.method).ok_or_else(|| CredentialError::UnknownKey(self.method.clone()))?;
        let data = signed_data(quads, self.created, &self.method)?;
        public.verify_strict(&data, &self.signature).map_err(|_| CredentialError::BadSignature)?;
        Ok(key_id.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://doan.example.vn/issuers/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    const ACHIEVEMENT: &str = "https://doan.example.vn/achievements/0190a1b2-0000-7000-8000-000000000012";
    const LIST: &str = "https://doan.example.vn/credentials/status/1";

    /// The key the Node prototype derives from the seed 0x07 × 32.
    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7; 32])
    }

    fn at(value: &str) -> DateTime<Utc> {
        value.parse().unwrap()
    }

    fn issuer() -> Issuer {
        Issuer { id: ISSUER.into(), name: "Ban Thường vụ Thành Đoàn Thành phố Hồ Chí Minh".into() }
    }

    fn member_award() -> Award {
        Award {
            credential_id: "urn:uuid:0190a1b2-1111-7000-8000-000000000001".into(),
            issuer: issuer(),
            valid_from: at("2026-11-20T02:00:00Z"),
            subject_id: "urn:uuid:0190a1b2-2222-7000-8000-000000000002".into(),
            subject_name: RecipientName::hashed("Nguyễn Thị Minh Khai", "q3v9V0kP2mX7tL1a"),
            achievement_id: ACHIEVEMENT.into(),
            achievement_name: "Bằng khen của Ban Thường vụ Thành Đoàn".into(),
            achievement_description: "Bằng khen — Quyết định 12-QĐ/TĐTN ngày 2026-11-20".into(),
            criteria:
                "Có thành tích xuất sắc trong công tác Đoàn năm 2026.\nDanh hiệu \"Thanh niên tiên tiến\" \\ kết thúc."
                    .into(),
            status: StatusEntry { list_url: LIST.into(), index: 94567 },
        }
    }

    fn unit_award() -> Award {
        Award {
            credential_id: "urn:uuid:0190a1b2-1111-7000-8000-000000000003".into(),
            subject_id: "urn:uuid:0190a1b2-2222-7000-8000-000000000004".into(),
            subject_name: RecipientName::Clear("Đoàn Phường Bến Nghé, Quận 1".into()),
            status: StatusEntry { list_url: LIST.into(), index: 3 },
            ..member_award()
        }
    }

    fn created() -> DateTime<Utc> {
        at("2026-11-20T03:04:05Z")
    }

    fn own_key(method: &str) -> Option<VerifyingKey> {
        (method == verification_method(ISSUER, "key-1")).then(|| key().verifying_key())
    }

    /// The member credential as Node (jsonld.js 9, @digitalbazaar/vc 7.3, eddsa-rdfc-2022
    /// cryptosuite 1.3) issues it with the same key, dates and values.
    const NODE_MEMBER: &str = r#"{
      "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
      "id": "urn:uuid:0190a1b2-1111-7000-8000-000000000001",
      "type": ["VerifiableCredential", "OpenBadgeCredential"],
      "name": "Bằng khen của Ban Thường vụ Thành Đoàn",
      "issuer": {
        "id": "https://doan.example.vn/issuers/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        "type": ["Profile"],
        "name": "Ban Thường vụ Thành Đoàn Thành phố Hồ Chí Minh"
      },
      "validFrom": "2026-11-20T02:00:00Z",
      "credentialSubject": {
        "id": "urn:uuid:0190a1b2-2222-7000-8000-000000000002",
        "type": ["AchievementSubject"],
        "identifier": [{
          "type": "IdentityObject",
          "identityHash": "sha256$d280c7ff84c3211de93cdbb08154d356828230f0bf6bcd3d1e729ab288798076",
          "identityType": "name",
          "hashed": true,
          "salt": "q3v9V0kP2mX7tL1a"
        }],
        "achievement": {
          "id": "https://doan.example.vn/achievements/0190a1b2-0000-7000-8000-000000000012",
          "type": ["Achievement"],
          "achievementType": "Award",
          "name": "Bằng khen của Ban Thường vụ Thành Đoàn",
          "description": "Bằng khen — Quyết định 12-QĐ/TĐTN ngày 2026-11-20",
          "criteria": {
            "id": "https://doan.example.vn/achievements/0190a1b2-0000-7000-8000-000000000012#criteria",
            "narrative": "Có thành tích xuất sắc trong công tác Đoàn năm 2026.\nDanh hiệu \"Thanh niên tiên tiến\" \\ kết thúc."
          }
        }
      },
      "credentialStatus": {
        "id": "https://doan.example.vn/credentials/status/1#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": "https://doan.example.vn/credentials/status/1"
      },
      "proof": [{
        "type": "DataIntegrityProof",
        "created": "2026-11-20T03:04:05Z",
        "verificationMethod": "https://doan.example.vn/issuers/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b#key-1",
        "cryptosuite": "eddsa-rdfc-2022",
        "proofPurpose": "assertionMethod",
        "proofValue": "z4Ea7CdfUjzt1dfiEGc6svW1HDzZLLB9dVYXF3u9KwxtSt4dNDZFUFkUyqFGXY9CKhCNHXxy7PECo71qXeSPcM1Kg"
      }]
    }"#;
    /// Node's proof value for the unit credential (name in clear, index 3).
    const NODE_UNIT_PROOF: &str =
        "z2GLRHTB4t9jS6KSCPY64LNbDPZZ3sn4Z31JkH57HoJSy2JUvnkarwTPmcM3CBqqGu1fkPDbGRg6qSE8k4jpvzU8H";
    /// Node's empty list (pako gzip) and its status list credential's proof value.
    const NODE_EMPTY_LIST: &str = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA";
    const NODE_LIST_PROOF: &str =
        "z4TqF1ARjfhXPcuV1uLNdgvXDf4RvXizDgfjB5DTV9xiHvzJRANaA7a2ChwYng1FpVzKSW8fw2qeA8nsePEUHvYQE";

    fn proof_value(credential: &Value) -> &str {
        credential["proof"][0]["proofValue"].as_str().unwrap()
    }

    #[test]
    fn keys_are_multikeys() {
        let public = key().verifying_key();
        assert_eq!(multikey(&public), "z6MkvDqGT54cXesYGvABpF1UapVNwjCqRcafi4Px6Thv5T3Z");
        assert_eq!(parse_multikey(&multikey(&public)).unwrap(), public);
        assert!(parse_multikey("z6MkvDqGT54cXesYGvABpF1UapVNwjCqRcafi4Px6Thv5T3").is_err());
        assert!(parse_multikey("6MkvDqGT54cXesYGvABpF1UapVNwjCqRcafi4Px6Thv5T3Z").is_err());

        let old = SigningKey::from_bytes(&[1; 32]).verifying_key();
        let document = controller_document(&issuer(), &[("key-0".into(), old), ("key-1".into(), public)]);
        assert_eq!(
            document["@context"],
            json!(["https://w3id.org/security/v2", "https://w3id.org/security/multikey/v1"])
        );
        assert_eq!(document["assertionMethod"], json!([format!("{ISSUER}#key-0"), format!("{ISSUER}#key-1")]));
        assert_eq!(key_in_controller_document(&document, &format!("{ISSUER}#key-0")), Some(old));
        assert_eq!(key_in_controller_document(&document, &format!("{ISSUER}#key-1")), Some(public));
        assert_eq!(key_in_controller_document(&document, &format!("{ISSUER}#key-2")), None);
    }

    #[test]
    fn reproduces_the_node_credentials_byte_for_byte() {
        let member = issue(&member_award(), "key-1", &key(), created()).unwrap();
        assert_eq!(member, serde_json::from_str::<Value>(NODE_MEMBER).unwrap());
        let unit = issue(&unit_award(), "key-1", &key(), created()).unwrap();
        assert_eq!(proof_value(&unit), NODE_UNIT_PROOF);
        assert_eq!(unit["credentialSubject"]["identifier"][0]["hashed"], json!(false));
        assert!(unit["credentialSubject"]["identifier"][0].get("salt").is_none());

        let list = status_list_credential(
            &issuer(),
            LIST,
            NODE_EMPTY_LIST,
            at("2026-11-20T02:00:00Z"),
            "key-1",
            &key(),
            created(),
        )
        .unwrap();
        assert_eq!(proof_value(&list), NODE_LIST_PROOF);
    }

    #[test]
    fn verifies_what_it_issues_and_what_node_issued() {
        let node: Value = serde_json::from_str(NODE_MEMBER).unwrap();
        let verified = verify(&node, own_key).unwrap();
        assert_eq!(verified.award, member_award());
        assert_eq!(verified.key_id, "key-1");
        assert_eq!(verified.created, created());
        assert!(verified.award.subject_name.matches("Nguyễn Thị Minh Khai"));
        assert!(!verified.award.subject_name.matches("Nguyễn Thị Minh Khải"));

        let unit = issue(&unit_award(), "key-1", &key(), created()).unwrap();
        assert_eq!(verify(&unit, own_key).unwrap().award, unit_award());
    }

    #[test]
    fn tampering_fails() {
        let credential = issue(&member_award(), "key-1", &key(), created()).unwrap();
        let tamper = |edit: &dyn Fn(&mut Value)| {
            let mut copy = credential.clone();
            edit(&mut copy);
            verify(&copy, own_key).unwrap_err()
        };
        // Same shape, other content: the signature no longer matches.
        for edit in [
            &(|c: &mut Value| c["credentialSubject"]["achievement"]["description"] = json!("Cờ thi đua"))
                as &dyn Fn(&mut Value),
            &|c| c["credentialSubject"]["id"] = json!("urn:uuid:0190a1b2-2222-7000-8000-000000000009"),
            &|c| c["credentialStatus"]["statusListIndex"] = json!("94568"),
            &|c| {
                c["credentialStatus"]["statusListIndex"] = json!("94568");
                c["credentialStatus"]["id"] = json!(format!("{LIST}#94568"));
            },
            &|c| c["validFrom"] = json!("2025-11-20T02:00:00Z"),
            &|c| c["proof"][0]["created"] = json!("2026-11-20T03:04:06Z"),
        ] {
            let error = tamper(edit);
            assert!(matches!(error, CredentialError::BadSignature | CredentialError::Foreign(_)), "{error}");
        }
        assert_eq!(
            tamper(&|c| c["credentialSubject"]["achievement"]["description"] = json!("Cờ thi đua")),
            CredentialError::BadSignature
        );
        let mut signature = credential["proof"][0]["proofValue"].as_str().unwrap().to_owned();
        signature.replace_range(5..6, if &signature[5..6] == "a" { "b" } else { "a" });
        assert!(matches!(
            tamper(&|c| c["proof"][0]["proofValue"] = json!(signature)),
            CredentialError::BadSignature | CredentialError::Foreign(_)
        ));
    }

    #[test]
    fn a_key_of_another_issuer_fails() {
        let other = SigningKey::from_bytes(&[9; 32]);
        // Signed with another key under this issuer's key id.
        let forged = issue(&member_award(), "key-1", &other, created()).unwrap();
        assert_eq!(verify(&forged, own_key).unwrap_err(), CredentialError::BadSignature);
        // The verifier does not know the key id.
        let credential = issue(&member_award(), "key-1", &key(), created()).unwrap();
        assert!(matches!(verify(&credential, |_| None).unwrap_err(), CredentialError::UnknownKey(_)));
        // Another issuer's key: its verification method is not a fragment of the issuer id.
        let mut moved = credential.clone();
        moved["proof"][0]["verificationMethod"] = json!("https://doan.example.vn/issuers/other#key-1");
        let other_key = |_: &str| Some(other.verifying_key());
        assert!(matches!(verify(&moved, other_key).unwrap_err(), CredentialError::Foreign(_)));
        // The key of another issuer given for this issuer's method.
        assert_eq!(verify(&credential, other_key).unwrap_err(), CredentialError::BadSignature);
    }

    #[test]
    fn strict_parsing_refuses_other_shapes() {
        let credential = issue(&member_award(), "key-1", &key(), created()).unwrap();
        let refuse = |edit: &dyn Fn(&mut Value)| {
            let mut copy = credential.clone();
            edit(&mut copy);
            match verify(&copy, own_key) {
                Err(CredentialError::Foreign(_)) => {}
                other => panic!("expected Foreign, got {other:?}"),
            }
        };
        refuse(&|c| c["description"] = json!("extra"));
        refuse(&|c| c["credentialSubject"]["achievement"]["image"] = json!("https://doan.example.vn/a.png"));
        refuse(&|c| c["proof"][0]["challenge"] = json!("x"));
        refuse(&|c| {
            c.as_object_mut().unwrap().remove("credentialStatus");
        });
        refuse(&|c| {
            c["issuer"].as_object_mut().unwrap().remove("type");
        });
        refuse(&|c| c["proof"] = c["proof"][0].clone());
        refuse(&|c| c["@context"] = json!(["https://www.w3.org/ns/credentials/v2"]));
        refuse(&|c| c["name"] = json!("Tên khác"));
        refuse(&|c| c["validFrom"] = json!("2026-11-20T02:00:00.000Z"));
        refuse(&|c| c["credentialStatus"]["statusListIndex"] = json!("094567"));
        refuse(&|c| c["credentialSubject"]["identifier"][0]["hashed"] = json!("true"));
        let foreign_error = verify(&json!({"proof": []}), own_key).unwrap_err();
        assert!(foreign_error.to_string().starts_with("not a credential issued by this platform"));
    }

    #[test]
    fn text_is_nfc_and_safe_for_n_quads() {
        let mut award = member_award();
        // "Đoàn Thanh niên" decomposed (NFD), with a tab, CR LF and a NUL.
        award.achievement_name = "Đoa\u{300}n Thanh nie\u{302}n\tkhóa\r\nXII\0".into();
        let credential = issue(&award, "key-1", &key(), created()).unwrap();
        let name = credential["credentialSubject"]["achievement"]["name"].as_str().unwrap();
        assert_eq!(name, "Đoàn Thanh niên khóa\nXII");
        assert_eq!(name, name.nfc().collect::<String>());
        assert_eq!(verify(&credential, own_key).unwrap().award.achievement_name, name);
        // A non-NFC credential is not of the platform's form, even correctly signed.
        let mut nfd = credential.clone();
        nfd["name"] = json!(name.nfd().collect::<String>());
        assert!(matches!(verify(&nfd, own_key), Err(CredentialError::Foreign(_))));
        // RDFC-1.0 escaping of the quads (rdf-canon and rdf-canonize agree).
        let canonical = rdf_canon::canonicalize(&award_quads(&normalise(&member_award()).unwrap())).unwrap();
        assert!(
            canonical
                .contains(r#"<https://schema.org/description> "Bằng khen — Quyết định 12-QĐ/TĐTN ngày 2026-11-20" ."#)
        );
        assert!(canonical.contains(r#"năm 2026.\nDanh hiệu \"Thanh niên tiên tiến\" \\ kết thúc." ."#));
    }

    #[test]
    fn invalid_input_is_refused() {
        let refuse = |edit: &dyn Fn(&mut Award)| {
            let mut award = member_award();
            edit(&mut award);
            assert!(matches!(issue(&award, "key-1", &key(), created()), Err(CredentialError::Invalid(_))));
        };
        refuse(&|a| a.issuer.id = "http://doan.example.vn/issuers/1".into());
        refuse(&|a| a.issuer.id = format!("{ISSUER}#unit"));
        refuse(&|a| a.achievement_id = "https://doan.example.vn/a b".into());
        refuse(&|a| a.subject_id = "urn:uuid:0190A1B2-2222-7000-8000-000000000002".into());
        refuse(&|a| a.subject_id = a.credential_id.clone());
        refuse(&|a| a.status.index = STATUS_LIST_BITS as u64);
        refuse(&|a| {
            a.subject_name = RecipientName::Hashed { identity_hash: "Nguyễn".into(), salt: "q3v9V0kP2mX7tL1a".into() }
        });
        refuse(&|a| a.subject_name = RecipientName::hashed("Nguyễn", "short"));
        assert!(matches!(issue(&member_award(), "key 1", &key(), created()), Err(CredentialError::Invalid(_))));
    }

    #[test]
    fn status_lists_round_trip() {
        let mut bits = vec![0u8; STATUS_LIST_BITS / 8];
        set_bit(&mut bits, 94567, true).unwrap();
        set_bit(&mut bits, 0, true).unwrap();
        set_bit(&mut bits, 7, true).unwrap();
        assert!(set_bit(&mut bits, STATUS_LIST_BITS as u64, true).is_err());
        assert_eq!(bits[0], 0b1000_0001);
        assert!(bit(&bits, 94567) && bit(&bits, 0) && bit(&bits, 7));
        assert!(!bit(&bits, 94566) && !bit(&bits, 94568) && !bit(&bits, 3));
        assert!(bit(&bits, STATUS_LIST_BITS as u64), "past the end reads as revoked");
        set_bit(&mut bits, 0, false).unwrap();
        assert!(!bit(&bits, 0));

        let encoded = encode_list(&bits);
        assert!(encoded.starts_with("uH4sI"));
        assert_eq!(decode_list(&encoded).unwrap(), bits);
        // Node's (pako) encoding decodes too.
        assert_eq!(decode_list(NODE_EMPTY_LIST).unwrap(), vec![0u8; STATUS_LIST_BITS / 8]);
        assert!(decode_list(&encode_list(&[0; 10])).is_err());
        assert!(decode_list("zabc").is_err());

        let valid_from = at("2026-11-20T02:00:00Z");
        let list = status_list_credential(&issuer(), LIST, &encoded, valid_from, "key-1", &key(), created()).unwrap();
        assert_eq!(list["credentialSubject"]["id"], json!(format!("{LIST}#list")));
        let read = verify_status_list(&list, ISSUER, LIST, own_key).unwrap();
        assert!(bit(&read, 94567) && !bit(&read, 3));
        let other = "https://doan.example.vn/issuers/other";
        assert!(matches!(verify_status_list(&list, other, LIST, own_key), Err(CredentialError::Foreign(_))));
        let elsewhere = "https://doan.example.vn/credentials/status/2";
        assert!(matches!(verify_status_list(&list, ISSUER, elsewhere, own_key), Err(CredentialError::Foreign(_))));
        let mut cleared = list.clone();
        cleared["credentialSubject"]["encodedList"] = json!(encode_list(&vec![0u8; STATUS_LIST_BITS / 8]));
        assert_eq!(verify_status_list(&cleared, ISSUER, LIST, own_key), Err(CredentialError::BadSignature));
        let mut extra = list.clone();
        extra["validUntil"] = json!("2027-01-01T00:00:00Z");
        assert!(matches!(verify_status_list(&extra, ISSUER, LIST, own_key), Err(CredentialError::Foreign(_))));
    }

    /// Writes inputs for `node tests/vc/verify.mjs` when `VC_SAMPLES_DIR` is set (otherwise only
    /// builds them): member (valid, revoked, tampered) and unit credentials with the issuer's
    /// controller document and status list.
    #[test]
    fn samples_for_the_node_verifier() {
        let controller = controller_document(&issuer(), &[("key-1".into(), key().verifying_key())]);
        let list = |revoked: &[u64]| {
            let mut bits = vec![0u8; STATUS_LIST_BITS / 8];
            for index in revoked {
                set_bit(&mut bits, *index, true).unwrap();
            }
            let valid_from = at("2026-11-20T02:00:00Z");
            status_list_credential(&issuer(), LIST, &encode_list(&bits), valid_from, "key-1", &key(), created())
                .unwrap()
        };
        let input = |credential: &Value, list: &Value| {
            json!({
                "credential": credential,
                "documents": { ISSUER: controller, LIST: list },
                "now": "2026-12-01T00:00:00Z",
            })
        };
        let member = issue(&member_award(), "key-1", &key(), created()).unwrap();
        let unit = issue(&unit_award(), "key-1", &key(), created()).unwrap();
        let mut tampered = member.clone();
        tampered["credentialSubject"]["achievement"]["description"] = json!("Cờ thi đua — Quyết định 99-QĐ/TWĐTN");
        // The same list URL signed by another issuer (whose controller document is published).
        let other = Issuer { id: "https://doan.example.vn/issuers/other-unit".into(), name: "Đoàn khác".into() };
        let other_key = SigningKey::from_bytes(&[9; 32]);
        let valid_from = at("2026-11-20T02:00:00Z");
        let foreign_list = status_list_credential(
            &other,
            LIST,
            &encode_list(&[0; STATUS_LIST_BITS / 8]),
            valid_from,
            "key-1",
            &other_key,
            created(),
        )
        .unwrap();
        let mut foreign = input(&member, &foreign_list);
        foreign["documents"][&other.id] = controller_document(&other, &[("key-1".into(), other_key.verifying_key())]);
        let samples = [
            ("member-foreign-list", foreign),
            ("member-valid", input(&member, &list(&[3]))),
            ("member-revoked", input(&member, &list(&[94567]))),
            ("member-tampered", input(&tampered, &list(&[]))),
            ("unit-valid", input(&unit, &list(&[94567]))),
            ("unit-revoked", input(&unit, &list(&[3]))),
        ];
        if let Some(dir) = std::env::var_os("VC_SAMPLES_DIR") {
            let dir = std::path::PathBuf::from(dir);
            std::fs::create_dir_all(&dir).unwrap();
            for (name, sample) in samples {
                std::fs::write(dir.join(format!("{name}.json")), serde_json::to_string_pretty(&sample).unwrap())
                    .unwrap();
            }
        }
    }
}
