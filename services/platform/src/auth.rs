//! Who is calling: EdDSA-signed JWTs issued by membership and verified by every process,
//! argon2 password hashes, and the unit-tree scope checks every RPC makes.
//!
//! Scope is a materialised path: a unit's path lists the ids from the root to itself
//! (`/root/…/self/`), so "unit U is in the subtree of S" is "U's path contains `/S/`".

use std::sync::Arc;

use anyhow::Context;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The whole tree.
    Admin,
    /// The subtree of the officer's unit.
    Officer,
    /// The member's own data.
    Member,
}

/// The claims inside every access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Account id.
    pub sub: String,
    /// Role.
    pub role: Role,
    /// Scope unit (officer) or branch (member); absent for admins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Member id of a member account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mid: Option<String>,
    /// Display name, for audit logs.
    pub name: String,
    /// Issuer.
    pub iss: String,
    /// Issued at (seconds since the epoch).
    pub iat: u64,
    /// Expiry (seconds since the epoch).
    pub exp: u64,
}

/// The authenticated caller of an RPC.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Account id.
    pub account_id: String,
    /// Role.
    pub role: Role,
    /// Scope unit (officer) or branch (member).
    pub unit_id: Option<String>,
    /// Member id of a member account.
    pub member_id: Option<String>,
    /// Display name.
    pub name: String,
    /// When the caller's token expires (seconds since the epoch); long-lived streams end then.
    pub expires_at: u64,
}

impl Caller {
    /// True when the caller administers the unit at `unit_path` (admin, or officer above it).
    pub fn manages(&self, unit_path: &str) -> bool {
        match (self.role, &self.unit_id) {
            (Role::Admin, _) => true,
            (Role::Officer, Some(scope)) => path_contains(unit_path, scope),
            _ => false,
        }
    }

    /// Fails unless the caller administers the unit at `unit_path`.
    pub fn require_manages(&self, unit_path: &str, what: &str) -> AppResult<()> {
        if self.manages(unit_path) {
            Ok(())
        } else {
            Err(AppError::PermissionDenied(format!("{what} is outside the unit subtree you are appointed to")))
        }
    }

    /// Fails unless the caller is an officer or admin.
    pub fn require_officer(&self) -> AppResult<()> {
        match self.role {
            Role::Admin | Role::Officer => Ok(()),
            Role::Member => Err(AppError::PermissionDenied("only officers may do this".into())),
        }
    }

    /// The caller's member id; fails for officer and admin accounts.
    pub fn require_member(&self) -> AppResult<&str> {
        self.member_id.as_deref().ok_or_else(|| AppError::PermissionDenied("only members may do this".into()))
    }

    /// The member a request names in `field`, or the calling member when it is empty.
    pub fn member_or_self(&self, field: &'static str, requested: &str) -> AppResult<String> {
        if requested.is_empty() {
            return self
                .require_member()
                .map(str::to_string)
                .map_err(|_| AppError::invalid(field, "is required for officer accounts"));
        }
        crate::convert::parse_id(field, requested)
    }

    /// True when the caller is the member `member_id`.
    pub fn is_member(&self, member_id: &str) -> bool {
        self.member_id.as_deref() == Some(member_id)
    }
}

/// True when the materialised `path` passes through `unit_id`.
pub fn path_contains(path: &str, unit_id: &str) -> bool {
    path.split('/').any(|segment| segment == unit_id)
}

/// Verifies access tokens. Cheap to clone.
#[derive(Clone)]
pub struct TokenVerifier {
    /// Every accepted public key: during a key rotation, the new one and the old one.
    keys: Arc<Vec<DecodingKey>>,
    validation: Arc<Validation>,
    /// Longest lifetime (`exp − iat`) a token may claim: what membership issues.
    max_lifetime_secs: u64,
    /// Tokens already verified, until they expire: a signature check costs more than the
    /// rest of a small RPC, and a client sends the same token with every call.
    verified: Arc<std::sync::Mutex<std::collections::HashMap<String, Claims>>>,
}

/// Clock difference tolerated between the issuer and a verifier, seconds.
const CLOCK_LEEWAY_SECS: u64 = 60;

/// Verified tokens remembered at most (about 1.5 MiB).
const VERIFIED_CACHE: usize = 4096;

impl TokenVerifier {
    /// A verifier for tokens signed by the private half of any public key in
    /// `public_keys_pem` (one or more PEM blocks, so keys can be rotated without downtime).
    pub fn from_pem(public_keys_pem: &str, issuer: &str) -> anyhow::Result<Self> {
        const END: &str = "-----END PUBLIC KEY-----";
        let keys = public_keys_pem
            .split_inclusive(END)
            .filter(|block| block.contains("-----BEGIN"))
            .map(|block| {
                DecodingKey::from_ed_pem(block.trim().as_bytes())
                    .context("auth.verifying_key_pem holds a block that is not an Ed25519 public key in PEM")
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        anyhow::ensure!(!keys.is_empty(), "auth.verifying_key_pem holds no PEM public key");
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.leeway = 30;
        Ok(Self {
            keys: Arc::new(keys),
            validation: Arc::new(validation),
            max_lifetime_secs: 24 * 3600,
            verified: Arc::default(),
        })
    }

    /// Refuses tokens claiming a lifetime longer than `secs` (set it to `auth.token_ttl_secs`).
    pub fn with_max_lifetime(mut self, secs: u64) -> Self {
        self.max_lifetime_secs = secs;
        self
    }

    /// The claims of a valid token.
    pub fn verify(&self, token: &str) -> AppResult<Claims> {
        let now = jsonwebtoken::get_current_timestamp();
        if let Some(claims) = self.verified.lock().expect("token cache").get(token).filter(|c| c.exp > now) {
            return Ok(claims.clone());
        }
        let mut last = None;
        for key in self.keys.iter() {
            match jsonwebtoken::decode::<Claims>(token, key, &self.validation) {
                Ok(data) => {
                    // A token from the future, or living longer than membership issues them,
                    // was not issued by this deployment's rules (a leaked key, a bad clock).
                    if data.claims.iat > now + CLOCK_LEEWAY_SECS {
                        return Err(AppError::Unauthenticated(
                            "access token is issued in the future; log in again".into(),
                        ));
                    }
                    if data.claims.exp.saturating_sub(data.claims.iat) > self.max_lifetime_secs + CLOCK_LEEWAY_SECS {
                        return Err(AppError::Unauthenticated(
                            "access token lives longer than this deployment allows; log in again".into(),
                        ));
                    }
                    let mut cache = self.verified.lock().expect("token cache");
                    if cache.len() >= VERIFIED_CACHE {
                        cache.retain(|_, c| c.exp > now);
                        if cache.len() >= VERIFIED_CACHE {
                            cache.clear();
                        }
                    }
                    cache.insert(token.to_string(), data.claims.clone());
                    return Ok(data.claims);
                }
                Err(e) => last = Some(e),
            }
        }
        // A fixed reason per kind: library messages (`unknown variant …`) stay in the log.
        use jsonwebtoken::errors::ErrorKind;
        let reason = match last.as_ref().map(|e| e.kind()) {
            Some(ErrorKind::ExpiredSignature) => "access token has expired",
            Some(ErrorKind::ImmatureSignature) => "access token is not valid yet",
            Some(ErrorKind::InvalidSignature) => "access token signature is not valid",
            Some(ErrorKind::InvalidIssuer) => "access token is from another issuer",
            Some(ErrorKind::InvalidAlgorithm) => "access token uses an algorithm this service does not accept",
            _ => "access token is malformed",
        };
        if let Some(e) = last {
            tracing::debug!(error = %e, "access token rejected");
        }
        Err(AppError::Unauthenticated(format!("{reason}; log in again")))
    }

    /// The caller of a gRPC request, from its `authorization: Bearer …` metadata.
    pub fn caller<T>(&self, request: &tonic::Request<T>) -> AppResult<Caller> {
        // Verified once by the policy layer before the handler; verified here otherwise.
        if let Some(caller) = request.extensions().get::<Caller>() {
            return Ok(caller.clone());
        }
        self.caller_from_token(bearer_token(request.metadata())?)
    }

    /// The caller a token stands for.
    pub fn caller_from_token(&self, token: &str) -> AppResult<Caller> {
        let claims = self.verify(token)?;
        tracing::Span::current().record("caller", claims.sub.as_str());
        Ok(Caller {
            account_id: claims.sub,
            role: claims.role,
            unit_id: claims.unit,
            member_id: claims.mid,
            name: claims.name,
            expires_at: claims.exp,
        })
    }
}

/// The bearer token in `authorization` metadata.
pub fn bearer_token(metadata: &tonic::metadata::MetadataMap) -> AppResult<&str> {
    parse_bearer(metadata.get("authorization").and_then(|v| v.to_str().ok()))
}

/// The token of an `authorization: Bearer <token>` header value.
pub fn parse_bearer(header: Option<&str>) -> AppResult<&str> {
    let value = header
        .ok_or_else(|| AppError::Unauthenticated("missing `authorization: Bearer <token>`; call Login first".into()))?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AppError::Unauthenticated("authorization must be `Bearer <token>`".into()))
}

/// Signs access tokens (membership only).
#[derive(Clone)]
pub struct TokenIssuer {
    key: Arc<EncodingKey>,
    issuer: String,
    ttl_secs: u64,
}

impl TokenIssuer {
    /// An issuer signing with the PKCS#8 PEM Ed25519 private key.
    pub fn from_pem(private_key_pem: &str, issuer: &str, ttl_secs: u64) -> anyhow::Result<Self> {
        let key = EncodingKey::from_ed_pem(private_key_pem.as_bytes())
            .context("auth.signing_key_pem is not an Ed25519 private key in PKCS#8 PEM")?;
        Ok(Self { key: Arc::new(key), issuer: issuer.to_string(), ttl_secs })
    }

    /// A signed token and its expiry (seconds since the epoch): the issuer's lifetime, and no
    /// later than `not_after` when given (the end of the officer's position).
    pub fn issue(
        &self,
        account_id: &str,
        role: Role,
        unit: Option<String>,
        member_id: Option<String>,
        name: &str,
        not_after: Option<u64>,
    ) -> AppResult<(String, u64)> {
        let now = jsonwebtoken::get_current_timestamp();
        let exp = (now + self.ttl_secs).min(not_after.unwrap_or(u64::MAX));
        let claims = Claims {
            sub: account_id.to_string(),
            role,
            unit,
            mid: member_id,
            name: name.to_string(),
            iss: self.issuer.clone(),
            iat: now,
            exp,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims, &self.key).context("sign token")?;
        Ok((token, claims.exp))
    }
}

/// A new Ed25519 key pair as (PKCS#8 v1 private PEM, SPKI public PEM). The private key is
/// written as RFC 8410 PKCS#8 v1 (no embedded public key), the form OpenSSL 3.0 and Python's
/// `cryptography` read; keys in the v2 form are still accepted.
pub fn generate_keypair() -> anyhow::Result<(String, String)> {
    use ed25519_dalek::pkcs8::{EncodePublicKey, spki::der::pem::LineEnding};
    let signing = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
    let public = signing.verifying_key().to_public_key_pem(LineEnding::LF).context("encode public key")?;
    Ok((pkcs8_v1_pem(&signing.to_bytes()), public))
}

/// RFC 8410 PKCS#8 v1 (`OneAsymmetricKey` version 0) of an Ed25519 seed, as PEM.
fn pkcs8_v1_pem(seed: &[u8; 32]) -> String {
    use base64::Engine;
    // SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING seed } }
    const PREFIX: [u8; 16] =
        [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
    let mut der = PREFIX.to_vec();
    der.extend_from_slice(seed);
    let body = base64::engine::general_purpose::STANDARD.encode(&der);
    format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n")
}

/// The metadata in which the gateway tells a service the client's address (set by the gateway
/// on every call, replacing any the client sent; `X-Forwarded-For` believed only from trusted
/// proxies).
pub const CLIENT_ADDRESS_HEADER: &str = "x-doan-client-address";

/// Minimum password length for every account.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Checks a new password's strength.
pub fn check_new_password(field: &'static str, password: &str) -> AppResult<()> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(AppError::invalid(field, format!("must be at least {MIN_PASSWORD_CHARS} characters")));
    }
    if chars > 256 {
        return Err(AppError::invalid(field, "must be at most 256 characters"));
    }
    Ok(())
}

/// An argon2id PHC hash of `password`.
pub fn hash_password(password: &str) -> AppResult<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("hash password: {e}")))
}

/// True when `password` matches the PHC `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), hash).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (TokenIssuer, TokenVerifier) {
        let (private, public) = generate_keypair().unwrap();
        (TokenIssuer::from_pem(&private, "doan", 60).unwrap(), TokenVerifier::from_pem(&public, "doan").unwrap())
    }

    #[test]
    fn tokens_round_trip_and_foreign_keys_are_rejected() {
        let (issuer, verifier) = pair();
        let (token, _) = issuer.issue("acc-1", Role::Officer, Some("u1".into()), None, "Nguyễn Văn A", None).unwrap();
        let claims = verifier.verify(&token).unwrap();
        assert_eq!(claims.role, Role::Officer);
        assert_eq!(claims.unit.as_deref(), Some("u1"));
        let (_, other) = pair();
        assert!(matches!(other.verify(&token), Err(AppError::Unauthenticated(_))));
    }

    #[test]
    fn rotation_accepts_old_and_new_keys() {
        let (old_private, old_public) = generate_keypair().unwrap();
        let (new_private, new_public) = generate_keypair().unwrap();
        let both = TokenVerifier::from_pem(&format!("{new_public}{old_public}"), "doan").unwrap();
        for private in [old_private, new_private] {
            let (token, _) = TokenIssuer::from_pem(&private, "doan", 60)
                .unwrap()
                .issue("a", Role::Admin, None, None, "x", None)
                .unwrap();
            assert!(both.verify(&token).is_ok());
        }
        assert!(TokenVerifier::from_pem("not a key", "doan").is_err());
    }

    /// A token with chosen claims, signed by `private`.
    fn forge(private: &str, claims: &serde_json::Value) -> String {
        let key = EncodingKey::from_ed_pem(private.as_bytes()).unwrap();
        jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), claims, &key).unwrap()
    }

    #[test]
    fn tokens_outside_the_issuing_rules_are_refused_with_plain_reasons() {
        let (private, public) = generate_keypair().unwrap();
        let verifier = TokenVerifier::from_pem(&public, "doan").unwrap().with_max_lifetime(3600);
        let now = jsonwebtoken::get_current_timestamp();
        let claims = |iat: u64, exp: u64, role: &str| serde_json::json!({"sub": "a", "role": role, "name": "x", "iss": "doan", "iat": iat, "exp": exp});
        let message = |token: &str| match verifier.verify(token) {
            Err(AppError::Unauthenticated(m)) => m,
            other => panic!("refused expected, got {other:?}"),
        };
        assert!(verifier.verify(&forge(&private, &claims(now, now + 3600, "officer"))).is_ok());
        let long = message(&forge(&private, &claims(now, now + 30 * 24 * 3600, "admin")));
        assert!(long.contains("lives longer"), "{long}");
        let future = message(&forge(&private, &claims(now + 3600, now + 5400, "admin")));
        assert!(future.contains("future"), "{future}");
        let expired = message(&forge(&private, &claims(now - 7200, now - 3600, "admin")));
        assert!(expired.contains("expired"), "{expired}");
        // Library internals (`unknown variant …`) stay out of the answer.
        let odd = message(&forge(&private, &claims(now, now + 60, "none")));
        assert_eq!(odd, "access token is malformed; log in again");
        assert!(message("not.a.token").contains("malformed"));
    }

    #[test]
    fn generated_private_keys_are_pkcs8_v1() {
        use base64::Engine;
        let (private, _) = generate_keypair().unwrap();
        let body: String = private.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::engine::general_purpose::STANDARD.decode(body).unwrap();
        assert_eq!(der.len(), 48, "RFC 8410 v1: version 0, no public key");
        assert_eq!(&der[..5], &[0x30, 0x2e, 0x02, 0x01, 0x00]);
        // It signs tokens, and OpenSSL reads it where installed.
        assert!(TokenIssuer::from_pem(&private, "doan", 60).is_ok());
        let path = std::env::temp_dir().join(format!("doan-key-{}.pem", uuid::Uuid::new_v4()));
        std::fs::write(&path, &private).unwrap();
        match std::process::Command::new("openssl").args(["pkey", "-noout", "-in"]).arg(&path).status() {
            Ok(status) => assert!(status.success(), "openssl pkey reads the generated key"),
            Err(_) => eprintln!("SKIPPED (openssl not installed): the key is not checked with OpenSSL"),
        }
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn scope_is_the_subtree() {
        let officer = Caller {
            account_id: "a".into(),
            role: Role::Officer,
            unit_id: Some("prov".into()),
            member_id: None,
            name: "x".into(),
            expires_at: u64::MAX,
        };
        assert!(officer.manages("/root/prov/dist/branch/"));
        assert!(officer.manages("/root/prov/"));
        assert!(!officer.manages("/root/other/"));
        assert!(!officer.manages("/root/province2/"), "prefix of an id is not the id");
    }

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong", &hash));
        assert!(check_new_password("password", "short").is_err());
    }
}
