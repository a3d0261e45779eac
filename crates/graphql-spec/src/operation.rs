//! Which operation a document runs, and how a refusal is named.

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};

/// Whether the operation the request would run is a mutation (or subscription).
pub fn is_mutation(document: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    operation_type(document, operation_name).is_some_and(|ty| ty != OperationType::Query)
}

/// The type of the operation the request would run (`None`: the name picks none).
pub fn operation_type(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<OperationType> {
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => Some(
            ops.values()
                .next()
                .map_or(OperationType::Query, |op| op.node.ty),
        ),
        _ => None,
    }
}

/// The name of the operation `document` runs for the request's `operation_name`: a name the
/// document itself declares (the parser vouches for its characters), never the request's text.
pub fn executed_operation(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<String> {
    match &document.operations {
        DocumentOperations::Single(_) => None,
        DocumentOperations::Multiple(operations) => match operation_name {
            Some(wanted) => operations
                .keys()
                .find(|name| name.as_str() == wanted)
                .map(|name| name.to_string()),
            None if operations.len() == 1 => operations.keys().next().map(|n| n.to_string()),
            None => None,
        },
    }
}

/// The code a document refusal is counted under: async-graphql's own depth and complexity
/// limits are told apart by their messages; any other refusal counts under `default`.
pub fn rejection_code(
    errors: &[async_graphql::ServerError],
    default: &'static str,
) -> &'static str {
    match errors.first().map(|e| e.message.as_str()) {
        Some("Query is nested too deep.") => "QUERY_TOO_DEEP",
        Some("Query is too complex.") => "QUERY_TOO_COMPLEX",
        Some(m) if m.starts_with("The recursion depth of the query") => "QUERY_TOO_RECURSIVE",
        _ => default,
    }
}
