//! Bearer-token authentication (JWT) and article preview tokens.
//!
//! An [`Authenticator`] is built once from an [`AuthConfig`] and turns the `Authorization`
//! header of a request into a [`Viewer`]:
//!
//! - no header: [`Viewer::Anonymous`];
//! - `Bearer <jwt>` that verifies: the editor, admin or partner it names;
//! - anything else (a token that fails any check, another scheme, an empty `Bearer`): an
//!   [`AuthError`], which the HTTP layer answers with 401. A bad token never falls back to
//!   anonymous access.
//!
//! The algorithm is pinned by configuration (HS256 with a secret, RS256 or EdDSA with a public
//! key PEM), never read from the token. Every token must carry `exp`, `iss`, `aud` and `sub`;
//! issuer and audience must match; `nbf` is checked when present; the clock leeway is at most
//! [`MAX_LEEWAY_SECS`]. A `crit` header is refused (no extension is understood), a `kid` must
//! name a configured key, and `jku`/`jwk`/`x5u` headers are never used.
//!
//! Preview tokens ([`Authenticator::mint_preview`], [`Authenticator::verify_preview`]) let a
//! frontend render one version of one draft without an editor token. They are HS256 tokens
//! with their own secret, audience (`<audience>:preview`), `typ` header and `use` claim, so a
//! preview token is never accepted as an access token and an access token never as a preview.

mod config;
mod error;
mod preview;
mod token;

pub use config::{AuthConfig, AuthConfigError, JwtAlgorithm, Role};
pub use error::AuthError;
pub use preview::PreviewGrant;
pub use token::AccessClaims;

use config::{check_secret, infer_public_algorithm, public_key, random_secret};
use preview::PreviewKeys;
use token::{RawHeader, access_validation, bearer_token, map_jwt_error, viewer_from_claims};

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use gazette_domain::Viewer;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value};

/// Default expected `iss` claim.
pub const DEFAULT_ISSUER: &str = "gazette";
/// Default expected `aud` claim.
pub const DEFAULT_AUDIENCE: &str = "gazette-api";
/// Default clock leeway for `exp` and `nbf`, in seconds.
pub const DEFAULT_LEEWAY_SECS: u64 = 5;
/// Largest clock leeway accepted by configuration, in seconds.
pub const MAX_LEEWAY_SECS: u64 = 30;
/// Shortest HMAC secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;
/// Longest lifetime of a preview token; longer requests are capped to it.
pub const MAX_PREVIEW_TTL: TimeDelta = TimeDelta::hours(24);
/// Longest token (bearer or preview) looked at, in bytes. Real tokens are well under 2 KiB
/// (an RS256 token with a dozen claims is about 1 KiB); a longer one is refused before it is
/// decoded or verified, so a padded token cannot buy CPU time.
pub const MAX_TOKEN_BYTES: usize = 4096;

/// The `typ` header of preview tokens.
const PREVIEW_TYP: &str = "gazette-preview+jwt";
/// The `use` claim of preview tokens.
const PREVIEW_USE: &str = "preview";
/// Claims every token must carry.
const REQUIRED_CLAIMS: [&str; 4] = ["exp", "iss", "aud", "sub"];

/// Verifies bearer tokens and signs and verifies preview tokens. Cheap to clone.
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
}

struct Inner {
    /// `None`: no key configured, every token refused.
    algorithm: Option<JwtAlgorithm>,
    keys: Vec<VerifyKey>,
    /// HS256 signing key for `mint`, when the pinned algorithm is HS256.
    signing: Option<EncodingKey>,
    kid: Option<String>,
    validation: Validation,
    issuer: String,
    audience: String,
    leeway_secs: u64,
    preview: Option<PreviewKeys>,
    warnings: Vec<String>,
}

struct VerifyKey {
    kid: Option<String>,
    key: DecodingKey,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("algorithm", &self.inner.algorithm)
            .field("kid", &self.inner.kid)
            .field("issuer", &self.inner.issuer)
            .field("audience", &self.inner.audience)
            .field("leeway_secs", &self.inner.leeway_secs)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Builds the verifier; refuses unsafe or contradictory settings.
    pub fn new(config: AuthConfig) -> Result<Self, AuthConfigError> {
        if config.leeway_secs > MAX_LEEWAY_SECS {
            return Err(AuthConfigError::LeewayTooLarge(config.leeway_secs));
        }
        if config.issuer.trim().is_empty() {
            return Err(AuthConfigError::Empty("issuer"));
        }
        if config.audience.trim().is_empty() {
            return Err(AuthConfigError::Empty("audience"));
        }
        if config.kid.as_deref().is_some_and(|k| k.trim().is_empty()) {
            return Err(AuthConfigError::Empty("key id"));
        }
        let secret = config.secret.as_deref().filter(|s| !s.is_empty());
        if let Some(secret) = secret {
            check_secret("GAZETTE_JWT_SECRET", secret)?;
        }
        let public_pem = config.public_key_pem.as_deref().filter(|s| !s.is_empty());
        let algorithm = match (config.algorithm, secret, public_pem) {
            (Some(algorithm), _, _) => Some(algorithm),
            (None, Some(_), Some(_)) => return Err(AuthConfigError::Ambiguous),
            (None, Some(_), None) => Some(JwtAlgorithm::Hs256),
            (None, None, Some(pem)) => Some(infer_public_algorithm(pem)?),
            (None, None, None) => None,
        };
        let mut warnings = Vec::new();
        let (key, signing) = match algorithm {
            None => {
                warnings.push(
                    "no JWT verification key is configured (GAZETTE_JWT_SECRET or \
                     GAZETTE_JWT_PUBLIC_KEY): serving anonymous readers only; every bearer \
                     token will be refused"
                        .to_owned(),
                );
                (None, None)
            }
            Some(JwtAlgorithm::Hs256) => {
                let secret = secret.ok_or(AuthConfigError::MissingKey {
                    algorithm: JwtAlgorithm::Hs256,
                    needs: "a secret (GAZETTE_JWT_SECRET)",
                })?;
                (
                    Some(DecodingKey::from_secret(secret).map_err(|_| {
                        AuthConfigError::WeakSecret {
                            what: "GAZETTE_JWT_SECRET",
                            len: secret.len(),
                        }
                    })?),
                    EncodingKey::from_secret(secret).ok(),
                )
            }
            Some(algorithm @ (JwtAlgorithm::Rs256 | JwtAlgorithm::EdDsa)) => {
                let pem = public_pem.ok_or(AuthConfigError::MissingKey {
                    algorithm,
                    needs: "a public key PEM file (GAZETTE_JWT_PUBLIC_KEY)",
                })?;
                (Some(public_key(algorithm, pem)?), None)
            }
        };
        let keys = key
            .map(|key| VerifyKey {
                kid: config.kid.clone(),
                key,
            })
            .into_iter()
            .collect();
        let validation = algorithm.map_or_else(
            || Validation::new(Algorithm::HS256),
            |algorithm| {
                access_validation(
                    algorithm,
                    &config.issuer,
                    &config.audience,
                    config.leeway_secs,
                )
            },
        );

        let preview_secret = match (config.preview_secret.as_deref(), secret) {
            (Some(preview), _) if !preview.is_empty() => {
                check_secret("GAZETTE_PREVIEW_SECRET", preview)?;
                preview.to_vec()
            }
            (_, Some(secret)) => secret.to_vec(),
            _ => {
                warnings.push(
                    "no preview secret is configured (GAZETTE_PREVIEW_SECRET or \
                     GAZETTE_JWT_SECRET): preview tokens are signed with a random key and are \
                     valid only in this process"
                        .to_owned(),
                );
                random_secret().map_err(AuthConfigError::Random)?
            }
        };
        let preview = PreviewKeys::new(
            &preview_secret,
            &config.issuer,
            &config.audience,
            config.leeway_secs,
        );
        Ok(Self {
            inner: Arc::new(Inner {
                algorithm,
                keys,
                signing,
                kid: config.kid,
                validation,
                issuer: config.issuer,
                audience: config.audience,
                leeway_secs: config.leeway_secs,
                preview,
                warnings,
            }),
        })
    }

    /// No key: anonymous readers only, every token refused; preview tokens signed with a
    /// random per-process key.
    pub fn disabled() -> Self {
        let config = AuthConfig::default();
        let preview = random_secret().ok().and_then(|secret| {
            PreviewKeys::new(
                &secret,
                &config.issuer,
                &config.audience,
                config.leeway_secs,
            )
        });
        Self {
            inner: Arc::new(Inner {
                algorithm: None,
                keys: Vec::new(),
                signing: None,
                kid: None,
                validation: Validation::new(Algorithm::HS256),
                issuer: config.issuer,
                audience: config.audience,
                leeway_secs: config.leeway_secs,
                preview,
                warnings: Vec::new(),
            }),
        }
    }

    /// What the operator should know about this configuration (logged at startup).
    pub fn startup_warnings(&self) -> &[String] {
        &self.inner.warnings
    }

    /// The pinned algorithm, or `None` when no key is configured.
    pub fn algorithm(&self) -> Option<JwtAlgorithm> {
        self.inner.algorithm
    }

    /// The expected `iss`.
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The expected `aud`.
    pub fn audience(&self) -> &str {
        &self.inner.audience
    }

    /// The caller named by a request's `Authorization` header values (raw bytes, as sent):
    /// anonymous without one, refused when there are several.
    pub fn authenticate<V: AsRef<[u8]>>(
        &self,
        authorization: impl IntoIterator<Item = V>,
    ) -> Result<Viewer, AuthError> {
        let mut values = authorization.into_iter();
        let Some(value) = values.next() else {
            return Ok(Viewer::Anonymous);
        };
        if values.next().is_some() {
            return Err(AuthError::MalformedHeader);
        }
        let token = bearer_token(value.as_ref())?;
        self.verify_access(token)
    }

    /// Verifies an access token (the part after `Bearer `) and returns who it names.
    pub fn verify_access(&self, token: &str) -> Result<Viewer, AuthError> {
        let Some(algorithm) = self.inner.algorithm else {
            return Err(AuthError::NotConfigured);
        };
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::TooLong);
        }
        let raw = RawHeader::parse(token)?;
        if raw.alg != algorithm.as_str() {
            return Err(AuthError::WrongAlgorithm);
        }
        if raw.typ.as_deref() == Some(PREVIEW_TYP) {
            return Err(AuthError::WrongTokenUse);
        }
        let key = self.key_for(raw.kid.as_deref())?;
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, key, &self.inner.validation)
            .map_err(map_jwt_error)?
            .claims;
        viewer_from_claims(&claims)
    }

    fn key_for(&self, kid: Option<&str>) -> Result<&DecodingKey, AuthError> {
        let keys = &self.inner.keys;
        let found = match kid {
            Some(kid) => keys.iter().find(|k| k.kid.as_deref() == Some(kid)),
            None if keys.len() == 1 => keys.first(),
            None => None,
        };
        found.map(|k| &k.key).ok_or(AuthError::UnknownKeyId)
    }

    /// Access-token claims for `role` and `sub`, valid for `ttl` from `now`, with this
    /// server's issuer and audience.
    pub fn access_claims(
        &self,
        role: Role,
        sub: &str,
        scopes: Vec<String>,
        ttl: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<AccessClaims, AuthError> {
        if ttl <= TimeDelta::zero() {
            return Err(AuthError::InvalidTtl);
        }
        if sub.trim().is_empty() {
            return Err(AuthError::InvalidClaim("sub".to_owned()));
        }
        let exp = now
            .checked_add_signed(ttl)
            .ok_or(AuthError::InvalidTtl)?
            .timestamp();
        Ok(AccessClaims {
            sub: sub.to_owned(),
            role,
            scope: scopes,
            iss: self.inner.issuer.clone(),
            aud: self.inner.audience.clone(),
            iat: now.timestamp(),
            nbf: None,
            exp,
        })
    }

    /// Signs `claims` as an HS256 access token (with the configured `kid`, if any). Needs the
    /// HS256 secret: a server verifying RS256 or EdDSA holds no private key.
    pub fn mint(&self, claims: &AccessClaims) -> Result<String, AuthError> {
        let key = match (self.inner.algorithm, &self.inner.signing) {
            (Some(JwtAlgorithm::Hs256), Some(key)) => key,
            (None, _) => {
                return Err(AuthError::CannotMint(
                    "no JWT secret is configured; set GAZETTE_JWT_SECRET",
                ));
            }
            _ => {
                return Err(AuthError::CannotMint(
                    "tokens are verified with a public key; only an HS256 secret can mint here",
                ));
            }
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid.clone_from(&self.inner.kid);
        jsonwebtoken::encode(&header, claims, key).map_err(|_| AuthError::Signing)
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;
    use uuid::Uuid;

    use super::*;

    const SECRET: &[u8] = b"unit-test-secret-0123456789abcdef-0123";

    fn auth() -> Authenticator {
        Authenticator::new(AuthConfig::hs256(SECRET, "iss-test", "aud-test")).expect("config")
    }

    fn sign(claims: &Value) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(SECRET).expect("key"),
        )
        .expect("sign")
    }

    fn claims(role: &str) -> Value {
        let now = Utc::now().timestamp();
        json!({ "sub": "alice", "role": role, "iss": "iss-test", "aud": "aud-test",
                "iat": now, "exp": now + 600 })
    }

    /// The `Authorization` header values of a request with one bearer token.
    fn bearer(token: &str) -> Vec<String> {
        vec![format!("Bearer {token}")]
    }

    #[test]
    fn no_header_is_anonymous() {
        assert_eq!(auth().authenticate(None::<&[u8]>), Ok(Viewer::Anonymous));
        assert_eq!(
            Authenticator::disabled().authenticate(None::<&[u8]>),
            Ok(Viewer::Anonymous)
        );
    }

    #[test]
    fn roles_map_to_viewers() {
        let auth = auth();
        assert_eq!(
            auth.verify_access(&sign(&claims("editor"))),
            Ok(Viewer::Editor {
                sub: "alice".into()
            })
        );
        assert_eq!(
            auth.verify_access(&sign(&claims("admin"))),
            Ok(Viewer::Admin {
                sub: "alice".into()
            })
        );
        assert_eq!(
            auth.verify_access(&sign(&claims("partner"))),
            Ok(Viewer::Partner {
                sub: "alice".into(),
                scopes: vec![]
            })
        );
        assert_eq!(
            auth.verify_access(&sign(&claims("Editor"))),
            Err(AuthError::UnknownRole)
        );
        assert_eq!(
            auth.verify_access(&sign(&claims("root"))),
            Err(AuthError::UnknownRole)
        );
    }

    #[test]
    fn scope_as_list_or_space_separated_string() {
        let auth = auth();
        let mut list = claims("partner");
        list["scope"] = json!(["syndication", "feeds", "syndication"]);
        let mut spaced = claims("partner");
        spaced["scope"] = json!("syndication  feeds");
        let expected = Ok(Viewer::Partner {
            sub: "alice".into(),
            scopes: vec!["syndication".into(), "feeds".into()],
        });
        assert_eq!(auth.verify_access(&sign(&list)), expected);
        assert_eq!(auth.verify_access(&sign(&spaced)), expected);
        for bad in [json!(3), json!([1]), json!(["two words"]), json!({})] {
            let mut c = claims("partner");
            c["scope"] = bad;
            assert_eq!(
                auth.verify_access(&sign(&c)),
                Err(AuthError::InvalidClaim("scope".into()))
            );
        }
    }

    #[test]
    fn role_and_sub_shapes() {
        let auth = auth();
        let mut no_role = claims("editor");
        no_role.as_object_mut().map(|c| c.remove("role"));
        assert_eq!(
            auth.verify_access(&sign(&no_role)),
            Err(AuthError::MissingClaim("role".into()))
        );
        let mut numeric_role = claims("editor");
        numeric_role["role"] = json!(1);
        assert_eq!(
            auth.verify_access(&sign(&numeric_role)),
            Err(AuthError::InvalidClaim("role".into()))
        );
        let mut blank_sub = claims("editor");
        blank_sub["sub"] = json!("  ");
        assert_eq!(
            auth.verify_access(&sign(&blank_sub)),
            Err(AuthError::InvalidClaim("sub".into()))
        );
        for claim in ["exp", "iss", "aud", "sub"] {
            let mut c = claims("editor");
            c.as_object_mut().map(|c| c.remove(claim));
            assert_eq!(
                auth.verify_access(&sign(&c)),
                Err(AuthError::MissingClaim(claim.into())),
                "{claim}"
            );
        }
    }

    #[test]
    fn authorization_header_shapes() {
        let auth = auth();
        let token = sign(&claims("editor"));
        for value in [
            "Basic YWxpY2U6c2VjcmV0".to_owned(),
            "Bearer".to_owned(),
            "Bearer ".to_owned(),
            format!("Token {token}"),
            format!("Bearer {token} extra"),
            String::new(),
        ] {
            assert_eq!(
                auth.authenticate([&value]),
                Err(AuthError::MalformedHeader),
                "{value:?}"
            );
        }
        assert!(auth.authenticate([format!("bearer {token}")]).is_ok());
        let mut twice = bearer(&token);
        twice.push(format!("Bearer {token}"));
        assert_eq!(auth.authenticate(&twice), Err(AuthError::MalformedHeader));
        assert_eq!(
            auth.authenticate([b"Bearer \xff".as_slice()]),
            Err(AuthError::MalformedHeader)
        );
    }

    #[test]
    fn crit_and_kid_headers() {
        let auth = auth();
        let mut header = Header::new(Algorithm::HS256);
        header.crit = Some(vec!["b64".into()]);
        header.extras.insert("b64", true);
        let key = EncodingKey::from_secret(SECRET).expect("key");
        let token = jsonwebtoken::encode(&header, &claims("editor"), &key).expect("sign");
        assert_eq!(
            auth.verify_access(&token),
            Err(AuthError::UnsupportedCritical)
        );

        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("other".into());
        let token = jsonwebtoken::encode(&header, &claims("editor"), &key).expect("sign");
        assert_eq!(auth.verify_access(&token), Err(AuthError::UnknownKeyId));

        let keyed = Authenticator::new(AuthConfig {
            kid: Some("k1".into()),
            ..AuthConfig::hs256(SECRET, "iss-test", "aud-test")
        })
        .expect("config");
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        let token = jsonwebtoken::encode(&header, &claims("editor"), &key).expect("sign");
        assert!(keyed.verify_access(&token).is_ok());
        assert_eq!(
            keyed.verify_access(&sign(&claims("editor"))).map(|_| ()),
            Ok(()),
            "a token without kid uses the only key"
        );
        // What `mint` signs carries the configured kid and verifies.
        let minted = keyed
            .mint(
                &keyed
                    .access_claims(
                        Role::Admin,
                        "root",
                        vec![],
                        TimeDelta::minutes(5),
                        Utc::now(),
                    )
                    .expect("claims"),
            )
            .expect("mint");
        assert_eq!(
            jsonwebtoken::decode_header(&minted)
                .expect("header")
                .kid
                .as_deref(),
            Some("k1")
        );
        assert_eq!(
            keyed.verify_access(&minted),
            Ok(Viewer::Admin { sub: "root".into() })
        );
    }

    #[test]
    fn garbage_and_alg_none() {
        let auth = auth();
        assert_eq!(auth.verify_access("garbage"), Err(AuthError::Malformed));
        assert_eq!(auth.verify_access("a.b.c"), Err(AuthError::Malformed));
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims("admin").to_string());
        assert_eq!(
            auth.verify_access(&format!("{header}.{payload}.")),
            Err(AuthError::WrongAlgorithm)
        );
    }

    #[test]
    fn config_limits() {
        let config = |f: fn(&mut AuthConfig)| {
            let mut c = AuthConfig::hs256(SECRET, "iss", "aud");
            f(&mut c);
            Authenticator::new(c).map(|_| ())
        };
        assert_eq!(
            config(|c| c.leeway_secs = 31),
            Err(AuthConfigError::LeewayTooLarge(31))
        );
        assert_eq!(config(|c| c.leeway_secs = 30), Ok(()));
        assert!(matches!(
            config(|c| c.secret = Some(b"short".to_vec())),
            Err(AuthConfigError::WeakSecret { len: 5, .. })
        ));
        assert_eq!(
            config(|c| c.issuer = String::new()),
            Err(AuthConfigError::Empty("issuer"))
        );
        assert!(matches!(
            config(|c| c.algorithm = Some(JwtAlgorithm::Rs256)),
            Err(AuthConfigError::MissingKey { .. })
        ));
        assert_eq!(
            config(|c| {
                c.algorithm = None;
                c.public_key_pem = Some(b"not a key".to_vec());
            }),
            Err(AuthConfigError::Ambiguous)
        );
        assert_eq!("eddsa".parse::<JwtAlgorithm>(), Ok(JwtAlgorithm::EdDsa));
        assert!("none".parse::<JwtAlgorithm>().is_err());
    }

    #[test]
    fn no_key_refuses_tokens_and_warns() {
        let auth = Authenticator::new(AuthConfig::default()).expect("config");
        assert_eq!(auth.algorithm(), None);
        assert_eq!(
            auth.authenticate(bearer(&sign(&claims("editor")))),
            Err(AuthError::NotConfigured)
        );
        let warnings = auth.startup_warnings().join("\n");
        assert!(warnings.contains("no JWT verification key"), "{warnings}");
        assert!(warnings.contains("preview tokens"), "{warnings}");
        assert!(matches!(
            auth.mint(&AccessClaims {
                sub: "a".into(),
                role: Role::Editor,
                scope: vec![],
                iss: "gazette".into(),
                aud: "gazette-api".into(),
                iat: 0,
                nbf: None,
                exp: 1,
            }),
            Err(AuthError::CannotMint(_))
        ));
        // Preview tokens still work, with the per-process key.
        let now = Utc::now();
        let token = auth
            .mint_preview("alice", Uuid::now_v7(), 1, TimeDelta::minutes(5), now)
            .expect("mint");
        assert!(auth.verify_preview(&token, now).is_ok());
        assert_eq!(auth.startup_warnings().len(), 2);
        assert!(self::auth().startup_warnings().is_empty());
    }

    #[test]
    fn preview_round_trip_and_expiry() {
        let auth = auth();
        let now = Utc::now();
        let article = Uuid::now_v7();
        let token = auth
            .mint_preview("alice", article, 7, TimeDelta::minutes(30), now)
            .expect("mint");
        let grant = auth.verify_preview(&token, now).expect("verify");
        assert_eq!(grant.article_id, article);
        assert_eq!(grant.version, 7);
        assert_eq!(grant.editor, "alice");
        assert_eq!(
            grant.expires_at.timestamp(),
            (now + TimeDelta::minutes(30)).timestamp()
        );
        assert_eq!(
            auth.verify_preview(&token, now + TimeDelta::minutes(31)),
            Err(AuthError::Expired)
        );
        assert_eq!(
            auth.verify_preview(&token, now - TimeDelta::minutes(1)),
            Err(AuthError::NotYetValid)
        );
        // Capped at 24 h.
        let long = auth
            .mint_preview("alice", article, 7, TimeDelta::days(30), now)
            .expect("mint");
        let grant = auth.verify_preview(&long, now).expect("verify");
        assert_eq!(
            grant.expires_at.timestamp(),
            (now + MAX_PREVIEW_TTL).timestamp()
        );
        assert_eq!(
            auth.mint_preview("alice", article, 7, TimeDelta::zero(), now),
            Err(AuthError::InvalidTtl)
        );
        // Another server's preview secret does not verify.
        let other = Authenticator::new(AuthConfig {
            preview_secret: Some(b"another-preview-secret-0123456789abcdef".to_vec()),
            ..AuthConfig::hs256(SECRET, "iss-test", "aud-test")
        })
        .expect("config");
        assert_eq!(
            other.verify_preview(&token, now),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn preview_and_access_tokens_do_not_cross() {
        // Same secret for both: only the token's use tells them apart.
        let auth = auth();
        let now = Utc::now();
        let preview = auth
            .mint_preview("alice", Uuid::now_v7(), 1, TimeDelta::minutes(5), now)
            .expect("mint");
        assert_eq!(auth.verify_access(&preview), Err(AuthError::WrongTokenUse));
        assert_eq!(
            auth.authenticate(bearer(&preview)),
            Err(AuthError::WrongTokenUse)
        );
        let access = sign(&claims("editor"));
        assert_eq!(
            auth.verify_preview(&access, now),
            Err(AuthError::WrongTokenUse)
        );
        // Even with the preview typ forged onto an access token, audience and use differ.
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(PREVIEW_TYP.into());
        let forged = jsonwebtoken::encode(
            &header,
            &claims("editor"),
            &EncodingKey::from_secret(SECRET).expect("key"),
        )
        .expect("sign");
        assert_eq!(
            auth.verify_preview(&forged, now),
            Err(AuthError::WrongAudience)
        );
        // A preview token without the typ header is still refused as an access token.
        let mut preview_claims = claims("editor");
        preview_claims["use"] = json!("preview");
        assert_eq!(
            auth.verify_access(&sign(&preview_claims)),
            Err(AuthError::WrongTokenUse)
        );
    }

    #[test]
    fn www_authenticate_is_a_valid_challenge() {
        let value = AuthError::MissingClaim("exp".into()).www_authenticate();
        assert_eq!(
            value,
            "Bearer error=\"invalid_token\", error_description=\"the token lacks the 'exp' claim\""
        );
        for error in [
            AuthError::NotConfigured,
            AuthError::MalformedHeader,
            AuthError::Expired,
        ] {
            let text = error.www_authenticate();
            assert!(
                text.bytes().all(|b| b == b' ' || b.is_ascii_graphic()),
                "{text}"
            );
            assert!(text.starts_with("Bearer error=\"invalid_token\""), "{text}");
        }
    }
}
