//! The document budget: cheap, linear bounds every GraphQL document passes before anything
//! expands it. A fragment spread is a pointer: a document whose fragments each spread the
//! previous one twice reaches 2^n fields from n short lines, and every walk that expands spreads
//! (async-graphql's validation, the response ordering) pays for all of them. So, in order:
//!
//! 1. [`check_length`] and [`count_tokens`]: a byte bound, then one pass over the raw text before the parser sees it (tokens, and
//!    bracket nesting, which bounds every recursive walk after it);
//! 2. [`measure`]: one pass over the parsed document in which each fragment is summarised once
//!    (dependencies first, cycles refused), giving what expansion *would* reach — fields,
//!    aliases, depth without introspection, directives — in saturating arithmetic;
//! 3. validation, with the cost limit in which each list is charged by its page size
//!    (`super::cost`);
//! 4. execution, then response ordering.
//!
//! Every refusal is a [`LimitExceeded`] with a stable [`LimitExceeded::code`].

mod measure;
mod tokens;

use async_graphql::{Pos, ServerError};

/// Deepest bracket nesting (`{`, `(`, `[`) a document may have. async-graphql's parser stops at
/// 64 nested selection sets; the same bound on every bracket keeps the parser's and our own
/// recursive walks shallow. Real documents nest well under 20 (the graphql-js introspection
/// query: 12).
pub const MAX_NESTING: usize = 64;

/// The response key [`super::order`] adds to every selection set so that an object whose
/// selection resolves to no field still comes back as `{}`; a document may not use it.
pub const RESERVED_ALIAS: &str = "__gazette_object";

/// The bounds a document must fit in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentLimits {
    /// Bytes of the document's text. Comments and string literals are not tokens, and the
    /// parser walks them a character at a time: this bound keeps them from being free.
    pub max_bytes: usize,
    /// Lexical tokens in the text (punctuators, names, numbers, strings; not whitespace,
    /// commas or comments).
    pub max_tokens: usize,
    /// Selections (fields, fragment spreads, inline fragments) validation would visit, with
    /// fragments expanded: every operation, plus every fragment definition on its own.
    pub max_fields: usize,
    /// Aliases in an operation with fragments expanded (`__typename` is free).
    pub max_aliases: usize,
    /// Deepest field nesting of an operation; introspection (`__schema`, `__type`,
    /// `__typename`) subtrees do not count.
    pub max_depth: usize,
    /// Directives in an operation with fragments expanded.
    pub max_directives: usize,
    /// Whether `__schema` and `__type` may be asked for.
    pub introspection: bool,
}

impl Default for DocumentLimits {
    fn default() -> Self {
        Self {
            // The largest real operation (graphql-js's introspection query) is 2.2 KB.
            max_bytes: 32 * 1024,
            max_tokens: 2_000,
            max_fields: 2_000,
            max_aliases: 15,
            max_depth: 12,
            max_directives: 50,
            introspection: true,
        }
    }
}

/// Which limit a request broke. The one place that names them: a refusal's
/// `extensions.code` (and a future "rejected documents by limit" counter) is [`Self::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitExceeded {
    /// The document's text is too long.
    #[error("the document is longer than {limit} bytes")]
    Bytes {
        /// The limit.
        limit: usize,
    },
    /// Too many lexical tokens.
    #[error("the document has more than {limit} tokens")]
    Tokens {
        /// The limit.
        limit: usize,
    },
    /// Brackets nested too deep.
    #[error("the document nests brackets more than {limit} deep")]
    Nesting {
        /// The limit.
        limit: usize,
    },
    /// Too many selections once fragments are expanded.
    #[error(
        "the document reaches more than {limit} fields once its fragments are expanded \
         (each operation and each fragment definition counted)"
    )]
    Fields {
        /// The limit.
        limit: usize,
    },
    /// Too many aliases.
    #[error("the operation has more than {limit} aliases (`__typename` is free)")]
    Aliases {
        /// The limit.
        limit: usize,
    },
    /// Fields nested too deep.
    #[error("the operation nests fields {depth} deep; at most {limit} are accepted")]
    Depth {
        /// The limit.
        limit: usize,
        /// The document's depth.
        depth: usize,
    },
    /// Too many directives.
    #[error("the operation has more than {limit} directives")]
    Directives {
        /// The limit.
        limit: usize,
    },
    /// The operation's cost (each list charged by its page size) is over the limit.
    #[error("the query is too complex: it costs {cost}, at most {limit} is accepted")]
    Cost {
        /// The limit.
        limit: usize,
        /// The operation's cost.
        cost: usize,
    },
    /// A batch with too many operations.
    #[error("a batch may hold at most {limit} operations")]
    BatchOperations {
        /// The limit.
        limit: usize,
    },
    /// The operations of a batch cost more than allowed together.
    #[error("the operations of this batch cost more than {limit} together")]
    BatchCost {
        /// The limit.
        limit: usize,
    },
    /// Introspection is switched off.
    #[error("introspection is disabled on this server")]
    Introspection,
}

impl LimitExceeded {
    /// The stable `extensions.code` naming the limit.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Bytes { .. } => "DOCUMENT_TOO_LARGE",
            Self::Tokens { .. } => "TOO_MANY_TOKENS",
            Self::Nesting { .. } => "NESTED_TOO_DEEP",
            Self::Fields { .. } => "TOO_MANY_FIELDS",
            Self::Aliases { .. } => "TOO_MANY_ALIASES",
            Self::Depth { .. } => "QUERY_TOO_DEEP",
            Self::Directives { .. } => "TOO_MANY_DIRECTIVES",
            Self::Cost { .. } => "QUERY_TOO_COMPLEX",
            Self::BatchOperations { .. } => "BATCH_TOO_LARGE",
            Self::BatchCost { .. } => "BATCH_TOO_COMPLEX",
            Self::Introspection => "INTROSPECTION_DISABLED",
        }
    }

    /// As a GraphQL error carrying the code.
    pub fn to_server_error(&self) -> ServerError {
        let mut error = ServerError::new(self.to_string(), None);
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", self.code());
        error
    }
}

pub use measure::{DocumentMeasure, Tally, measure};
pub use tokens::{check_length, count_tokens};

/// Why [`measure`] refused a document.
#[derive(Debug, Clone, PartialEq)]
pub enum DocumentRefusal {
    /// A limit was exceeded.
    Limit(LimitExceeded),
    /// The document is invalid in a way that would make expansion endless or ambiguous (a
    /// fragment cycle, the reserved alias); reported as a validation failure.
    Invalid {
        /// What is wrong.
        message: String,
        /// Where.
        pos: Pos,
    },
}

impl From<LimitExceeded> for DocumentRefusal {
    fn from(limit: LimitExceeded) -> Self {
        Self::Limit(limit)
    }
}
