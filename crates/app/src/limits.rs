//! Rate limits, decided: one budget per syndication partner (the token's subject) and one per
//! address for anonymous callers, each a GCRA bucket (`governor`), so one client's flood is
//! refused at the door and never spends another client's budget. Staff are not limited. The
//! HTTP layer (in the adapters) asks [`RateLimits::check`] and writes the [`Decision`] as
//! `429` and `RateLimit-*` headers.
//!
//! The budgets are per process unless a Redis is configured ([`RedisConfig`]): then every node
//! naming it counts the same budgets there ([`shared`]), and a node whose Redis does not
//! answer in time counts in its own memory until it does (never an error for the client).

mod shared;

pub use shared::RedisConfig;

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use gazette_domain::Viewer;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

/// One budget: requests per second, and the burst allowed above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Sustained requests per second (0: unlimited).
    pub per_second: u32,
    /// Requests allowed at once above the sustained rate.
    pub burst: u32,
}

/// The budgets of [`RateLimits`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Each anonymous address.
    pub anonymous: Rate,
    /// Each partner (token subject).
    pub partner: Rate,
    /// Count the budgets in this Redis, shared by every node naming it (`None`: per process).
    pub redis: Option<RedisConfig>,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            anonymous: Rate {
                per_second: 50,
                burst: 200,
            },
            partner: Rate {
                per_second: 100,
                burst: 400,
            },
            redis: None,
        }
    }
}

type Limiter<K> =
    RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// A keyed limiter for one kind of client.
struct Budget<K: Hash + Eq + Clone> {
    limiter: Limiter<K>,
    limit: u32,
    per_second: u32,
}

impl<K: Hash + Eq + Clone> Budget<K> {
    fn new(rate: Rate) -> Option<Self> {
        let per_second = NonZeroU32::new(rate.per_second)?;
        let burst = NonZeroU32::new(rate.burst.max(rate.per_second)).unwrap_or(per_second);
        Some(Self {
            limiter: RateLimiter::dashmap(Quota::per_second(per_second).allow_burst(burst))
                .with_middleware::<StateInformationMiddleware>(),
            limit: burst.get(),
            per_second: per_second.get(),
        })
    }

    /// Counts `client` in the shared budgets; `None` when Redis did not answer.
    async fn check_shared(
        &self,
        shared: &shared::SharedBudgets,
        kind: &str,
        client: &str,
    ) -> Option<Decision> {
        Some(
            match shared
                .check(kind, client, self.per_second, self.limit)
                .await?
            {
                shared::Outcome::Allowed { remaining, reset } => Decision::Allowed {
                    limit: self.limit,
                    remaining,
                    reset_secs: reset.as_secs() + u64::from(reset.subsec_nanos() > 0),
                },
                shared::Outcome::Refused { retry_after } => Decision::Refused {
                    limit: self.limit,
                    retry_after,
                },
            },
        )
    }

    fn check(&self, key: &K) -> Decision {
        match self.limiter.check_key(key) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                Decision::Allowed {
                    limit: self.limit,
                    remaining,
                    // Seconds until the bucket is full again.
                    reset_secs: u64::from(self.limit - remaining.min(self.limit))
                        .div_ceil(u64::from(self.per_second)),
                }
            }
            Err(not_until) => Decision::Refused {
                limit: self.limit,
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            },
        }
    }
}

/// The answer to one request's check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Served: `remaining` of `limit` are left, and the bucket is full again in `reset_secs`.
    Allowed {
        /// The burst.
        limit: u32,
        /// Requests left at once.
        remaining: u32,
        /// Seconds until the bucket is full again.
        reset_secs: u64,
    },
    /// Refused: the next request is allowed in `retry_after`.
    Refused {
        /// The burst.
        limit: u32,
        /// How long until a request is allowed.
        retry_after: Duration,
    },
}

/// The per-client budgets, shared by every request.
#[derive(Clone)]
pub struct RateLimits {
    inner: Arc<Inner>,
}

struct Inner {
    anonymous: Option<Budget<IpAddr>>,
    partner: Option<Budget<String>>,
    shared: Option<shared::SharedBudgets>,
    checks: AtomicU64,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits").finish_non_exhaustive()
    }
}

impl RateLimits {
    /// Budgets as configured (a rate of 0 switches that kind of limit off); with a Redis,
    /// counted there (it is connected to on first use; see [`RedisConfig::new`] for the URL's
    /// check).
    pub fn new(config: &RateLimitConfig) -> Self {
        let shared = config.redis.as_ref().and_then(|redis| {
            shared::SharedBudgets::new(redis)
                .inspect_err(|error| {
                    tracing::error!(%error, "rate limits are counted per process");
                })
                .ok()
        });
        Self {
            inner: Arc::new(Inner {
                anonymous: Budget::new(config.anonymous),
                partner: Budget::new(config.partner),
                shared,
                checks: AtomicU64::new(0),
            }),
        }
    }

    /// Counts one request of `viewer` from `address`: `None` when it is not limited (staff, or
    /// that kind of limit is off).
    pub async fn check(&self, viewer: &Viewer, address: IpAddr) -> Option<Decision> {
        if let Some(shared) = &self.inner.shared {
            let counted = match viewer {
                Viewer::Editor { .. } | Viewer::Admin { .. } => return None,
                Viewer::Partner { sub, .. } => match &self.inner.partner {
                    Some(budget) => budget.check_shared(shared, "partner", sub).await,
                    None => return None,
                },
                Viewer::Anonymous => match &self.inner.anonymous {
                    Some(budget) => {
                        let client = crate::views::client_key(address).to_string();
                        budget.check_shared(shared, "anon", &client).await
                    }
                    None => return None,
                },
            };
            if counted.is_some() {
                return counted;
            }
            crate::metrics::rate_limit_fallback();
        }
        self.check_local(viewer, address)
    }

    /// This process's own count.
    fn check_local(&self, viewer: &Viewer, address: IpAddr) -> Option<Decision> {
        // Forget idle clients now and then so the key maps stay small.
        if self.inner.checks.fetch_add(1, Ordering::Relaxed) % 8192 == 8191 {
            if let Some(budget) = &self.inner.anonymous {
                budget.limiter.retain_recent();
            }
            if let Some(budget) = &self.inner.partner {
                budget.limiter.retain_recent();
            }
        }
        match viewer {
            Viewer::Editor { .. } | Viewer::Admin { .. } => None,
            Viewer::Partner { sub, .. } => self.inner.partner.as_ref().map(|b| b.check(sub)),
            // An IPv6 client is one network: its /64, like the view beacon's rules.
            Viewer::Anonymous => self
                .inner
                .anonymous
                .as_ref()
                .map(|b| b.check(&crate::views::client_key(address))),
        }
    }
}
