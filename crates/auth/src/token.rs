//! Access tokens: their claims, the `Authorization` header, the raw JOSE header, and what a
//! verified token makes of the caller.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gazette_domain::Viewer;
use jsonwebtoken::Validation;
use jsonwebtoken::errors::ErrorKind;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::config::{JwtAlgorithm, Role};
use super::error::AuthError;
use super::{MAX_TOKEN_BYTES, REQUIRED_CLAIMS};

/// The claims of an access token, as minted by [`Authenticator::mint`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Subject: who the token is for.
    pub sub: String,
    /// Granted role.
    pub role: Role,
    /// Granted scopes (partners).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<String>,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Not before (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Expires at (Unix seconds).
    pub exp: i64,
}

/// The validation of access tokens: nothing left to the library's lenient defaults.
pub(super) fn access_validation(
    algorithm: JwtAlgorithm,
    issuer: &str,
    audience: &str,
    leeway_secs: u64,
) -> Validation {
    let mut validation = Validation::new(algorithm.jwt());
    validation.algorithms = vec![algorithm.jwt()];
    validation.set_required_spec_claims(&REQUIRED_CLAIMS);
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.validate_aud = true;
    validation.leeway = leeway_secs;
    validation.reject_tokens_expiring_in_less_than = 0;
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation
}

/// The token of `Bearer <token>`; any other shape is refused.
pub(super) fn bearer_token(value: &[u8]) -> Result<&str, AuthError> {
    // "Bearer " and a little whitespace around the longest token accepted.
    if value.len() > MAX_TOKEN_BYTES + 16 {
        return Err(AuthError::TooLong);
    }
    // As `HeaderValue::to_str`: visible ASCII (and spaces, tabs) only.
    if !value.iter().all(|&b| b == b'\t' || (32..127).contains(&b)) {
        return Err(AuthError::MalformedHeader);
    }
    let value = std::str::from_utf8(value).map_err(|_| AuthError::MalformedHeader)?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or(AuthError::MalformedHeader)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::MalformedHeader);
    }
    let token = token.trim();
    if token.is_empty() || token.contains(|c: char| c.is_ascii_whitespace()) {
        return Err(AuthError::MalformedHeader);
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(AuthError::TooLong);
    }
    Ok(token)
}

/// The token's header as raw JSON: read before verification to pin `alg`, refuse `crit` and
/// pick the key by `kid` (the library's `Header` would accept `crit: ["b64"]`).
#[derive(Debug)]
pub(super) struct RawHeader {
    pub(super) alg: String,
    pub(super) kid: Option<String>,
    pub(super) typ: Option<String>,
}

impl RawHeader {
    pub(super) fn parse(token: &str) -> Result<Self, AuthError> {
        let mut segments = token.split('.');
        let (Some(header), Some(_), Some(_), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(AuthError::Malformed);
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(header)
            .map_err(|_| AuthError::Malformed)?;
        let json: Map<String, Value> =
            serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed)?;
        if json.contains_key("crit") {
            return Err(AuthError::UnsupportedCritical);
        }
        let text = |name: &str| match json.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(AuthError::Malformed),
        };
        Ok(Self {
            alg: text("alg")?.ok_or(AuthError::Malformed)?,
            kid: text("kid")?,
            typ: text("typ")?,
        })
    }
}

pub(super) fn map_jwt_error(error: jsonwebtoken::errors::Error) -> AuthError {
    match error.into_kind() {
        ErrorKind::InvalidSignature => AuthError::BadSignature,
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
        ErrorKind::InvalidAudience => AuthError::WrongAudience,
        ErrorKind::InvalidSubject => AuthError::InvalidClaim("sub".to_owned()),
        ErrorKind::MissingRequiredClaim(claim) => AuthError::MissingClaim(claim),
        ErrorKind::InvalidClaimFormat(claim) => AuthError::InvalidClaim(claim),
        ErrorKind::InvalidAlgorithm
        | ErrorKind::MissingAlgorithm
        | ErrorKind::UnsupportedAlgorithm
        | ErrorKind::InvalidAlgorithmName => AuthError::WrongAlgorithm,
        ErrorKind::InvalidToken
        | ErrorKind::Base64(_)
        | ErrorKind::Json(_)
        | ErrorKind::Utf8(_) => AuthError::Malformed,
        _ => AuthError::BadSignature,
    }
}

/// The viewer named by verified access-token claims.
pub(super) fn viewer_from_claims(claims: &Map<String, Value>) -> Result<Viewer, AuthError> {
    if claims.contains_key("use") {
        return Err(AuthError::WrongTokenUse);
    }
    let sub = match claims.get("sub") {
        Some(Value::String(sub)) if !sub.trim().is_empty() => sub.clone(),
        Some(_) => return Err(AuthError::InvalidClaim("sub".to_owned())),
        None => return Err(AuthError::MissingClaim("sub".to_owned())),
    };
    let role: Role = match claims.get("role") {
        Some(Value::String(role)) => role.parse()?,
        Some(_) => return Err(AuthError::InvalidClaim("role".to_owned())),
        None => return Err(AuthError::MissingClaim("role".to_owned())),
    };
    let scopes = parse_scope(claims.get("scope"))?;
    Ok(match role {
        Role::Editor => Viewer::Editor { sub },
        Role::Admin => Viewer::Admin { sub },
        Role::Partner => Viewer::Partner { sub, scopes },
    })
}

/// `scope` as a list of strings or one space-separated string; absent means none.
pub(super) fn parse_scope(scope: Option<&Value>) -> Result<Vec<String>, AuthError> {
    let invalid = || AuthError::InvalidClaim("scope".to_owned());
    let items: Vec<String> = match scope {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s.split_ascii_whitespace().map(str::to_owned).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) if !s.is_empty() && !s.contains(char::is_whitespace) => {
                    Ok(s.clone())
                }
                _ => Err(invalid()),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(invalid()),
    };
    let mut scopes: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        if !scopes.contains(&item) {
            scopes.push(item);
        }
    }
    Ok(scopes)
}
