//! Who is calling: the client address and the bearer token's viewer, as extractors every
//! surface (REST, feeds, GraphQL over HTTP, the rate-limit and caching layers) shares.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::response::{IntoResponse, Response};

use super::HttpState;
use crate::ApiError;

/// The caller's address: the connection's, or, behind `trusted_proxy_hops` proxies (a CDN and
/// a load balancer, say), the address those proxies appended to `X-Forwarded-For` (counted from
/// the right, so a client cannot choose its address by sending the header itself). With no
/// trusted proxies (the default) the header is ignored.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    /// The client address of `parts` with `hops` trusted proxies in front.
    pub fn of(parts: &axum::http::request::Parts, hops: usize) -> Self {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
        if hops == 0 {
            return Self(peer);
        }
        // Every proxy appends the address it was reached from; the last `hops` entries were
        // written by ours, and the first of those names the client.
        let forwarded: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        forwarded
            .len()
            .checked_sub(hops)
            .and_then(|i| forwarded.get(i))
            .and_then(|a| a.parse().ok())
            .map_or(Self(peer), Self)
    }
}

impl axum::extract::FromRequestParts<HttpState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        http: &HttpState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::of(parts, http.app.config().trusted_proxy_hops))
    }
}

/// The outcome of verifying a request's bearer token, worked out once per request. The
/// rate-limit layer verifies the token to find whose budget to charge and leaves the outcome
/// here as a request extension, so the handler does not verify the same signature again; a
/// route the layer skips verifies it when extracting this.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Result<gazette_domain::Viewer, crate::AuthError>);

impl Authenticated {
    /// The outcome the layer left on `parts`, or a fresh verification of its headers.
    pub fn of(
        parts: &axum::http::request::Parts,
        http: &HttpState,
    ) -> Result<gazette_domain::Viewer, crate::AuthError> {
        match parts.extensions.get::<Self>() {
            Some(done) => done.0.clone(),
            None => crate::auth::authenticate(http.app.auth(), &parts.headers),
        }
    }
}

impl axum::extract::FromRequestParts<HttpState> for Authenticated {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        http: &HttpState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(Self::of(parts, http)))
    }
}

/// The caller of a REST or feed request, as its `Authorization` header names it: anonymous
/// without one. A present but invalid token is refused with 401 and a `WWW-Authenticate`
/// challenge (problem body), never served as anonymous.
#[derive(Debug, Clone)]
pub struct Caller(pub gazette_domain::Viewer);

impl axum::extract::FromRequestParts<HttpState> for Caller {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        http: &HttpState,
    ) -> Result<Self, Self::Rejection> {
        Authenticated::of(parts, http).map(Self).map_err(|error| {
            tracing::debug!(error = %error, "bearer token refused");
            let challenge = crate::auth::challenge(&error);
            let mut response = ApiError::Unauthenticated(error.to_string()).into_response();
            response
                .headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, challenge);
            response
        })
    }
}
