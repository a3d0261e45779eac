//! Validation rules async-graphql 7 leaves out, checked on the parsed document before it
//! runs:
//!
//! - `__typename` is skipped by its validator altogether, so an unknown directive, `@include`
//!   without `if`, a repeated `@skip`, arguments or a sub-selection on it were all accepted;
//! - its `Int` accepts any 64-bit literal, and the 32-bit range is only enforced when the
//!   argument is read: most fields answered 200 with a field error, the ones whose cost reads
//!   the argument 400. The spec makes an out-of-range literal a validation error and an
//!   out-of-range variable value a request error: both are 400 here, everywhere.
//!
//! The argument and input types come from the schema's own SDL, indexed once. The walk visits
//! each literal selection set once (fragments are not expanded) and follows the document's
//! literal nesting, which the token pass bounds.

use std::collections::HashSet;

use async_graphql::parser::types::{
    BaseType, ExecutableDocument, Field, Selection, SelectionSet, Type,
};
use async_graphql::{Pos, Positioned, ServerError, Variables};
use async_graphql_value::{ConstValue, Value};

use super::budget::MAX_NESTING;
use super::shape::SchemaShape;

impl SchemaShape {
    /// The errors of `document` these rules find, with `variables` checked against the
    /// operation that runs (`operation_name`, or the only one).
    pub fn check(
        &self,
        document: &ExecutableDocument,
        operation_name: Option<&str>,
        variables: &Variables,
    ) -> Vec<ServerError> {
        let mut walk = Walk {
            shape: self,
            errors: Vec::new(),
            declared: HashSet::new(),
        };
        for (_, operation) in document.operations.iter() {
            for definition in &operation.node.variable_definitions {
                walk.declared.insert(definition.node.name.node.as_str());
            }
        }
        for (name, operation) in document.operations.iter() {
            let operation = &operation.node;
            let runs = match (name, operation_name) {
                (_, None) => true,
                (Some(name), Some(wanted)) => name.as_str() == wanted,
                (None, Some(_)) => false,
            };
            for definition in &operation.variable_definitions {
                let definition = &definition.node;
                let ty = &definition.var_type.node;
                if let Some(default) = &definition.default_value {
                    walk.const_value(&default.node, ty, default.pos, 0);
                }
                if runs && let Some(value) = variables.get(&definition.name.node) {
                    let before = walk.errors.len();
                    walk.const_value(value, ty, definition.name.pos, 0);
                    for error in &mut walk.errors[before..] {
                        error.message = format!(
                            "Variable \"${}\" got invalid value; {}",
                            definition.name.node, error.message
                        );
                    }
                }
            }
            walk.selection_set(&operation.selection_set, self.root(operation.ty), 0);
        }
        for fragment in document.fragments.values() {
            let on = fragment.node.type_condition.node.on.node.as_str();
            walk.selection_set(&fragment.node.selection_set, Some(on), 0);
        }
        walk.errors
    }
}

struct Walk<'a> {
    shape: &'a SchemaShape,
    errors: Vec<ServerError>,
    /// Variables some operation declares (a fragment may run under any of them).
    declared: HashSet<&'a str>,
}

impl<'a> Walk<'a> {
    fn error(&mut self, pos: Pos, message: String) {
        self.errors.push(ServerError::new(message, Some(pos)));
    }

    fn selection_set(
        &mut self,
        set: &'a Positioned<SelectionSet>,
        parent: Option<&'a str>,
        level: usize,
    ) {
        if level > MAX_NESTING {
            return;
        }
        for selection in &set.node.items {
            match &selection.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    if name == "__typename" {
                        self.typename(field);
                        continue;
                    }
                    let shape = parent
                        .and_then(|p| self.shape.fields.get(p))
                        .and_then(|fields| fields.get(name));
                    if let Some(shape) = shape {
                        for (argument, value) in &field.node.arguments {
                            if let Some(ty) = shape.arguments.get(argument.node.as_str()) {
                                let what = format!("argument \"{}\"", argument.node);
                                self.value(&value.node, ty, (value.pos, &what), false, 0);
                            }
                        }
                    }
                    // Introspection types are not in the SDL: below them only `__typename`
                    // is checked.
                    let child = shape.map(|s| s.returns.as_str());
                    self.selection_set(&field.node.selection_set, child, level + 1);
                }
                Selection::InlineFragment(inline) => {
                    let on = inline
                        .node
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.as_str())
                        .or(parent);
                    self.selection_set(&inline.node.selection_set, on, level + 1);
                }
                Selection::FragmentSpread(_) => {}
            }
        }
    }

    /// `__typename` takes no arguments and no selection, and only the field directives the
    /// schema declares, each once, with their required arguments.
    fn typename(&mut self, field: &'a Positioned<Field>) {
        let field_node = &field.node;
        for (argument, _) in &field_node.arguments {
            self.error(
                argument.pos,
                format!(
                    "Unknown argument \"{}\" on field \"__typename\".",
                    argument.node
                ),
            );
        }
        if !field_node.selection_set.node.items.is_empty() {
            self.error(
                field.pos,
                "Field \"__typename\" must not have a selection since type \"String!\" has no \
                 subfields."
                    .to_owned(),
            );
        }
        let mut seen: HashSet<&str> = HashSet::new();
        for directive in &field_node.directives {
            let name = directive.node.name.node.as_str();
            let Some(shape) = self.shape.field_directives.get(name) else {
                self.error(directive.pos, format!("Unknown directive \"@{name}\"."));
                continue;
            };
            if !seen.insert(name) {
                self.error(
                    directive.pos,
                    format!("The directive \"@{name}\" can only be used once at this location."),
                );
            }
            for (argument, value) in &directive.node.arguments {
                let Some((ty, _)) = shape.arguments.get(argument.node.as_str()) else {
                    self.error(
                        argument.pos,
                        format!(
                            "Unknown argument \"{}\" on directive \"@{name}\".",
                            argument.node
                        ),
                    );
                    continue;
                };
                let what = format!("argument \"{}\" of \"@{name}\"", argument.node);
                self.value(&value.node, ty, (value.pos, &what), true, 0);
            }
            for (argument, (ty, has_default)) in &shape.arguments {
                let given = directive.node.get_argument(argument).is_some();
                if !given && !ty.nullable && !has_default {
                    self.error(
                        directive.pos,
                        format!(
                            "Directive \"@{name}\" argument \"{argument}\" of type \"{ty}\" is \
                             required, but it was not provided."
                        ),
                    );
                }
            }
        }
    }

    /// Checks a literal against `ty`. Everywhere: 32-bit `Int`s. With `full` (the arguments
    /// of a directive on `__typename`, which async-graphql does not visit): declared
    /// variables, no null for a non-null type, and the literal kind of built-in scalars.
    fn value(&mut self, value: &'a Value, ty: &Type, at: (Pos, &str), full: bool, level: usize) {
        let (pos, what) = at;
        if level > MAX_NESTING {
            return;
        }
        match (value, &ty.base) {
            (Value::Variable(name), _) => {
                if full && !self.declared.contains(name.as_str()) {
                    self.error(pos, format!("Variable \"${name}\" is not defined."));
                }
            }
            (Value::Null, _) => {
                if full && !ty.nullable {
                    self.error(pos, format!("Invalid value for {what}: null for \"{ty}\"."));
                }
            }
            (Value::List(items), BaseType::List(inner)) => {
                for item in items {
                    self.value(item, inner, at, full, level + 1);
                }
            }
            (Value::List(items), BaseType::Named(_)) => {
                // Validation refuses a list here; its items are still checked.
                for item in items {
                    self.value(item, ty, at, full, level + 1);
                }
            }
            (value, BaseType::List(inner)) => self.value(value, inner, at, full, level + 1),
            (Value::Object(fields), BaseType::Named(name)) => {
                let Some(input) = self.shape.inputs.get(name.as_str()) else {
                    return;
                };
                for (field, value) in fields {
                    if let Some(ty) = input.get(field.as_str()) {
                        self.value(value, ty, at, full, level + 1);
                    }
                }
            }
            (value, BaseType::Named(name)) => {
                let message = match (name.as_str(), value) {
                    ("Int", Value::Number(number)) => int_out_of_range(number),
                    _ if !full => None,
                    ("Int", other) => {
                        Some(format!("Int cannot represent non-integer value: {other}"))
                    }
                    ("Boolean", Value::Boolean(_)) | ("String", Value::String(_)) => None,
                    ("Boolean", other) => Some(format!(
                        "Boolean cannot represent a non boolean value: {other}"
                    )),
                    ("String", other) => Some(format!(
                        "String cannot represent a non string value: {other}"
                    )),
                    _ => None,
                };
                if let Some(message) = message {
                    self.error(pos, format!("Invalid value for {what}: {message}"));
                }
            }
        }
    }

    /// As [`Self::value`], for a variable's value or default.
    fn const_value(&mut self, value: &ConstValue, ty: &Type, pos: Pos, level: usize) {
        if level > MAX_NESTING {
            return;
        }
        match (value, &ty.base) {
            (ConstValue::List(items), BaseType::List(inner)) => {
                for item in items {
                    self.const_value(item, inner.as_ref(), pos, level + 1);
                }
            }
            (ConstValue::List(items), BaseType::Named(_)) => {
                for item in items {
                    self.const_value(item, ty, pos, level + 1);
                }
            }
            (value, BaseType::List(inner)) => {
                self.const_value(value, inner.as_ref(), pos, level + 1)
            }
            (ConstValue::Object(fields), BaseType::Named(name)) => {
                let Some(input) = self.shape.inputs.get(name.as_str()) else {
                    return;
                };
                for (field, value) in fields {
                    if let Some(ty) = input.get(field.as_str()) {
                        self.const_value(value, ty, pos, level + 1);
                    }
                }
            }
            (ConstValue::Number(number), BaseType::Named(name)) if name.as_str() == "Int" => {
                if let Some(message) = int_out_of_range(number) {
                    self.error(pos, message);
                }
            }
            _ => {}
        }
    }
}

/// Why an integer literal is not an `Int` (the spec's is 32-bit), if it is not. A float is
/// left to async-graphql, which refuses it.
fn int_out_of_range(number: &async_graphql::Number) -> Option<String> {
    if number.is_f64() || number.as_i64().is_some_and(|n| i32::try_from(n).is_ok()) {
        return None;
    }
    Some(format!(
        "Int cannot represent non 32-bit signed integer value: {number}"
    ))
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    const SDL: &str = r#"
        type Query { items(first: Int, filter: Filter, ids: [ID!]): [Item!]! node(id: ID!): Item }
        type Item { name: String! }
        input Filter { limit: Int, tags: [Int!] }
        directive @include(if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT
        directive @skip(if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT
        schema { query: Query }
    "#;

    fn errors(query: &str, variables: serde_json::Value) -> Vec<String> {
        let shape = SchemaShape::from_sdl(SDL);
        let document = parse_query(query).unwrap();
        shape
            .check(&document, None, &Variables::from_json(variables))
            .into_iter()
            .map(|e| e.message)
            .collect()
    }

    #[test]
    fn int_literals_beyond_32_bits_are_refused_wherever_they_are() {
        let none: Vec<String> = Vec::new();
        assert_eq!(
            errors(
                "{ items(first: 2147483647) { name } }",
                serde_json::json!({})
            ),
            none
        );
        for query in [
            "{ items(first: 2147483648) { name } }",
            "{ items(first: -2147483649) { name } }",
            "{ items(filter: { limit: 99999999999 }) { name } }",
            "{ items(filter: { tags: [1, 99999999999] }) { name } }",
            "{ ... on Query { items(first: 99999999999) { name } } }",
            "query($n: Int = 99999999999) { items(first: $n) { name } }",
            "{ ...F } fragment F on Query { items(first: 99999999999) { name } }",
        ] {
            let found = errors(query, serde_json::json!({}));
            assert_eq!(found.len(), 1, "{query}: {found:?}");
            assert!(found[0].contains("32-bit"), "{query}: {found:?}");
        }
        // An ID may be any integer.
        assert_eq!(
            errors("{ node(id: 99999999999) { name } }", serde_json::json!({})),
            none
        );
    }

    #[test]
    fn int_variables_beyond_32_bits_are_refused() {
        let found = errors(
            "query($n: Int, $f: Filter) { items(first: $n, filter: $f) { name } }",
            serde_json::json!({ "n": 4_294_967_296_i64, "f": { "tags": [3_000_000_000_i64] } }),
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("Variable \"$n\""), "{found:?}");
    }

    #[test]
    fn typename_directives_are_validated() {
        for query in [
            "{ __typename @foo }",
            "{ __typename @include }",
            "{ __typename @skip(if: true) @skip(if: false) }",
            "{ __typename @skip(if: 1) }",
            "{ __typename @skip(if: true, unless: false) }",
            "{ __typename @skip(if: $undeclared) }",
            "{ __typename(a: 1) }",
            "{ items { __typename { name } } }",
        ] {
            assert_eq!(errors(query, serde_json::json!({})).len(), 1, "{query}");
        }
        assert!(
            errors(
                "query($s: Boolean!) { __typename @skip(if: $s) @include(if: true) }",
                serde_json::json!({ "s": true })
            )
            .is_empty()
        );
    }
}
