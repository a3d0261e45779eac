//! The HTTP glue of `gazette-auth`: the `Authorization` header in, the `WWW-Authenticate`
//! challenge out. Verification, roles and preview tokens are `gazette-auth`'s.

use axum::http::{HeaderMap, HeaderValue, header};
use gazette_domain::Viewer;

pub use gazette_auth::*;

/// The caller named by the request's `Authorization` header: anonymous without one.
pub fn authenticate(auth: &Authenticator, headers: &HeaderMap) -> Result<Viewer, AuthError> {
    auth.authenticate(headers.get_all(header::AUTHORIZATION))
}

/// The `WWW-Authenticate` challenge answering `error` (RFC 6750).
pub fn challenge(error: &AuthError) -> HeaderValue {
    HeaderValue::from_str(&error.www_authenticate())
        .unwrap_or_else(|_| HeaderValue::from_static("Bearer error=\"invalid_token\""))
}
