//! Budgets counted in Redis, shared by every node that names the same Redis: the same GCRA
//! (generic cell rate algorithm) `governor` runs in memory, as one Lua script, so a check is
//! one atomic round trip and needs only one key per client (its theoretical arrival time,
//! expiring once the client's bucket is full again).
//!
//! Every call has a short deadline. When Redis does not answer in time (or refuses), the
//! caller falls back to this process's own budget, and Redis is left alone for a moment
//! before it is tried again, so an outage costs no request more than one deadline.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// How long Redis is left alone after it failed to answer.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// GCRA over one key. `ARGV[1]`: microseconds between requests at the sustained rate;
/// `ARGV[2]`: the burst. Answers `{1, remaining, µs until the bucket is full}` or
/// `{0, 0, µs until a request is allowed}`. Time is Redis's own, so nodes' clocks never mix.
const GCRA: &str = r"
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - interval * burst
if allow_at > now then
  return {0, 0, allow_at - now}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return {1, math.floor((now - allow_at) / interval), new_tat - now}
";

/// Where the shared budgets are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// `redis://host:port/db` (a password as `redis://:secret@host`).
    pub url: String,
    /// Prefix of every key (several deployments, or tests, may share one Redis).
    pub key_prefix: String,
    /// Longest a check waits for Redis before the process's own budget answers.
    pub timeout: Duration,
}

impl RedisConfig {
    /// Checked settings: a URL the Redis client understands (`redis://…`; not connected to
    /// here), a prefix, and a timeout from 1 ms to 10 s.
    pub fn new(url: &str, key_prefix: &str, timeout: Duration) -> Result<Self, String> {
        redis::Client::open(url)
            .map_err(|e| format!("GAZETTE_REDIS_URL is not a Redis URL: {e}"))?;
        if key_prefix.is_empty() || key_prefix.len() > 100 {
            return Err("GAZETTE_REDIS_PREFIX must be 1 to 100 bytes".to_owned());
        }
        if timeout.is_zero() || timeout > Duration::from_secs(10) {
            return Err("GAZETTE_REDIS_TIMEOUT_MS must be from 1 to 10000".to_owned());
        }
        Ok(Self {
            url: url.to_owned(),
            key_prefix: key_prefix.to_owned(),
            timeout,
        })
    }
}

/// What Redis said about one request.
pub(super) enum Outcome {
    /// Counted: what is left, and seconds until the bucket is full again.
    Allowed { remaining: u32, reset: Duration },
    /// Over budget: when a request will be allowed again.
    Refused { retry_after: Duration },
}

/// The shared budgets' connection and health.
pub(super) struct SharedBudgets {
    connection: ConnectionManager,
    script: redis::Script,
    prefix: String,
    timeout: Duration,
    /// Set while Redis is left alone after a failure (until then, checks answer `None` at
    /// once); `Some` also means the outage has been logged.
    resting_until: Mutex<Option<Instant>>,
}

impl SharedBudgets {
    /// Budgets in the Redis of `config`. Connects lazily: a Redis that is down at start only
    /// means the process's own budgets answer until it is up.
    pub(super) fn new(config: &RedisConfig) -> Result<Self, String> {
        let client = redis::Client::open(config.url.as_str())
            .map_err(|e| format!("not a Redis URL: {e}"))?;
        let settings = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.timeout))
            .set_response_timeout(Some(config.timeout))
            .set_number_of_retries(1)
            .set_max_delay(config.timeout);
        let connection = ConnectionManager::new_lazy_with_config(client, settings)
            .map_err(|e| format!("Redis: {e}"))?;
        Ok(Self {
            connection,
            script: redis::Script::new(GCRA),
            prefix: config.key_prefix.clone(),
            timeout: config.timeout,
            resting_until: Mutex::new(None),
        })
    }

    /// Counts one request of `client` (of `kind`: `anon`, `partner`) against a budget of
    /// `per_second` sustained and `burst` at once. `None`: Redis did not answer in time; the
    /// caller uses its own budget.
    pub(super) async fn check(
        &self,
        kind: &str,
        client: &str,
        per_second: u32,
        burst: u32,
    ) -> Option<Outcome> {
        if self.resting() {
            return None;
        }
        let key = format!("{}:{kind}:{client}", self.prefix);
        let interval = 1_000_000 / u64::from(per_second.max(1));
        let mut connection = self.connection.clone();
        let answer = tokio::time::timeout(
            self.timeout,
            self.script
                .key(key)
                .arg(interval)
                .arg(burst)
                .invoke_async::<(i64, i64, i64)>(&mut connection),
        )
        .await;
        let (allowed, remaining, micros) = match answer {
            Ok(Ok(answer)) => answer,
            Ok(Err(error)) => {
                self.failed(&error.to_string());
                return None;
            }
            Err(_) => {
                self.failed("no answer within the timeout");
                return None;
            }
        };
        self.recovered();
        let micros = Duration::from_micros(u64::try_from(micros).unwrap_or(0));
        Some(if allowed == 1 {
            Outcome::Allowed {
                remaining: u32::try_from(remaining).unwrap_or(0),
                reset: micros,
            }
        } else {
            Outcome::Refused {
                retry_after: micros,
            }
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.resting_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether Redis is being left alone after a failure.
    fn resting(&self) -> bool {
        matches!(*self.lock(), Some(until) if Instant::now() < until)
    }

    fn failed(&self, why: &str) {
        let mut resting = self.lock();
        if resting.is_none() {
            tracing::warn!(
                error = why,
                "Redis does not answer: rate limits are counted per process until it does"
            );
        }
        *resting = Some(Instant::now() + RETRY_AFTER_FAILURE);
    }

    fn recovered(&self) {
        let mut resting = self.lock();
        if resting.take().is_some() {
            tracing::info!("Redis answers again: rate limits are shared across nodes");
        }
    }
}
