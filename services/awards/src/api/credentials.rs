//! Credentials: issuing units' keys, status lists, issuing and verifying the credential of
//! each award, and the public documents (controller documents, status lists) by RPC and as
//! JSON over plain HTTP at the URLs credentials name.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, NaiveDate, Utc};
use doan_platform::AppError;
use doan_platform::crypto::FieldCipher;
use doan_platform::error::AppResult;
use ed25519_dalek::{SigningKey, VerifyingKey};
use futures_util::future::BoxFuture;
use sea_orm::ConnectionTrait;

use crate::domain::credentials::{self as vc, Issuer, RecipientName, STATUS_LIST_BITS, StatusEntry};
use crate::storage::credentials as store;
use crate::storage::entities::{decision, issuer_key, recipient, status_list};

/// Keys, lists and URLs.
pub struct Credentials {
    cipher: FieldCipher,
    base_url: String,
}

/// What the credential of one award states besides its status entry.
pub struct Draft {
    /// The award id.
    pub award_id: String,
    /// `urn:uuid` id of the member, unit or cluster.
    pub subject_id: String,
    /// The member's name (hashed into the credential) or the collective's (in clear).
    pub name: String,
    /// True for a member.
    pub individual: bool,
}

/// The words a decision's credentials carry: the issuing unit's name, the kind's name and
/// its criteria.
pub struct Wording<'a> {
    /// The issuing unit's name.
    pub issuer: &'a str,
    /// The kind's Vietnamese name.
    pub kind: &'a str,
    /// The kind's criteria.
    pub criteria: &'a str,
}

/// One issued credential: `(award id, list id, index, credential JSON)`.
pub type Issued = (String, String, i64, String);

/// Where the secret of issuer key `key_id` of unit `unit_id` lives (bound into its ciphertext).
fn secret_field(unit_id: &str, key_id: &str) -> doan_platform::crypto::Field<'static> {
    doan_platform::crypto::Field::new("issuer_keys", "secret", format!("{unit_id}/{key_id}"))
}

impl Credentials {
    /// Keys encrypted under `key` (base64 of 32 bytes); URLs under `base_url`.
    pub fn new(key: &str, base_url: &str) -> anyhow::Result<Self> {
        let base_url = base_url.trim_end_matches('/').to_string();
        anyhow::ensure!(
            base_url.starts_with("https://") && !base_url.contains(['#', '?', ' ']),
            "credentials.base_url must be an https URL without query or fragment, got {base_url:?}"
        );
        Ok(Self { cipher: FieldCipher::from_base64(key)?, base_url })
    }

    /// The issuer id (profile URL) of unit `unit_id`.
    pub fn issuer_url(&self, unit_id: &str) -> String {
        format!("{}/issuers/{unit_id}", self.base_url)
    }

    /// The URL of status list `list_id`.
    pub fn list_url(&self, list_id: &str) -> String {
        format!("{}/status/{list_id}", self.base_url)
    }

    /// What a certificate's QR encodes.
    pub fn verify_url(&self, award_id: &str) -> String {
        format!("{}/verify/{award_id}", self.base_url)
    }

    fn issuer(&self, unit_id: &str, name: &str) -> Issuer {
        Issuer { id: self.issuer_url(unit_id), name: name.to_string() }
    }

    /// The signing key of unit `unit_id` (the newest), created on its first decision.
    async fn signing_key(
        &self,
        txn: &impl ConnectionTrait,
        unit_id: &str,
        now: DateTime<Utc>,
    ) -> AppResult<(String, SigningKey)> {
        if let Some(newest) = store::keys(txn, unit_id).await?.pop() {
            let at = secret_field(unit_id, &newest.key_id);
            let secret = self.cipher.open(&at, &newest.secret).map_err(|e| {
                AppError::Internal(anyhow::anyhow!(
                    "issuer key {} of unit {unit_id} does not decrypt: {e}",
                    newest.key_id
                ))
            })?;
            let bytes: [u8; 32] = STANDARD.decode(secret).ok().and_then(|b| b.try_into().ok()).ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("issuer key {} of unit {unit_id} is malformed", newest.key_id))
            })?;
            return Ok((newest.key_id, SigningKey::from_bytes(&bytes)));
        }
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let key_id = "key-1".to_string();
        store::insert_key(
            txn,
            issuer_key::Model {
                unit_id: unit_id.to_string(),
                key_id: key_id.clone(),
                public_key: vc::multikey(&key.verifying_key()),
                secret: self.cipher.seal(&secret_field(unit_id, &key_id), &STANDARD.encode(key.to_bytes())),
                created_at: now,
            },
        )
        .await?;
        Ok((key_id, key))
    }

    /// Takes `n` consecutive status indexes of unit `unit_id`, opening a new list (signed,
    /// every bit clear) when the open one has no room.
    async fn allocate(
        &self,
        txn: &impl ConnectionTrait,
        issuer: &Issuer,
        unit_id: &str,
        n: usize,
        key: &(String, SigningKey),
        now: DateTime<Utc>,
    ) -> AppResult<(String, i64)> {
        let bits = STATUS_LIST_BITS as i64;
        let n = n as i64;
        let list = match store::open_list(txn, unit_id, n, bits).await? {
            Some(l) => l,
            None => {
                let list_id = doan_platform::convert::new_id();
                let empty = vec![0u8; STATUS_LIST_BITS / 8];
                let credential = self.sign_list(issuer, &list_id, &empty, key, now)?;
                let l = status_list::Model {
                    list_id,
                    unit_id: unit_id.to_string(),
                    next_index: 0,
                    bits: empty,
                    credential,
                    updated_at: now,
                };
                store::insert_list(txn, l.clone()).await?;
                l
            }
        };
        store::take(txn, &list.list_id, list.next_index, n).await?;
        Ok((list.list_id, list.next_index))
    }

    fn sign_list(
        &self,
        issuer: &Issuer,
        list_id: &str,
        bits: &[u8],
        key: &(String, SigningKey),
        now: DateTime<Utc>,
    ) -> AppResult<String> {
        let encoded = vc::encode_list(bits);
        let signed = vc::status_list_credential(issuer, &self.list_url(list_id), &encoded, now, &key.0, &key.1, now)
            .map_err(|e| AppError::Internal(anyhow::anyhow!(e.to_string())))?;
        Ok(signed.to_string())
    }

    /// Issues the credentials of a decision's awards inside `txn`: the issuer's key, one run of
    /// status indexes, one signature per award (off the async threads).
    pub async fn issue(
        &self,
        txn: &impl ConnectionTrait,
        d: &decision::Model,
        words: Wording<'_>,
        drafts: Vec<Draft>,
        now: DateTime<Utc>,
    ) -> AppResult<Vec<Issued>> {
        if drafts.is_empty() {
            return Ok(Vec::new());
        }
        let Wording { issuer: issuer_name, kind: kind_name, criteria } = words;
        let issuer = self.issuer(&d.issuing_unit_id, issuer_name);
        let key = self.signing_key(txn, &d.issuing_unit_id, now).await?;
        let (list_id, first) = self.allocate(txn, &issuer, &d.issuing_unit_id, drafts.len(), &key, now).await?;
        let list_url = self.list_url(&list_id);
        let achievement_id = format!("{}/achievements/{}", self.base_url, d.decision_id);
        let description = format!(
            "{kind_name} — Quyết định số {} ngày {} của {issuer_name}: {}",
            d.decision_number,
            d.decision_date.format("%d/%m/%Y"),
            d.content
        );
        let valid_from = vietnam_midnight(d.decision_date);
        let awards: Vec<(String, i64, vc::Award)> = drafts
            .into_iter()
            .enumerate()
            .map(|(i, draft)| {
                let index = first + i as i64;
                let subject_name = if draft.individual {
                    RecipientName::hashed(&draft.name, &doan_platform::convert::new_id().replace('-', ""))
                } else {
                    RecipientName::Clear(draft.name)
                };
                let award = vc::Award {
                    credential_id: format!("urn:uuid:{}", draft.award_id),
                    issuer: issuer.clone(),
                    valid_from,
                    subject_id: draft.subject_id,
                    subject_name,
                    achievement_id: achievement_id.clone(),
                    achievement_name: kind_name.to_string(),
                    achievement_description: description.clone(),
                    criteria: criteria.to_string(),
                    status: StatusEntry { list_url: list_url.clone(), index: index as u64 },
                };
                (draft.award_id, index, award)
            })
            .collect();
        let signed = tokio::task::spawn_blocking(move || {
            awards
                .into_iter()
                .map(|(award_id, index, award)| {
                    vc::issue(&award, &key.0, &key.1, now).map(|json| (award_id, index, json.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("signing credentials: {e}")))?
        .map_err(|e| AppError::Internal(anyhow::anyhow!(e.to_string())))?;
        Ok(signed.into_iter().map(|(award_id, index, json)| (award_id, list_id.clone(), index, json)).collect())
    }

    /// Sets the revocation bits of `revoked` and re-signs their lists, inside `txn`.
    pub async fn revoke(
        &self,
        txn: &impl ConnectionTrait,
        issuing_unit_id: &str,
        issuer_name: &str,
        revoked: &[recipient::Model],
        now: DateTime<Utc>,
    ) -> AppResult<()> {
        let mut by_list: HashMap<&str, Vec<u64>> = HashMap::new();
        for r in revoked.iter().filter(|r| !r.status_list_id.is_empty()) {
            by_list.entry(&r.status_list_id).or_default().push(r.status_index as u64);
        }
        if by_list.is_empty() {
            return Ok(());
        }
        let issuer = self.issuer(issuing_unit_id, issuer_name);
        let key = self.signing_key(txn, issuing_unit_id, now).await?;
        for (list_id, indexes) in by_list {
            let list = store::list(txn, list_id, true)
                .await?
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("status list {list_id} is missing")))?;
            let mut bits = list.bits;
            for i in indexes {
                vc::set_bit(&mut bits, i, true).map_err(|e| AppError::Internal(anyhow::anyhow!(e.to_string())))?;
            }
            let credential = self.sign_list(&issuer, list_id, &bits, &key, now)?;
            store::save_list(txn, list_id, bits, credential, now).await?;
        }
        Ok(())
    }

    /// Every key of unit `unit_id` as `(key id, key)`.
    pub async fn keys(&self, db: &impl ConnectionTrait, unit_id: &str) -> AppResult<Vec<(String, VerifyingKey)>> {
        store::keys(db, unit_id)
            .await?
            .into_iter()
            .map(|k| {
                vc::parse_multikey(&k.public_key)
                    .map(|v| (k.key_id.clone(), v))
                    .map_err(|e| AppError::Internal(anyhow::anyhow!("issuer key {} of unit {unit_id}: {e}", k.key_id)))
            })
            .collect()
    }

    /// The controller document of unit `unit_id` (named `name`), with its keys' rows.
    pub async fn controller_document(
        &self,
        db: &impl ConnectionTrait,
        unit_id: &str,
        name: &str,
    ) -> AppResult<(serde_json::Value, Vec<issuer_key::Model>)> {
        // A unit that has issued nothing has no key yet: its document lists none.
        let rows = store::keys(db, unit_id).await?;
        let keys = self.keys(db, unit_id).await?;
        Ok((vc::controller_document(&self.issuer(unit_id, name), &keys), rows))
    }

    /// Verifies `credential` against the keys of the issuer it names, which must be one of
    /// this platform's issuers; returns the verified content.
    pub async fn verify(
        &self,
        db: &impl ConnectionTrait,
        credential: &serde_json::Value,
    ) -> Result<vc::Verified, Verdict> {
        let issuer_id = credential
            .get("issuer")
            .and_then(|i| i.get("id"))
            .and_then(|i| i.as_str())
            .ok_or_else(|| Verdict::Unknown("the credential names no issuer".into()))?;
        let prefix = format!("{}/issuers/", self.base_url);
        let unit_id = issuer_id
            .strip_prefix(&prefix)
            .filter(|u| !u.is_empty() && !u.contains(['/', '#']))
            .ok_or_else(|| Verdict::Unknown(format!("issuer {} is not one of this platform's", short(issuer_id))))?;
        let keys = self.keys(db, unit_id).await.map_err(|e| Verdict::Unknown(e.to_string()))?;
        let issuer_url = self.issuer_url(unit_id);
        vc::verify(credential, |method| {
            keys.iter().find(|(id, _)| vc::verification_method(&issuer_url, id) == method).map(|(_, k)| *k)
        })
        .map_err(|e| match e {
            vc::CredentialError::BadSignature | vc::CredentialError::UnknownKey(_) => Verdict::Invalid(e.to_string()),
            _ => Verdict::Unknown(e.to_string()),
        })
    }
}

/// Why a presented credential was not accepted.
pub enum Verdict {
    /// Not one of this platform's credentials.
    Unknown(String),
    /// One of its issuers', but the proof does not verify.
    Invalid(String),
}

/// At most 60 characters of `s`, for messages.
fn short(s: &str) -> String {
    doan_platform::text::quote(s)
}

/// 00:00 in Vietnam on `date`, as an instant.
fn vietnam_midnight(date: NaiveDate) -> DateTime<Utc> {
    (date.and_hms_opt(0, 0, 0).unwrap_or_default() - chrono::Duration::hours(7)).and_utc()
}

/// `GET <base>/issuers/<unit_id>`, `GET <base>/status/<list_id>`, `GET <base>/verify/<award_id>`:
/// the public documents as JSON over plain HTTP, mounted on the awards server at
/// `/credentials/*` (the gateway forwards that path unchanged, without a token).
#[derive(Clone)]
pub struct PublicDocuments {
    api: Arc<super::AwardsApi>,
}

impl PublicDocuments {
    /// Documents served from `api`.
    pub fn new(api: Arc<super::AwardsApi>) -> Self {
        Self { api }
    }
}

impl tonic::server::NamedService for PublicDocuments {
    const NAME: &'static str = "credentials";
}

impl tower::Service<http::Request<tonic::body::Body>> for PublicDocuments {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        let api = self.api.clone();
        Box::pin(async move {
            let path = request.uri().path().to_string();
            let answer = if request.method() != http::Method::GET && request.method() != http::Method::HEAD {
                Err((http::StatusCode::METHOD_NOT_ALLOWED, "only GET".to_string()))
            } else {
                api.public_document(&path).await
            };
            let (status, content_type, body) = match answer {
                Ok((content_type, body)) => (http::StatusCode::OK, content_type, body),
                Err((status, message)) => {
                    (status, "application/json", serde_json::json!({ "error": message }).to_string())
                }
            };
            Ok(http::Response::builder()
                .status(status)
                .header(http::header::CONTENT_TYPE, content_type)
                .header(http::header::CACHE_CONTROL, "no-cache")
                .header(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
                .body(tonic::body::Body::new(body))
                .unwrap_or_default())
        })
    }
}

impl super::AwardsApi {
    /// The award `id` with its decision, for a caller who holds it, manages its issuing unit,
    /// or manages the recipient.
    async fn visible_award(
        &self,
        caller: &doan_platform::auth::Caller,
        id: &str,
    ) -> AppResult<(decision::Model, recipient::Model)> {
        let (d, a) = crate::storage::decisions::award(&self.ctx.db, id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("award {id} (award_id) does not exist")))?;
        let holder = a.member_id.as_deref().is_some_and(|m| caller.is_member(m));
        if !holder && !caller.manages(&d.issuing_unit_path) && !caller.manages(&a.recipient_path) {
            return Err(AppError::PermissionDenied(format!(
                "award {id} is neither yours nor inside the unit subtree you are appointed to"
            )));
        }
        Ok((d, a))
    }

    /// Issues the credential of an award recorded before credentials existed.
    async fn ensure_credential(&self, d: &decision::Model, a: recipient::Model) -> AppResult<recipient::Model> {
        if !a.credential.is_empty() {
            return Ok(a);
        }
        let issuer = doan_platform::directory::unit(&self.ctx.db, "award_id", &d.issuing_unit_id).await?;
        let (kind_name, criteria) = self
            .rules
            .at("decision_date", d.decision_date)
            .ok()
            .and_then(|v| v.rule.kind(&d.kind).map(|k| (k.name.clone(), k.criteria.clone())))
            .unwrap_or_else(|| (d.kind.clone(), d.content.clone()));
        let subject = a.member_id.clone().or(a.unit_id.clone()).or(a.cluster_id.clone()).unwrap_or_default();
        let name = if a.recipient_name.is_empty() {
            match (&a.member_id, &a.unit_id) {
                (Some(m), _) => doan_platform::directory::member(&self.ctx.db, "award_id", m).await?.full_name,
                (_, Some(u)) => doan_platform::directory::unit(&self.ctx.db, "award_id", u).await?.name,
                _ => String::new(),
            }
        } else {
            a.recipient_name.clone()
        };
        let draft = Draft {
            award_id: a.award_id.clone(),
            subject_id: format!("urn:uuid:{subject}"),
            name,
            individual: a.member_id.is_some(),
        };
        let now = self.ctx.clock.now();
        let txn = sea_orm::TransactionTrait::begin(&self.ctx.db).await?;
        let words = Wording { issuer: &issuer.name, kind: &kind_name, criteria: &criteria };
        let issued = self.credentials.issue(&txn, d, words, vec![draft], now).await?;
        let Some((_, list_id, index, credential)) = issued.into_iter().next() else {
            return Err(AppError::Internal(anyhow::anyhow!("no credential issued for award {}", a.award_id)));
        };
        crate::storage::decisions::set_credential(&txn, &a.award_id, &list_id, index, &credential).await?;
        txn.commit().await?;
        Ok(recipient::Model { status_list_id: list_id, status_index: index, credential, ..a })
    }

    pub(super) async fn credential(
        &self,
        caller: &doan_platform::auth::Caller,
        r: doan_proto::awards::GetCredentialRequest,
    ) -> AppResult<doan_proto::awards::GetCredentialResponse> {
        let id = doan_platform::convert::parse_id("award_id", &r.award_id)?;
        let (d, a) = self.visible_award(caller, &id).await?;
        let a = self.ensure_credential(&d, a).await?;
        let qr_text = self.credentials.verify_url(&a.award_id);
        let qr_svg = qrcode::QrCode::with_error_correction_level(qr_text.as_bytes(), qrcode::EcLevel::M)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("QR of {qr_text}: {e}")))?
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .build();
        Ok(doan_proto::awards::GetCredentialResponse {
            credential_json: a.credential.clone(),
            qr_text,
            qr_svg,
            award: Some(super::award_to_pb(&a)),
        })
    }

    /// The verdict on award `a` of decision `d`, whose credential verified (or is ours).
    async fn verdict(
        &self,
        d: &decision::Model,
        a: &recipient::Model,
    ) -> AppResult<doan_proto::awards::VerifyCredentialResponse> {
        use doan_proto::awards::{RecipientKind as Rk, VerificationOutcome as Outcome};
        let issuer_name = doan_platform::directory::unit(&self.ctx.db, "award_id", &d.issuing_unit_id)
            .await
            .map(|u| u.name)
            .unwrap_or_default();
        let listed_revoked = match store::list(&self.ctx.db, &a.status_list_id, false).await? {
            Some(list) => vc::bit(&list.bits, a.status_index as u64),
            None => false,
        };
        let revoked = a.status == 2 || listed_revoked;
        let (recipient_kind, recipient_name) = if a.member_id.is_some() {
            (Rk::Individual, crate::domain::recipients::masked_name(&a.recipient_name))
        } else if a.cluster_id.is_some() {
            (Rk::Cluster, a.recipient_name.clone())
        } else {
            (Rk::Unit, a.recipient_name.clone())
        };
        Ok(doan_proto::awards::VerifyCredentialResponse {
            outcome: if revoked { Outcome::Revoked } else { Outcome::Valid } as i32,
            detail: if revoked {
                format!("revoked: {} ({})", a.revocation_reason, a.revocation_legal_basis)
            } else {
                "the credential is genuine and in force".into()
            },
            kind_name: self.kind_name(d),
            form: d.form,
            decision_number: d.decision_number.clone(),
            decision_date: doan_platform::convert::format_date(d.decision_date),
            issuer_name,
            recipient_name,
            recipient_kind: recipient_kind as i32,
            revoked_at: a.revoked_at.map(doan_platform::convert::timestamp),
            revocation_reason: a.revocation_reason.clone(),
            revocation_legal_basis: a.revocation_legal_basis.clone(),
        })
    }

    pub(super) async fn verify_credential_public(
        &self,
        r: doan_proto::awards::VerifyCredentialRequest,
    ) -> AppResult<doan_proto::awards::VerifyCredentialResponse> {
        use doan_proto::awards::VerificationOutcome as Outcome;
        use doan_proto::awards::verify_credential_request::Subject;
        let answer = |outcome: Outcome, detail: String| doan_proto::awards::VerifyCredentialResponse {
            outcome: outcome as i32,
            detail,
            ..Default::default()
        };
        match r.subject {
            None => Err(AppError::invalid("subject", "set award_id or credential_json")),
            Some(Subject::AwardId(id)) => {
                let id = doan_platform::convert::parse_id("award_id", &id)?;
                let Some((d, a)) = crate::storage::decisions::award(&self.ctx.db, &id).await? else {
                    return Ok(answer(Outcome::Unknown, format!("no award {id} was issued on this platform")));
                };
                let a = self.ensure_credential(&d, a).await?;
                // The stored credential is checked as any presented one would be.
                let json: serde_json::Value = serde_json::from_str(&a.credential)
                    .map_err(|e| AppError::Internal(anyhow::anyhow!("stored credential of award {id}: {e}")))?;
                match self.credentials.verify(&self.ctx.db, &json).await {
                    Ok(_) => self.verdict(&d, &a).await,
                    Err(Verdict::Invalid(why) | Verdict::Unknown(why)) => Ok(answer(Outcome::Invalid, why)),
                }
            }
            Some(Subject::CredentialJson(text)) => {
                if text.len() > 64 * 1024 {
                    return Err(AppError::invalid("credential_json", "must be at most 64 KiB"));
                }
                let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                    AppError::invalid("credential_json", format!("is not JSON: {}", short(&e.to_string())))
                })?;
                let verified = match self.credentials.verify(&self.ctx.db, &json).await {
                    Ok(v) => v,
                    Err(Verdict::Invalid(why)) => return Ok(answer(Outcome::Invalid, why)),
                    Err(Verdict::Unknown(why)) => return Ok(answer(Outcome::Unknown, why)),
                };
                let id = verified.award.credential_id.trim_start_matches("urn:uuid:").to_string();
                let Some((d, a)) = crate::storage::decisions::award(&self.ctx.db, &id).await? else {
                    return Ok(answer(Outcome::Unknown, format!("no award {id} is recorded on this platform")));
                };
                self.verdict(&d, &a).await
            }
        }
    }

    pub(super) async fn issuer_public(
        &self,
        r: doan_proto::awards::GetIssuerRequest,
    ) -> AppResult<doan_proto::awards::GetIssuerResponse> {
        let unit_id = doan_platform::convert::parse_id("unit_id", &r.unit_id)?;
        let unit = doan_platform::directory::unit(&self.ctx.db, "unit_id", &unit_id).await?;
        let (document, rows) = self.credentials.controller_document(&self.ctx.db, &unit_id, &unit.name).await?;
        Ok(doan_proto::awards::GetIssuerResponse {
            issuer_url: self.credentials.issuer_url(&unit_id),
            name: unit.name,
            keys: rows
                .into_iter()
                .map(|k| doan_proto::awards::IssuerKey {
                    key_id: k.key_id,
                    public_key_multibase: k.public_key,
                    created_at: Some(doan_platform::convert::timestamp(k.created_at)),
                })
                .collect(),
            controller_document_json: document.to_string(),
        })
    }

    pub(super) async fn status_list_public(
        &self,
        r: doan_proto::awards::GetStatusListRequest,
    ) -> AppResult<doan_proto::awards::GetStatusListResponse> {
        let list_id = doan_platform::convert::parse_id("list_id", &r.list_id)?;
        let list = store::list(&self.ctx.db, &list_id, false)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("status list {list_id} (list_id) does not exist")))?;
        Ok(doan_proto::awards::GetStatusListResponse {
            status_list_credential_json: list.credential,
            updated_at: Some(doan_platform::convert::timestamp(list.updated_at)),
        })
    }

    /// The document at `path` (`/credentials/issuers/<id>`, `/credentials/status/<id>`,
    /// `/credentials/verify/<id>`): its media type and JSON text.
    pub async fn public_document(&self, path: &str) -> Result<(&'static str, String), (http::StatusCode, String)> {
        let fail = |e: AppError| {
            let status = match &e {
                AppError::NotFound(_) => http::StatusCode::NOT_FOUND,
                AppError::InvalidArgument { .. } => http::StatusCode::BAD_REQUEST,
                _ => http::StatusCode::SERVICE_UNAVAILABLE,
            };
            (status, e.to_string())
        };
        let rest = path.strip_prefix("/credentials/").unwrap_or_default();
        match rest.split_once('/') {
            Some(("issuers", id)) => self
                .issuer_public(doan_proto::awards::GetIssuerRequest { unit_id: id.to_string() })
                .await
                .map(|r| ("application/json", r.controller_document_json))
                .map_err(fail),
            Some(("status", id)) => self
                .status_list_public(doan_proto::awards::GetStatusListRequest { list_id: id.to_string() })
                .await
                .map(|r| ("application/vc+ld+json", r.status_list_credential_json))
                .map_err(fail),
            Some(("verify", id)) => {
                use doan_proto::awards::verify_credential_request::Subject;
                let r = self
                    .verify_credential_public(doan_proto::awards::VerifyCredentialRequest {
                        subject: Some(Subject::AwardId(id.to_string())),
                    })
                    .await
                    .map_err(fail)?;
                let outcome = doan_proto::awards::VerificationOutcome::try_from(r.outcome)
                    .map(|o| o.as_str_name())
                    .unwrap_or("VERIFICATION_OUTCOME_UNSPECIFIED");
                let body = serde_json::json!({
                    "outcome": outcome,
                    "detail": r.detail,
                    "kind": r.kind_name,
                    "decision_number": r.decision_number,
                    "decision_date": r.decision_date,
                    "issuer": r.issuer_name,
                    "recipient": r.recipient_name,
                    "revocation_reason": r.revocation_reason,
                    "revocation_legal_basis": r.revocation_legal_basis,
                });
                Ok(("application/json", body.to_string()))
            }
            _ => Err((http::StatusCode::NOT_FOUND, format!("no document at {}", short(path)))),
        }
    }
}
