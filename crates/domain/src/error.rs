//! Validation errors: which field, and what is wrong with it.

/// A value broke one of the domain's rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// The input field at fault, as the client named it (`slug`, `headline`, `first`, …).
    pub field: String,
    /// A human sentence saying what is wrong.
    pub message: String,
}

impl ValidationError {
    /// An error for `field` with `message`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}
