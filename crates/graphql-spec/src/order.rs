//! The response's last step: shape async-graphql's output the way the spec says.
//!
//! - Order. The spec (§7.2.2) asks for a response's fields in the order the query selected
//!   them; async-graphql resolves sibling fields concurrently and keeps them in the order they
//!   finish, so the same query could serialize differently from one run to the next, and a
//!   strong ETag would change with no change of content.
//! - Empty objects. async-graphql answers an object whose selection resolves to no field
//!   (`body { ... on EmbedBlock { caption } }` for a paragraph, a fragment skipped by `@skip`,
//!   `node(id:) { ... on Topic { slug } }` for an article) with `null`, even where the schema
//!   says non-null; the spec's answer is `{}`, and a `null` reads as "not found". Before
//!   execution [`mark_objects`] adds `__gazette_object: __typename` to every selection set, so
//!   every object resolves at least that key and a real `null` stays distinguishable; the
//!   marker is taken out again here, leaving `{}` where nothing else was selected.
//! - Field errors. async-graphql leaves a field that raised an error out of its object; the
//!   spec (§6.4.4) makes it `null`, and a `null` in a non-null position makes its parent `null`
//!   in turn, up to the nearest nullable field (or the whole `data`). The field types come from
//!   the schema's SDL ([`SchemaShape`]).
//!
//! [`SelectionOrder`] records the operation's selections once, after validation (the
//! document budget bounds the fragment expansion this walk does), and
//! [`SelectionOrder::complete`] applies all three.

use std::collections::{HashMap, HashSet};

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, Field, Selection, SelectionSet, Type,
};
use async_graphql::{Name, PathSegment, Positioned, ServerError, Value};

use super::budget::{MAX_NESTING, RESERVED_ALIAS};
use super::shape::SchemaShape;

/// Adds the marker field to the root and every nested selection set of each operation and
/// fragment (inline fragments share their parent's). Walks the literal document once.
pub fn mark_objects(document: &mut ExecutableDocument) {
    match &mut document.operations {
        DocumentOperations::Single(operation) => mark_set(&mut operation.node.selection_set, 0),
        DocumentOperations::Multiple(operations) => {
            for operation in operations.values_mut() {
                mark_set(&mut operation.node.selection_set, 0);
            }
        }
    }
    for fragment in document.fragments.values_mut() {
        mark_children(&mut fragment.node.selection_set, 0);
    }
}

fn mark_set(set: &mut Positioned<SelectionSet>, level: usize) {
    let pos = set.pos;
    set.node.items.push(Positioned::new(
        Selection::Field(Positioned::new(
            Field {
                alias: Some(Positioned::new(Name::new(RESERVED_ALIAS), pos)),
                name: Positioned::new(Name::new("__typename"), pos),
                arguments: Vec::new(),
                directives: Vec::new(),
                selection_set: Positioned::new(SelectionSet::default(), pos),
            },
            pos,
        )),
        pos,
    ));
    mark_children(set, level);
}

/// Marks the sets of the fields under `set`, looking through inline fragments.
fn mark_children(set: &mut Positioned<SelectionSet>, level: usize) {
    // The parser refuses deeper documents; the guard keeps this walk bounded on its own.
    if level > MAX_NESTING {
        return;
    }
    for selection in &mut set.node.items {
        match &mut selection.node {
            Selection::Field(field) if !field.node.selection_set.node.items.is_empty() => {
                mark_set(&mut field.node.selection_set, level + 1);
            }
            Selection::InlineFragment(inline) => {
                mark_children(&mut inline.node.selection_set, level + 1);
            }
            Selection::Field(_) | Selection::FragmentSpread(_) => {}
        }
    }
}

/// The response keys at each level of an operation's selections (fragments merged in place,
/// in document order), with each field's declared type.
#[derive(Debug, Default)]
pub struct SelectionOrder {
    /// The response keys in selection order, with what is selected under each.
    keys: Vec<(Name, SelectionOrder)>,
    /// Where each key is in `keys`.
    index: HashMap<Name, usize>,
    /// Whether this level is an object selection (a JSON scalar's value is left alone).
    object: bool,
    /// The declared type of the field at this key (`None`: unknown, treated as nullable).
    ty: Option<Type>,
}

impl SelectionOrder {
    /// The selections of the operation `operation_name` in `document` (the only one when
    /// unnamed), typed by `shape`; empty when there is no such operation.
    pub fn of(
        document: &ExecutableDocument,
        operation_name: Option<&str>,
        shape: &SchemaShape,
    ) -> Self {
        let operation = match (&document.operations, operation_name) {
            (DocumentOperations::Single(op), _) => Some(op),
            (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
            (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
            _ => None,
        };
        let mut order = Self::default();
        if let Some(operation) = operation {
            order.object = true;
            let root = shape.root(operation.node.ty);
            let mut walk = Walk {
                document,
                shape,
                visiting: HashSet::new(),
            };
            walk.add(&mut order, &operation.node.selection_set.node, root);
        }
        order
    }

    /// Makes `data` what the spec says it is: a field with an error (in `errors`) is `null`
    /// and a `null` where the type is non-null nulls its parent; then every object is put in
    /// selection order (keys the selections do not name, if any, keep their place after the
    /// others) without the marker [`mark_objects`] added.
    pub fn complete(&self, data: &mut Value, errors: &[ServerError]) {
        for error in errors {
            if !error.path.is_empty() {
                self.null_field(data, &error.path);
            }
        }
        self.apply(data);
    }

    /// Nulls the field at `path` and propagates the `null` through non-null positions.
    fn null_field(&self, data: &mut Value, path: &[PathSegment]) {
        // The declared type of each position along the path.
        let mut types: Vec<Option<&Type>> = Vec::with_capacity(path.len());
        let mut node = self;
        let mut current: Option<&Type> = None;
        for segment in path {
            current = match segment {
                PathSegment::Field(key) => {
                    let Some(child) = node.child(key) else {
                        return;
                    };
                    node = child;
                    child.ty.as_ref()
                }
                PathSegment::Index(_) => current.and_then(|ty| match &ty.base {
                    BaseType::List(inner) => Some(inner.as_ref()),
                    BaseType::Named(_) => None,
                }),
            };
            types.push(current);
        }
        // The deepest position the data holds: the field itself, or (async-graphql drops an
        // erroring field, sometimes with the list around it) the first missing key, made null.
        let mut depth = 0;
        while depth < path.len() && value_at(data, &path[..=depth]).is_some() {
            depth += 1;
        }
        if depth < path.len() {
            match value_at(data, &path[..depth]) {
                Some(Value::Object(map)) => {
                    let PathSegment::Field(key) = &path[depth] else {
                        return;
                    };
                    map.insert(Name::new(key), Value::Null);
                    depth += 1;
                }
                // Already null (an earlier error propagated here), or not a container.
                _ => return,
            }
        } else if let Some(value) = value_at(data, path) {
            *value = Value::Null;
        }
        // Up through every non-null position; at the top, `data` itself.
        while depth > 0 && types[depth - 1].is_some_and(|ty| !ty.nullable) {
            depth -= 1;
            if let Some(value) = value_at(data, &path[..depth]) {
                *value = Value::Null;
            }
        }
    }

    /// What is selected under `key`.
    fn child(&self, key: &str) -> Option<&SelectionOrder> {
        self.index.get(key).map(|&i| &self.keys[i].1)
    }

    fn apply(&self, value: &mut Value) {
        match value {
            Value::Object(map) if self.object => {
                map.shift_remove(RESERVED_ALIAS);
                if self.in_order(map.keys()) {
                    // The usual case (async-graphql inserts fields as selected): no new map,
                    // each key's selections found by walking both lists once.
                    let mut wanted = self.keys.iter();
                    for (key, inner) in map.iter_mut() {
                        if let Some((_, child)) = wanted.find(|(name, _)| name == key) {
                            child.apply(inner);
                        }
                    }
                    return;
                }
                let mut ordered = IndexMap::with_capacity(map.len());
                for (key, child) in &self.keys {
                    if let Some((key, mut inner)) = map.shift_remove_entry(key) {
                        child.apply(&mut inner);
                        ordered.insert(key, inner);
                    }
                }
                ordered.extend(map.drain(..));
                *map = ordered;
            }
            Value::List(items) => {
                for item in items {
                    self.apply(item);
                }
            }
            _ => {}
        }
    }

    /// Whether `keys` are some of this level's keys, in selection order (a field may be
    /// missing: skipped, or left out by an error).
    fn in_order<'k>(&self, mut keys: impl Iterator<Item = &'k Name>) -> bool {
        let mut wanted = self.keys.iter();
        keys.all(|key| wanted.any(|(name, _)| name == key))
    }
}

/// The value at `path` in `data`, if it is there.
fn value_at<'v>(data: &'v mut Value, path: &[PathSegment]) -> Option<&'v mut Value> {
    let mut current = data;
    for segment in path {
        current = match (current, segment) {
            (Value::Object(map), PathSegment::Field(key)) => map.get_mut(key.as_str())?,
            (Value::List(items), PathSegment::Index(index)) => items.get_mut(*index)?,
            _ => return None,
        };
    }
    Some(current)
}

/// Building a [`SelectionOrder`]: fragments are expanded (validation has bounded what that
/// reaches, and refused cycles; the guard only keeps a malformed document from recursing
/// forever).
struct Walk<'a> {
    document: &'a ExecutableDocument,
    shape: &'a SchemaShape,
    visiting: HashSet<&'a str>,
}

impl<'a> Walk<'a> {
    fn add(&mut self, order: &mut SelectionOrder, set: &'a SelectionSet, parent: Option<&'a str>) {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let key = field.node.response_key().node.clone();
                    if key == RESERVED_ALIAS {
                        continue;
                    }
                    let at = match order.index.get(&key) {
                        Some(&at) => at,
                        None => {
                            order.index.insert(key.clone(), order.keys.len());
                            order.keys.push((key, SelectionOrder::default()));
                            order.keys.len() - 1
                        }
                    };
                    let declared = parent.and_then(|p| self.shape.field(p, &field.node.name.node));
                    let child = &mut order.keys[at].1;
                    child.object |= !field.node.selection_set.node.items.is_empty();
                    if child.ty.is_none() {
                        child.ty = declared.map(|(ty, _)| ty.clone());
                    }
                    let inner = declared.map(|(_, named)| named);
                    self.add(child, &field.node.selection_set.node, inner);
                }
                Selection::InlineFragment(fragment) => {
                    let on = fragment
                        .node
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.as_str())
                        .or(parent);
                    self.add(order, &fragment.node.selection_set.node, on);
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if let Some(fragment) = self.document.fragments.get(name)
                        && self.visiting.insert(name)
                    {
                        let on = fragment.node.type_condition.node.on.node.as_str();
                        self.add(order, &fragment.node.selection_set.node, Some(on));
                        self.visiting.remove(name);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;
    use serde_json::json;

    use super::*;

    const SDL: &str = "
        type Query { article: Article items: [Item!]! maybe: [Item] a: Int }
        type Article { x: Int z: Int y: Int! topics: [Topic!]! }
        type Topic { slug: String! name: String }
        type Item { name: String! }
        schema { query: Query }
    ";

    fn keys(value: &Value) -> Vec<String> {
        match value {
            Value::Object(map) => map.keys().map(|k| k.to_string()).collect(),
            _ => Vec::new(),
        }
    }

    fn typed(query: &str) -> SelectionOrder {
        SelectionOrder::of(
            &parse_query(query).unwrap(),
            None,
            &SchemaShape::from_sdl(SDL),
        )
    }

    fn error_at(path: Value) -> ServerError {
        let mut error = ServerError::new("failed", None);
        error.path = serde_json::from_value(path.into_json().unwrap()).unwrap();
        error
    }

    #[test]
    fn restores_the_selected_order_through_lists_aliases_and_fragments() {
        let document = parse_query(
            "query Page { b: article { z ...F y } a }
             fragment F on Article { x topics { slug name } }",
        )
        .unwrap();
        let order = SelectionOrder::of(&document, Some("Page"), &SchemaShape::from_sdl(SDL));
        let mut value = Value::from_json(json!({
            "a": 1,
            "b": [{ "topics": [{ "name": "n", "slug": "s" }], "y": 1, "x": 2, "z": 3 }]
        }))
        .unwrap();
        order.complete(&mut value, &[]);
        assert_eq!(keys(&value), ["b", "a"]);
        let Value::Object(map) = &value else { panic!() };
        let Value::List(items) = &map["b"] else {
            panic!()
        };
        assert_eq!(keys(&items[0]), ["z", "x", "topics", "y"]);
        let Value::Object(article) = &items[0] else {
            panic!()
        };
        let Value::List(topics) = &article["topics"] else {
            panic!()
        };
        assert_eq!(keys(&topics[0]), ["slug", "name"]);
    }

    #[test]
    fn an_object_already_in_order_keeps_it_and_its_children_are_still_ordered() {
        let order = typed("{ article { z x @skip(if: true) topics { slug name } y } a }");
        // In order, one key skipped, the marker last; the topics inside are not in order.
        let mut value = Value::from_json(json!({
            "article": {
                "z": 1,
                "topics": [{ "name": "n", "slug": "s" }],
                "y": 2,
                RESERVED_ALIAS: "Article"
            },
            "a": 3
        }))
        .unwrap();
        order.complete(&mut value, &[]);
        let Value::Object(map) = &value else { panic!() };
        assert_eq!(keys(&map["article"]), ["z", "topics", "y"]);
        let Value::Object(article) = &map["article"] else {
            panic!()
        };
        let Value::List(topics) = &article["topics"] else {
            panic!()
        };
        assert_eq!(keys(&topics[0]), ["slug", "name"]);
        // A key the selections do not name keeps its place after the others.
        let mut value =
            Value::from_json(json!({ "a": 3, "extra": 0, "article": { "y": 1 } })).unwrap();
        order.complete(&mut value, &[]);
        assert_eq!(keys(&value), ["article", "a", "extra"]);
    }

    #[test]
    fn marked_objects_come_back_empty_not_null() {
        let mut document =
            parse_query("{ article { ... on Article @skip(if: true) { x } } }").unwrap();
        mark_objects(&mut document);
        let order = SelectionOrder::of(&document, None, &SchemaShape::from_sdl(SDL));
        let mut value = Value::from_json(json!({
            RESERVED_ALIAS: "Query",
            "article": { RESERVED_ALIAS: "Article" }
        }))
        .unwrap();
        order.complete(&mut value, &[]);
        assert_eq!(value.into_json().unwrap(), json!({ "article": {} }));
    }

    #[test]
    fn a_field_error_is_null_and_nulls_its_non_null_parents() {
        // A nullable field: null in place.
        let order = typed("{ article { x y } a }");
        let mut value = Value::from_json(json!({ "article": { "y": 1 }, "a": 2 })).unwrap();
        order.complete(
            &mut value,
            &[error_at(Value::from_json(json!(["article", "x"])).unwrap())],
        );
        assert_eq!(
            value.into_json().unwrap(),
            json!({ "article": { "x": null, "y": 1 }, "a": 2 })
        );
        // A non-null field: its nullable parent is null.
        let mut value = Value::from_json(json!({ "article": { "x": 1 }, "a": 2 })).unwrap();
        order.complete(
            &mut value,
            &[error_at(Value::from_json(json!(["article", "y"])).unwrap())],
        );
        assert_eq!(
            value.into_json().unwrap(),
            json!({ "article": null, "a": 2 })
        );
        // Through a list of non-null items to the non-null list, to `data`.
        let order = typed("{ items { name } a }");
        let mut value =
            Value::from_json(json!({ "items": [{ "name": "a" }, {}], "a": 2 })).unwrap();
        order.complete(
            &mut value,
            &[error_at(
                Value::from_json(json!(["items", 1, "name"])).unwrap(),
            )],
        );
        assert_eq!(value.into_json().unwrap(), json!(null));
        // A list of nullable items keeps the others.
        let order = typed("{ maybe { name } }");
        let mut value = Value::from_json(json!({ "maybe": [{ "name": "a" }, {}] })).unwrap();
        order.complete(
            &mut value,
            &[error_at(
                Value::from_json(json!(["maybe", 1, "name"])).unwrap(),
            )],
        );
        assert_eq!(
            value.into_json().unwrap(),
            json!({ "maybe": [{ "name": "a" }, null] })
        );
    }
}
