//! The second bound: what a parsed document would reach once its fragments are expanded,
//! computed without expanding them (each fragment tallied once, after those it spreads).

use std::collections::HashMap;

use async_graphql::Pos;
use async_graphql::Positioned;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

use super::{DocumentLimits, DocumentRefusal, LimitExceeded, MAX_NESTING, RESERVED_ALIAS};

/// What expanding a selection set would reach.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Selections (fields, spreads, inline fragments).
    pub fields: usize,
    /// Aliases, `__typename` aside.
    pub aliases: usize,
    /// Directives.
    pub directives: usize,
    /// Field depth, introspection subtrees aside.
    pub depth: usize,
    /// Whether `__schema` or `__type` is selected.
    pub introspection: bool,
}

impl Tally {
    /// Siblings: counts add up, depth is the deepest.
    fn add(&mut self, other: &Self) {
        self.fields = self.fields.saturating_add(other.fields);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.directives = self.directives.saturating_add(other.directives);
        self.depth = self.depth.max(other.depth);
        self.introspection |= other.introspection;
    }
}

/// What a whole document would reach once expanded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DocumentMeasure {
    /// Selections validation visits: every operation and every fragment definition, expanded.
    pub fields: usize,
    /// The most aliases of one operation.
    pub aliases: usize,
    /// The most directives of one operation.
    pub directives: usize,
    /// The deepest operation, introspection aside.
    pub depth: usize,
    /// Whether introspection is asked for anywhere.
    pub introspection: bool,
}

impl DocumentMeasure {
    /// The first limit this measure breaks.
    pub fn check(&self, limits: &DocumentLimits) -> Result<(), LimitExceeded> {
        if self.fields > limits.max_fields {
            return Err(LimitExceeded::Fields {
                limit: limits.max_fields,
            });
        }
        if self.introspection && !limits.introspection {
            return Err(LimitExceeded::Introspection);
        }
        if self.depth > limits.max_depth {
            return Err(LimitExceeded::Depth {
                limit: limits.max_depth,
                depth: self.depth,
            });
        }
        if self.aliases > limits.max_aliases {
            return Err(LimitExceeded::Aliases {
                limit: limits.max_aliases,
            });
        }
        if self.directives > limits.max_directives {
            return Err(LimitExceeded::Directives {
                limit: limits.max_directives,
            });
        }
        Ok(())
    }
}

/// Measures `document` without expanding it: each fragment is tallied once, after the
/// fragments it spreads, and a spread adds its fragment's tally. Refuses fragment cycles and
/// the reserved alias. Work and memory are linear in the document's size.
pub fn measure(document: &ExecutableDocument) -> Result<DocumentMeasure, DocumentRefusal> {
    let mut tallies: HashMap<&str, Tally> = HashMap::with_capacity(document.fragments.len());
    let mut measure = DocumentMeasure::default();
    for name in fragments_in_dependency_order(document)? {
        let fragment = &document.fragments[name].node;
        let mut tally = tally_set(&fragment.selection_set, &tallies, 0)?;
        tally.directives = tally.directives.saturating_add(fragment.directives.len());
        measure.fields = measure.fields.saturating_add(tally.fields);
        measure.introspection |= tally.introspection;
        tallies.insert(name, tally);
    }
    for (_, operation) in document.operations.iter() {
        let operation = &operation.node;
        let mut tally = tally_set(&operation.selection_set, &tallies, 0)?;
        let variable_directives: usize = operation
            .variable_definitions
            .iter()
            .map(|v| v.node.directives.len())
            .sum();
        tally.directives = tally
            .directives
            .saturating_add(operation.directives.len())
            .saturating_add(variable_directives);
        measure.fields = measure.fields.saturating_add(tally.fields);
        measure.aliases = measure.aliases.max(tally.aliases);
        measure.directives = measure.directives.max(tally.directives);
        measure.depth = measure.depth.max(tally.depth);
        measure.introspection |= tally.introspection;
    }
    Ok(measure)
}

/// The tally of `set`; spreads add the (already computed) tally of their fragment, unknown
/// fragments add nothing (validation reports them). Recursion follows the document's literal
/// nesting only, which [`count_tokens`] bounds.
fn tally_set(
    set: &Positioned<SelectionSet>,
    fragments: &HashMap<&str, Tally>,
    level: usize,
) -> Result<Tally, DocumentRefusal> {
    if level > MAX_NESTING {
        return Err(LimitExceeded::Nesting { limit: MAX_NESTING }.into());
    }
    let mut tally = Tally::default();
    for selection in &set.node.items {
        let item = match &selection.node {
            Selection::Field(field) => {
                let field = &field.node;
                let name = field.name.node.as_str();
                if let Some(alias) = &field.alias
                    && alias.node == RESERVED_ALIAS
                {
                    return Err(DocumentRefusal::Invalid {
                        message: format!("the alias `{RESERVED_ALIAS}` is reserved"),
                        pos: alias.pos,
                    });
                }
                let child = tally_set(&field.selection_set, fragments, level + 1)?;
                let introspective = name.starts_with("__");
                Tally {
                    fields: child.fields.saturating_add(1),
                    aliases: child
                        .aliases
                        .saturating_add(usize::from(field.alias.is_some() && name != "__typename")),
                    directives: child.directives.saturating_add(field.directives.len()),
                    depth: if introspective { 0 } else { child.depth + 1 },
                    introspection: child.introspection || name == "__schema" || name == "__type",
                }
            }
            Selection::InlineFragment(inline) => {
                let inline = &inline.node;
                let mut child = tally_set(&inline.selection_set, fragments, level + 1)?;
                child.fields = child.fields.saturating_add(1);
                child.directives = child.directives.saturating_add(inline.directives.len());
                child
            }
            Selection::FragmentSpread(spread) => {
                let spread = &spread.node;
                let mut child = fragments
                    .get(spread.fragment_name.node.as_str())
                    .copied()
                    .unwrap_or_default();
                child.fields = child.fields.saturating_add(1);
                child.directives = child.directives.saturating_add(spread.directives.len());
                child
            }
        };
        tally.add(&item);
    }
    Ok(tally)
}

/// The document's fragments, each after every fragment it spreads; a cycle is refused. An
/// iterative depth-first search: no recursion however long a chain of spreads is.
fn fragments_in_dependency_order(
    document: &ExecutableDocument,
) -> Result<Vec<&str>, DocumentRefusal> {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Mark {
        Visiting,
        Done,
    }
    let mut spreads: HashMap<&str, Vec<(&str, Pos)>> = HashMap::new();
    for (name, fragment) in &document.fragments {
        let mut found = Vec::new();
        spreads_in(&fragment.node.selection_set, &mut found, 0)?;
        spreads.insert(name.as_str(), found);
    }
    let mut marks: HashMap<&str, Mark> = HashMap::with_capacity(spreads.len());
    let mut order = Vec::with_capacity(spreads.len());
    let mut roots: Vec<&str> = spreads.keys().copied().collect();
    // Deterministic order, so the same document is refused with the same message.
    roots.sort_unstable();
    for root in roots {
        if marks.contains_key(root) {
            continue;
        }
        marks.insert(root, Mark::Visiting);
        let mut stack: Vec<(&str, usize)> = vec![(root, 0)];
        while let Some((name, next)) = stack.last_mut() {
            let name = *name;
            let Some(&(dependency, pos)) = spreads[name].get(*next) else {
                marks.insert(name, Mark::Done);
                order.push(name);
                stack.pop();
                continue;
            };
            *next += 1;
            if !spreads.contains_key(dependency) {
                continue;
            }
            match marks.get(dependency) {
                Some(Mark::Done) => {}
                Some(Mark::Visiting) => {
                    return Err(DocumentRefusal::Invalid {
                        message: format!("cannot spread fragment \"{dependency}\" within itself"),
                        pos,
                    });
                }
                None => {
                    marks.insert(dependency, Mark::Visiting);
                    stack.push((dependency, 0));
                }
            }
        }
    }
    Ok(order)
}

/// Collects the fragment spreads of `set` and its nested sets (literal nesting only).
fn spreads_in<'a>(
    set: &'a Positioned<SelectionSet>,
    found: &mut Vec<(&'a str, Pos)>,
    level: usize,
) -> Result<(), DocumentRefusal> {
    if level > MAX_NESTING {
        return Err(LimitExceeded::Nesting { limit: MAX_NESTING }.into());
    }
    for selection in &set.node.items {
        match &selection.node {
            Selection::Field(field) => spreads_in(&field.node.selection_set, found, level + 1)?,
            Selection::InlineFragment(inline) => {
                spreads_in(&inline.node.selection_set, found, level + 1)?;
            }
            Selection::FragmentSpread(spread) => {
                found.push((spread.node.fragment_name.node.as_str(), spread.pos));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn measured(query: &str) -> DocumentMeasure {
        measure(&parse_query(query).unwrap()).unwrap()
    }

    /// `levels` fragments, each spreading the previous one twice: 2^levels leaves.
    fn doubling(levels: usize) -> String {
        let mut doc = String::from("query { ...F0 }\nfragment F1 on Query { __typename }\n");
        doc = doc.replace("...F0", &format!("...F{levels}"));
        for n in 2..=levels {
            doc.push_str(&format!(
                "fragment F{n} on Query {{ ...F{p} ...F{p} }}\n",
                p = n - 1
            ));
        }
        doc
    }

    #[test]
    fn fragments_are_counted_as_if_expanded_without_expanding_them() {
        // 2^40 leaves: counting them by expansion would never finish.
        let measure = measured(&doubling(40));
        assert!(measure.fields > 1 << 40, "{measure:?}");
        let small = measured(&doubling(3));
        // Definitions: F1 = 1, F2 = 2 × (1 + 1) = 4, F3 = 2 × (1 + 4) = 10; the operation
        // spreads F3 once: 1 + 10.
        assert_eq!(small.fields, 11 + 1 + 4 + 10);
    }

    #[test]
    fn a_fragment_cycle_is_refused() {
        let document =
            parse_query("{ ...A } fragment A on Query { ...B } fragment B on Query { a { ...A } }")
                .unwrap();
        assert!(matches!(
            measure(&document),
            Err(DocumentRefusal::Invalid { message, .. }) if message.contains("within itself")
        ));
        let document = parse_query("{ ...A } fragment A on Query { ...A }").unwrap();
        assert!(matches!(
            measure(&document),
            Err(DocumentRefusal::Invalid { .. })
        ));
    }

    #[test]
    fn introspection_does_not_count_towards_depth() {
        let measure = measured(
            "{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } }
               a { b { __typename } } }",
        );
        assert_eq!(measure.depth, 2);
        assert!(measure.introspection);
        assert!(!measured("{ a { __typename } }").introspection);
    }

    #[test]
    fn aliases_count_through_fragments_and_typename_is_free() {
        let measure = measured(
            "{ x: a y: a t: __typename ...F ...F } fragment F on Query { z: a u: __typename }",
        );
        assert_eq!(measure.aliases, 4);
    }

    #[test]
    fn directives_count_everywhere() {
        let measure = measured(
            "query($v: Boolean @d) @d { a @skip(if: $v) ... @include(if: true) { b } ...F @d }
             fragment F on Query @d { c @d }",
        );
        assert_eq!(measure.directives, 7);
    }

    #[test]
    fn the_reserved_alias_is_refused() {
        let document = parse_query("{ __gazette_object: a }").unwrap();
        assert!(matches!(
            measure(&document),
            Err(DocumentRefusal::Invalid { .. })
        ));
    }

    #[test]
    fn limits_name_what_was_exceeded() {
        let limits = DocumentLimits::default();
        let too_many = DocumentMeasure {
            fields: limits.max_fields + 1,
            ..DocumentMeasure::default()
        };
        assert_eq!(
            too_many.check(&limits).unwrap_err().code(),
            "TOO_MANY_FIELDS"
        );
        let closed = DocumentLimits {
            introspection: false,
            ..limits
        };
        let asks = DocumentMeasure {
            introspection: true,
            ..DocumentMeasure::default()
        };
        assert_eq!(
            asks.check(&closed).unwrap_err().code(),
            "INTROSPECTION_DISABLED"
        );
    }
}
