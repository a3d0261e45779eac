//! The verifier's settings: algorithms, roles, keys and secrets, and what is wrong with them.

use std::fmt;
use std::str::FromStr;

use jsonwebtoken::{Algorithm, DecodingKey};
use serde::{Deserialize, Serialize};

use super::error::AuthError;
use super::{
    DEFAULT_AUDIENCE, DEFAULT_ISSUER, DEFAULT_LEEWAY_SECS, MAX_LEEWAY_SECS, MIN_SECRET_BYTES,
};

/// The signature algorithm bearer tokens must use, pinned by configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlgorithm {
    /// HMAC-SHA256 with a shared secret.
    Hs256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, verified with an RSA public key.
    Rs256,
    /// Ed25519, verified with an Ed25519 public key.
    EdDsa,
}

impl JwtAlgorithm {
    /// The JOSE name (`HS256`, `RS256`, `EdDSA`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::Rs256 => "RS256",
            Self::EdDsa => "EdDSA",
        }
    }

    pub(super) fn jwt(self) -> Algorithm {
        match self {
            Self::Hs256 => Algorithm::HS256,
            Self::Rs256 => Algorithm::RS256,
            Self::EdDsa => Algorithm::EdDSA,
        }
    }
}

impl fmt::Display for JwtAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JwtAlgorithm {
    type Err = AuthConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "HS256" => Ok(Self::Hs256),
            "RS256" => Ok(Self::Rs256),
            "EDDSA" => Ok(Self::EdDsa),
            _ => Err(AuthConfigError::UnknownAlgorithm(s.to_owned())),
        }
    }
}

/// The role a token grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A newsroom editor.
    Editor,
    /// An administrator.
    Admin,
    /// A syndication partner.
    Partner,
}

impl Role {
    /// The claim value (`editor`, `admin`, `partner`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Editor => "editor",
            Self::Admin => "admin",
            Self::Partner => "partner",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = AuthError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "editor" => Ok(Self::Editor),
            "admin" => Ok(Self::Admin),
            "partner" => Ok(Self::Partner),
            _ => Err(AuthError::UnknownRole),
        }
    }
}

/// How tokens are verified (and, with a secret, minted). Secrets are redacted from `Debug`.
#[derive(Clone)]
pub struct AuthConfig {
    /// The pinned algorithm; `None` infers it: HS256 when a secret is set, else from the public
    /// key's type.
    pub algorithm: Option<JwtAlgorithm>,
    /// HS256 secret (at least [`MIN_SECRET_BYTES`]).
    pub secret: Option<Vec<u8>>,
    /// PEM public key for RS256 or EdDSA.
    pub public_key_pem: Option<Vec<u8>>,
    /// Id of the configured key; a token naming a `kid` must name this one.
    pub kid: Option<String>,
    /// Expected `iss`.
    pub issuer: String,
    /// Expected `aud`.
    pub audience: String,
    /// Clock leeway for `exp` and `nbf`, in seconds (at most [`MAX_LEEWAY_SECS`]).
    pub leeway_secs: u64,
    /// Secret of preview tokens; falls back to `secret`, then to random bytes.
    pub preview_secret: Option<Vec<u8>>,
}

impl Default for AuthConfig {
    /// No key: anonymous reads only, every token refused.
    fn default() -> Self {
        Self {
            algorithm: None,
            secret: None,
            public_key_pem: None,
            kid: None,
            issuer: DEFAULT_ISSUER.to_owned(),
            audience: DEFAULT_AUDIENCE.to_owned(),
            leeway_secs: DEFAULT_LEEWAY_SECS,
            preview_secret: None,
        }
    }
}

impl AuthConfig {
    /// HS256 with `secret`, expecting `issuer` and `audience`, default leeway.
    pub fn hs256(secret: &[u8], issuer: &str, audience: &str) -> Self {
        Self {
            algorithm: Some(JwtAlgorithm::Hs256),
            secret: Some(secret.to_vec()),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ..Self::default()
        }
    }
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field("algorithm", &self.algorithm)
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .field(
                "public_key_pem",
                &self.public_key_pem.as_ref().map(|_| "[set]"),
            )
            .field("kid", &self.kid)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway_secs", &self.leeway_secs)
            .field(
                "preview_secret",
                &self.preview_secret.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// A configuration the server refuses to start with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthConfigError {
    /// The leeway is above [`MAX_LEEWAY_SECS`].
    #[error("the JWT leeway is {0} s; at most {MAX_LEEWAY_SECS} s is allowed")]
    LeewayTooLarge(u64),
    /// An HMAC secret is too short to be safe.
    #[error("{what} is {len} bytes long; use at least {MIN_SECRET_BYTES} random bytes")]
    WeakSecret {
        /// Which secret.
        what: &'static str,
        /// Its length.
        len: usize,
    },
    /// The algorithm needs a key that is not configured.
    #[error("JWT algorithm {algorithm} needs {needs}")]
    MissingKey {
        /// The pinned algorithm.
        algorithm: JwtAlgorithm,
        /// What to configure.
        needs: &'static str,
    },
    /// Both a secret and a public key, and no algorithm saying which verifies tokens.
    #[error(
        "both a JWT secret and a public key are configured; set GAZETTE_JWT_ALGORITHM to say which verifies tokens"
    )]
    Ambiguous,
    /// The public key does not parse as the pinned algorithm's key.
    #[error("the JWT public key is not a valid {algorithm} public key in PEM form: {reason}")]
    BadPublicKey {
        /// The pinned algorithm.
        algorithm: JwtAlgorithm,
        /// The parser's complaint.
        reason: String,
    },
    /// The public key is neither RSA nor Ed25519 (so the algorithm cannot be inferred).
    #[error(
        "the JWT public key is neither an RSA nor an Ed25519 public key in PEM form; set GAZETTE_JWT_ALGORITHM"
    )]
    UnknownPublicKey,
    /// Not HS256, RS256 or EdDSA.
    #[error("unknown JWT algorithm `{0}`; use HS256, RS256 or EdDSA")]
    UnknownAlgorithm(String),
    /// An issuer, audience or key id that is empty.
    #[error("the JWT {0} must not be empty")]
    Empty(&'static str),
    /// No randomness for the per-process preview secret.
    #[error("cannot generate a preview secret: {0}")]
    Random(String),
}

pub(super) fn check_secret(what: &'static str, secret: &[u8]) -> Result<(), AuthConfigError> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(AuthConfigError::WeakSecret {
            what,
            len: secret.len(),
        });
    }
    Ok(())
}

pub(super) fn infer_public_algorithm(pem: &[u8]) -> Result<JwtAlgorithm, AuthConfigError> {
    if DecodingKey::from_ed_pem(pem).is_ok() {
        Ok(JwtAlgorithm::EdDsa)
    } else if DecodingKey::from_rsa_pem(pem).is_ok() {
        Ok(JwtAlgorithm::Rs256)
    } else {
        Err(AuthConfigError::UnknownPublicKey)
    }
}

pub(super) fn public_key(
    algorithm: JwtAlgorithm,
    pem: &[u8],
) -> Result<DecodingKey, AuthConfigError> {
    let parsed = match algorithm {
        JwtAlgorithm::Rs256 => DecodingKey::from_rsa_pem(pem),
        JwtAlgorithm::EdDsa => DecodingKey::from_ed_pem(pem),
        JwtAlgorithm::Hs256 => {
            return Err(AuthConfigError::MissingKey {
                algorithm,
                needs: "a secret (GAZETTE_JWT_SECRET)",
            });
        }
    };
    parsed.map_err(|e| AuthConfigError::BadPublicKey {
        algorithm,
        reason: e.to_string(),
    })
}

pub(super) fn random_secret() -> Result<Vec<u8>, String> {
    let mut secret = vec![0_u8; 32];
    getrandom::fill(&mut secret).map_err(|e| e.to_string())?;
    Ok(secret)
}
