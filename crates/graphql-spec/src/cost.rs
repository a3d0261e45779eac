//! The cost limit, checked between validation and execution. async-graphql computes an
//! operation's complexity while it validates (each list field charged by its page size × its
//! children, see the `complexity` of each list field); [`CostLimit`] refuses an operation over
//! the limit with `QUERY_TOO_COMPLEX`, charges the operations of a batch against one shared
//! budget (`BATCH_TOO_COMPLEX` once it is spent), and records that the document validated, so
//! that a persisted query is stored only then.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_graphql::ServerError;
use async_graphql::ValidationResult;
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};

use super::budget::LimitExceeded;

/// What one operation may cost, and what the batch it belongs to still may; request data.
#[derive(Debug, Clone)]
pub struct CostMeter {
    limit: usize,
    batch: Option<Arc<BatchBudget>>,
    validated: Arc<AtomicBool>,
}

/// The cost the operations of one batch may still spend together.
#[derive(Debug)]
pub struct BatchBudget {
    limit: usize,
    remaining: AtomicUsize,
}

impl BatchBudget {
    /// A budget of `limit` for one batch.
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            limit,
            remaining: AtomicUsize::new(limit),
        })
    }

    fn spend(&self, cost: usize) -> Result<(), LimitExceeded> {
        self.remaining
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                left.checked_sub(cost)
            })
            .map(|_| ())
            .map_err(|_| LimitExceeded::BatchCost { limit: self.limit })
    }
}

impl CostMeter {
    /// An operation of its own, or one of a batch sharing `batch`.
    pub fn new(limit: usize, batch: Option<Arc<BatchBudget>>) -> Self {
        Self {
            limit,
            batch,
            validated: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether the operation passed validation and the cost limit.
    pub fn validated(&self) -> bool {
        self.validated.load(Ordering::Acquire)
    }

    /// Records whether the operation passed validation when something other than
    /// [`CostLimit`] checked its cost (async-graphql's own limit).
    pub fn set_validated(&self, validated: bool) {
        self.validated.store(validated, Ordering::Release);
    }

    fn charge(&self, cost: usize) -> Result<(), LimitExceeded> {
        if cost > self.limit {
            return Err(LimitExceeded::Cost {
                limit: self.limit,
                cost,
            });
        }
        if let Some(batch) = &self.batch {
            batch.spend(cost)?;
        }
        self.validated.store(true, Ordering::Release);
        Ok(())
    }
}

/// The extension enforcing [`CostMeter`]s; a request without one is held to `default_limit`.
#[derive(Debug, Clone, Copy)]
pub struct CostLimit {
    /// The limit for requests that carry no meter.
    pub default_limit: usize,
}

impl ExtensionFactory for CostLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(*self)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for CostLimit {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        let charged = match ctx.data_opt::<CostMeter>() {
            Some(meter) => meter.charge(result.complexity),
            None => CostMeter::new(self.default_limit, None).charge(result.complexity),
        };
        charged.map_err(|limit| vec![limit.to_server_error()])?;
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_spends_one_budget() {
        let batch = BatchBudget::new(100);
        let first = CostMeter::new(80, Some(batch.clone()));
        assert_eq!(first.charge(60), Ok(()));
        assert!(first.validated());
        let second = CostMeter::new(80, Some(batch));
        assert_eq!(
            second.charge(50),
            Err(LimitExceeded::BatchCost { limit: 100 })
        );
        assert!(!second.validated());
        assert_eq!(
            CostMeter::new(80, None).charge(81),
            Err(LimitExceeded::Cost {
                limit: 80,
                cost: 81
            })
        );
    }
}
