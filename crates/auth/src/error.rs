//! Why a bearer token was refused (every refusal is a 401 with a challenge).

use super::MAX_TOKEN_BYTES;

/// Why a request's credentials, or a preview token, were refused; or why minting failed.
///
/// Every message is safe to show the client (and to put in `WWW-Authenticate`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No verification key is configured, so no token can be accepted.
    #[error("bearer tokens are not accepted: no verification key is configured")]
    NotConfigured,
    /// The `Authorization` header is not `Bearer <token>`.
    #[error("the Authorization header must be `Bearer <token>`")]
    MalformedHeader,
    /// Not three base64url segments with a JSON header and payload.
    #[error("the token is not a well-formed JWT")]
    Malformed,
    /// The token's `alg` is not the configured one.
    #[error("the token's algorithm is not accepted")]
    WrongAlgorithm,
    /// The token has a `crit` header (no extension is understood).
    #[error("the token has critical header parameters that are not understood")]
    UnsupportedCritical,
    /// The token's `kid` names no configured key.
    #[error("the token's key id matches no configured key")]
    UnknownKeyId,
    /// The signature does not verify.
    #[error("the token's signature is invalid")]
    BadSignature,
    /// `exp` is past.
    #[error("the token has expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iss` is not the configured issuer.
    #[error("the token's issuer is not accepted")]
    WrongIssuer,
    /// `aud` is not the configured audience.
    #[error("the token's audience is not accepted")]
    WrongAudience,
    /// A required claim is absent.
    #[error("the token lacks the `{0}` claim")]
    MissingClaim(String),
    /// A claim has the wrong type or shape.
    #[error("the token's `{0}` claim is malformed")]
    InvalidClaim(String),
    /// `role` is not `editor`, `admin` or `partner`.
    #[error("the token's role is not one of editor, admin, partner")]
    UnknownRole,
    /// A preview token used as an access token, or the reverse.
    #[error("the token is not meant for this use")]
    WrongTokenUse,
    /// The token is longer than [`MAX_TOKEN_BYTES`]; it was not decoded.
    #[error("the token is longer than {MAX_TOKEN_BYTES} bytes")]
    TooLong,
    /// A token lifetime that is zero or negative.
    #[error("the token lifetime must be positive")]
    InvalidTtl,
    /// This server cannot sign tokens of that kind.
    #[error("cannot mint tokens: {0}")]
    CannotMint(&'static str),
    /// Signing failed.
    #[error("signing the token failed")]
    Signing,
}

impl AuthError {
    /// The stable `extensions.code` of a refused request.
    pub fn code(&self) -> &'static str {
        "UNAUTHENTICATED"
    }

    /// The `WWW-Authenticate` challenge answering this error (RFC 6750): visible ASCII and
    /// spaces only, so always a valid header value.
    pub fn www_authenticate(&self) -> String {
        let description: String = self
            .to_string()
            .chars()
            .map(|c| match c {
                '"' | '\\' | '`' => '\'',
                c if c.is_ascii_graphic() || c == ' ' => c,
                _ => '?',
            })
            .collect();
        format!("Bearer error=\"invalid_token\", error_description=\"{description}\"")
    }
}
