//! The schema's shape, indexed from its own SDL once at start: each object's and interface's
//! fields (type, arguments), each input object's fields, the directives usable on fields and
//! the root types. The extra validation ([`super::spec_checks`]) and the response completion
//! ([`super::order`]) read it; async-graphql keeps its registry to itself.

use std::collections::HashMap;

use async_graphql::Name;
use async_graphql::Positioned;
use async_graphql::parser::types::{
    BaseType, DirectiveLocation, OperationType, Type, TypeKind, TypeSystemDefinition,
};

/// A field's type, the named type under it, and its arguments.
#[derive(Debug)]
pub(super) struct FieldShape {
    pub(super) ty: Type,
    pub(super) returns: String,
    pub(super) arguments: HashMap<String, Type>,
}

/// A directive usable on fields: its arguments (type, and whether it has a default). None may
/// repeat: the schema declares no repeatable directive (and async-graphql-parser 7 reads every
/// directive definition as `repeatable`, so the SDL cannot tell).
#[derive(Debug, Default)]
pub(super) struct DirectiveShape {
    pub(super) arguments: HashMap<String, (Type, bool)>,
}

/// The parts of the schema the checks need, indexed by name.
#[derive(Debug, Default)]
pub struct SchemaShape {
    pub(super) fields: HashMap<String, HashMap<String, FieldShape>>,
    pub(super) inputs: HashMap<String, HashMap<String, Type>>,
    pub(super) field_directives: HashMap<String, DirectiveShape>,
    roots: [Option<String>; 3],
}

impl SchemaShape {
    /// Indexes the schema described by `sdl` (as `Schema::sdl` prints it).
    pub fn from_sdl(sdl: &str) -> Self {
        let mut shape = Self {
            roots: [
                Some("Query".to_owned()),
                Some("Mutation".to_owned()),
                Some("Subscription".to_owned()),
            ],
            ..Self::default()
        };
        let Ok(document) = async_graphql::parser::parse_schema(sdl) else {
            tracing::error!("the schema's own SDL does not parse; literal checks are off");
            return shape;
        };
        for definition in document.definitions {
            match definition {
                TypeSystemDefinition::Schema(schema) => {
                    let schema = schema.node;
                    let name = |n: Option<Positioned<Name>>| n.map(|n| n.node.to_string());
                    shape.roots = [
                        name(schema.query),
                        name(schema.mutation),
                        name(schema.subscription),
                    ];
                }
                TypeSystemDefinition::Type(ty) => {
                    let ty = ty.node;
                    let fields = match ty.kind {
                        TypeKind::Object(object) => object.fields,
                        TypeKind::Interface(interface) => interface.fields,
                        TypeKind::InputObject(input) => {
                            shape.inputs.insert(
                                ty.name.node.to_string(),
                                input
                                    .fields
                                    .into_iter()
                                    .map(|f| (f.node.name.node.to_string(), f.node.ty.node))
                                    .collect(),
                            );
                            continue;
                        }
                        _ => continue,
                    };
                    let fields = fields
                        .into_iter()
                        .map(|field| {
                            let field = field.node;
                            let shape = FieldShape {
                                returns: named(&field.ty.node).to_owned(),
                                ty: field.ty.node,
                                arguments: field
                                    .arguments
                                    .into_iter()
                                    .map(|a| (a.node.name.node.to_string(), a.node.ty.node))
                                    .collect(),
                            };
                            (field.name.node.to_string(), shape)
                        })
                        .collect();
                    shape.fields.insert(ty.name.node.to_string(), fields);
                }
                TypeSystemDefinition::Directive(directive) => {
                    let directive = directive.node;
                    if directive
                        .locations
                        .iter()
                        .any(|l| l.node == DirectiveLocation::Field)
                    {
                        shape.field_directives.insert(
                            directive.name.node.to_string(),
                            DirectiveShape {
                                arguments: directive
                                    .arguments
                                    .into_iter()
                                    .map(|a| {
                                        let a = a.node;
                                        let has_default = a.default_value.is_some();
                                        (a.name.node.to_string(), (a.ty.node, has_default))
                                    })
                                    .collect(),
                            },
                        );
                    }
                }
            }
        }
        shape
    }

    /// The root type of operations of kind `ty`.
    pub fn root(&self, ty: OperationType) -> Option<&str> {
        let index = match ty {
            OperationType::Query => 0,
            OperationType::Mutation => 1,
            OperationType::Subscription => 2,
        };
        self.roots[index].as_deref()
    }

    /// The declared type of `field` on `parent`, and the named type under it (`None` for
    /// fields the SDL does not list: introspection).
    pub fn field(&self, parent: &str, field: &str) -> Option<(&Type, &str)> {
        self.fields
            .get(parent)
            .and_then(|fields| fields.get(field))
            .map(|shape| (&shape.ty, shape.returns.as_str()))
    }
}

/// The named type under lists and non-null markers.
pub(super) fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named(inner),
    }
}
