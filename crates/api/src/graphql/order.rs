//! Response field order. The GraphQL spec (§7.2.2) asks for a response's fields in the order
//! the query selected them; async-graphql resolves sibling fields concurrently and keeps them in
//! the order they finish, so the same query could serialize differently from one run to the
//! next, and a strong ETag would change with no change of content. [`SelectionOrder`] records
//! the query's order once and [`SelectionOrder::apply`] restores it.

use std::collections::{HashMap, HashSet};

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, Selection, SelectionSet,
};
use async_graphql::{Name, Value};

/// The order of response keys at each level of an operation's selections (fragments merged in
/// place, in document order).
#[derive(Debug, Default)]
pub struct SelectionOrder {
    keys: Vec<Name>,
    children: HashMap<Name, SelectionOrder>,
}

impl SelectionOrder {
    /// The order of the operation `operation_name` selects in `document` (the only one when
    /// unnamed); empty when there is no such operation.
    pub fn of(document: &ExecutableDocument, operation_name: Option<&str>) -> Self {
        let operation = match (&document.operations, operation_name) {
            (DocumentOperations::Single(op), _) => Some(op),
            (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
            (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
            _ => None,
        };
        let mut order = Self::default();
        if let Some(operation) = operation {
            order.add(
                document,
                &operation.node.selection_set.node,
                &mut HashSet::new(),
            );
        }
        order
    }

    fn add<'a>(
        &mut self,
        document: &'a ExecutableDocument,
        set: &'a SelectionSet,
        visiting: &mut HashSet<&'a str>,
    ) {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let key = field.node.response_key().node.clone();
                    if !self.children.contains_key(&key) {
                        self.keys.push(key.clone());
                    }
                    self.children.entry(key).or_default().add(
                        document,
                        &field.node.selection_set.node,
                        visiting,
                    );
                }
                Selection::InlineFragment(fragment) => {
                    self.add(document, &fragment.node.selection_set.node, visiting);
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    // Validation refuses fragment cycles; this guard only keeps a malformed
                    // document from recursing forever.
                    if let Some(fragment) = document.fragments.get(name)
                        && visiting.insert(name)
                    {
                        self.add(document, &fragment.node.selection_set.node, visiting);
                        visiting.remove(name);
                    }
                }
            }
        }
    }

    /// Puts every object of `value` in selection order (keys the selections do not name, if
    /// any, keep their place after the others).
    pub fn apply(&self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                let mut ordered = IndexMap::with_capacity(map.len());
                for key in &self.keys {
                    if let Some((key, mut inner)) = map.shift_remove_entry(key) {
                        if let Some(child) = self.children.get(&key) {
                            child.apply(&mut inner);
                        }
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
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn keys(value: &Value) -> Vec<String> {
        match value {
            Value::Object(map) => map.keys().map(|k| k.to_string()).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn restores_the_selected_order_through_lists_aliases_and_fragments() {
        let document = parse_query(
            "query Page { b: article { z ...F y } a }
             fragment F on Article { x topics { slug name } }",
        )
        .unwrap();
        let order = SelectionOrder::of(&document, Some("Page"));
        let mut value = Value::from_json(serde_json::json!({
            "a": 1,
            "b": [{ "topics": [{ "name": "n", "slug": "s" }], "y": 1, "x": 2, "z": 3 }]
        }))
        .unwrap();
        order.apply(&mut value);
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
}
