//! Preview tokens: HS256 tokens of their own secret, audience, `typ` and `use`, opening one
//! version of one article to a frontend without an editor token.

use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::config::JwtAlgorithm;
use super::error::AuthError;
use super::token::{RawHeader, map_jwt_error};
use super::{
    Authenticator, MAX_PREVIEW_TTL, MAX_TOKEN_BYTES, PREVIEW_TYP, PREVIEW_USE, REQUIRED_CLAIMS,
};

/// What a preview token grants: reading `version` of `article`, until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewGrant {
    /// The article.
    pub article_id: Uuid,
    /// The version of the article the preview is bound to.
    pub version: i32,
    /// The editor who minted the token (their `sub`).
    pub editor: String,
    /// When the token stops being accepted.
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct PreviewClaims {
    sub: String,
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
    #[serde(rename = "use")]
    token_use: String,
    article: Uuid,
    version: i32,
}

pub(super) struct PreviewKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    audience: String,
}

impl Authenticator {
    /// Signs a preview token letting its bearer read `version` of `article_id`, minted by
    /// `editor_sub`, for `ttl` from `now` (capped at [`MAX_PREVIEW_TTL`]).
    pub fn mint_preview(
        &self,
        editor_sub: &str,
        article_id: Uuid,
        version: i32,
        ttl: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<String, AuthError> {
        let preview = self
            .inner
            .preview
            .as_ref()
            .ok_or(AuthError::CannotMint("no preview secret is available"))?;
        if ttl <= TimeDelta::zero() {
            return Err(AuthError::InvalidTtl);
        }
        if editor_sub.trim().is_empty() {
            return Err(AuthError::InvalidClaim("sub".to_owned()));
        }
        let ttl = ttl.min(MAX_PREVIEW_TTL);
        let exp = now
            .checked_add_signed(ttl)
            .ok_or(AuthError::InvalidTtl)?
            .timestamp();
        let claims = PreviewClaims {
            sub: editor_sub.to_owned(),
            iss: self.inner.issuer.clone(),
            aud: preview.audience.clone(),
            iat: now.timestamp(),
            exp,
            token_use: PREVIEW_USE.to_owned(),
            article: article_id,
            version,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(PREVIEW_TYP.to_owned());
        jsonwebtoken::encode(&header, &claims, &preview.encoding).map_err(|_| AuthError::Signing)
    }

    /// Verifies a preview token at `now` and returns what it grants.
    pub fn verify_preview(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<PreviewGrant, AuthError> {
        let preview = self
            .inner
            .preview
            .as_ref()
            .ok_or(AuthError::NotConfigured)?;
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::TooLong);
        }
        let raw = RawHeader::parse(token)?;
        if raw.alg != JwtAlgorithm::Hs256.as_str() {
            return Err(AuthError::WrongAlgorithm);
        }
        if raw.typ.as_deref() != Some(PREVIEW_TYP) || raw.kid.is_some() {
            return Err(AuthError::WrongTokenUse);
        }
        let claims = jsonwebtoken::decode::<Map<String, Value>>(
            token,
            &preview.decoding,
            &preview.validation,
        )
        .map_err(map_jwt_error)?
        .claims;
        if claims.get("use").and_then(Value::as_str) != Some(PREVIEW_USE) {
            return Err(AuthError::WrongTokenUse);
        }
        let claims: PreviewClaims = serde_json::from_value(Value::Object(claims))
            .map_err(|_| AuthError::InvalidClaim("article".to_owned()))?;
        // The library's clock is not `now`: time is checked here.
        let leeway = i64::try_from(self.inner.leeway_secs).unwrap_or(0);
        let now_secs = now.timestamp();
        if claims.exp.saturating_add(leeway) < now_secs {
            return Err(AuthError::Expired);
        }
        if claims.iat.saturating_sub(leeway) > now_secs {
            return Err(AuthError::NotYetValid);
        }
        if claims.exp.saturating_sub(claims.iat) > MAX_PREVIEW_TTL.num_seconds() {
            return Err(AuthError::InvalidClaim("exp".to_owned()));
        }
        if claims.sub.trim().is_empty() {
            return Err(AuthError::InvalidClaim("sub".to_owned()));
        }
        let expires_at = DateTime::from_timestamp(claims.exp, 0)
            .ok_or_else(|| AuthError::InvalidClaim("exp".to_owned()))?;
        Ok(PreviewGrant {
            article_id: claims.article,
            version: claims.version,
            editor: claims.sub,
            expires_at,
        })
    }
}

impl PreviewKeys {
    pub(super) fn new(
        secret: &[u8],
        issuer: &str,
        audience: &str,
        leeway_secs: u64,
    ) -> Option<Self> {
        let audience = format!("{audience}:preview");
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_required_spec_claims(&REQUIRED_CLAIMS);
        // `exp`, `iat` and `nbf` are checked against the caller's `now` in `verify_preview`.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = true;
        validation.leeway = leeway_secs;
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience.as_str()]);
        Some(Self {
            encoding: EncodingKey::from_secret(secret).ok()?,
            decoding: DecodingKey::from_secret(secret).ok()?,
            validation,
            audience,
        })
    }
}
