//! The wire shapes of an article's content that GraphQL and REST share: pictures and body
//! blocks (as readers get them, and as editors send them), and an editable state with its
//! field changes as editors see them in a revision. Each converts from (or to) the domain type
//! here only, so a domain or storage rename never changes what clients read.

use gazette_domain::body::MAX_BLOCKS;
use gazette_domain::{
    ArticleState, Block, Body, CanonicalUrl, FieldValue, HeroImage, Slug, ValidationError,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

/// A picture.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Image)]
pub struct ImageJson {
    /// Absolute URL.
    pub url: String,
    /// Text alternative.
    pub alt: String,
    /// Caption.
    #[schema(required = true)]
    pub caption: Option<String>,
    /// Photographer or agency.
    #[schema(required = true)]
    pub credit: Option<String>,
}

impl From<&HeroImage> for ImageJson {
    fn from(h: &HeroImage) -> Self {
        let h = h.clone();
        Self {
            url: h.url,
            alt: h.alt,
            caption: h.caption,
            credit: h.credit,
        }
    }
}

/// One block of an article body, tagged by `type` (the shape editors write).
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
#[schema(as = BodyBlock)]
pub enum BlockJson {
    /// A paragraph of text.
    Paragraph {
        /// The text.
        text: String,
    },
    /// A sub-heading.
    Heading {
        /// 2, 3 or 4.
        level: u8,
        /// The text.
        text: String,
    },
    /// Quoted speech.
    Quote {
        /// The quoted words.
        text: String,
        /// Who said them.
        #[schema(required = true)]
        attribution: Option<String>,
    },
    /// A picture inside the body.
    Image {
        /// Absolute URL.
        url: String,
        /// Text alternative.
        alt: String,
        /// Caption.
        #[schema(required = true)]
        caption: Option<String>,
        /// Photographer or agency.
        #[schema(required = true)]
        credit: Option<String>,
    },
    /// Third-party content referenced by URL.
    Embed {
        /// The embedded resource.
        url: String,
        /// Who hosts it.
        #[schema(required = true)]
        provider: Option<String>,
        /// Caption.
        #[schema(required = true)]
        caption: Option<String>,
    },
}

impl From<&Block> for BlockJson {
    fn from(block: &Block) -> Self {
        match block.clone() {
            Block::Paragraph { text } => Self::Paragraph { text },
            Block::Heading { level, text } => Self::Heading { level, text },
            Block::Quote { text, attribution } => Self::Quote { text, attribution },
            Block::Image {
                url,
                alt,
                caption,
                credit,
            } => Self::Image {
                url,
                alt,
                caption,
                credit,
            },
            Block::Embed {
                url,
                provider,
                caption,
            } => Self::Embed {
                url,
                provider,
                caption,
            },
        }
    }
}

/// A body block as an editor sends it: [`BlockJson`]'s fields, the optional ones omissible
/// (read straight into the domain's [`Block`]).
#[derive(Deserialize)]
#[serde(
    remote = "Block",
    tag = "type",
    rename_all = "camelCase",
    deny_unknown_fields
)]
enum BlockInput {
    Paragraph {
        text: String,
    },
    Heading {
        level: u8,
        text: String,
    },
    Quote {
        text: String,
        #[serde(default)]
        attribution: Option<String>,
    },
    Image {
        url: String,
        #[serde(default)]
        alt: String,
        #[serde(default)]
        caption: Option<String>,
        #[serde(default)]
        credit: Option<String>,
    },
    Embed {
        url: String,
        #[serde(default)]
        provider: Option<String>,
        #[serde(default)]
        caption: Option<String>,
    },
}

/// Parses a body sent by a client: a JSON array of blocks, checked by the input rules. Errors
/// name the block at fault (`body[2].type` for a block type we do not know, `body[2]` for a
/// malformed block).
pub fn body_from_input(value: Value) -> Result<Body, ValidationError> {
    let Value::Array(items) = value else {
        return Err(ValidationError::new("body", "must be a list of blocks"));
    };
    if items.len() > MAX_BLOCKS {
        return Err(ValidationError::new(
            "body",
            format!("must have at most {MAX_BLOCKS} blocks"),
        ));
    }
    const KNOWN: [&str; 5] = ["paragraph", "heading", "quote", "image", "embed"];
    let known = KNOWN.join(", ");
    let mut blocks = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let refused = match item.get("type").and_then(Value::as_str) {
            None => Some(format!("is required: one of {known}")),
            Some(kind) if !KNOWN.contains(&kind) => {
                Some(format!("unknown block type `{kind}`: use one of {known}"))
            }
            Some(_) => None,
        };
        if let Some(message) = refused {
            return Err(ValidationError::new(format!("body[{i}].type"), message));
        }
        let block = BlockInput::deserialize(item)
            .map_err(|e| ValidationError::new(format!("body[{i}]"), e.to_string()))?;
        blocks.push(block);
    }
    Body::new(blocks)
}

/// A body as editors write it (a revision's, a mirror's): [`BlockJson`] with each absent
/// optional field left out rather than null.
pub fn editor_blocks(body: &Body) -> Vec<Value> {
    let mut blocks = json!(
        body.blocks()
            .iter()
            .map(BlockJson::from)
            .collect::<Vec<_>>()
    );
    for block in blocks.as_array_mut().into_iter().flatten() {
        if let Some(fields) = block.as_object_mut() {
            fields.retain(|_, v| !v.is_null());
        }
    }
    match blocks {
        Value::Array(blocks) => blocks,
        _ => Vec::new(),
    }
}

/// A field of an editable state as editors see it in a revision (`null` when unset).
pub fn field_json(value: &FieldValue) -> Value {
    use FieldValue as F;
    match value {
        F::Slug(v) => json!(v.as_str()),
        F::Headline(v) => json!(v.as_str()),
        F::Dek(v) => json!(v.as_str()),
        F::Body(v) => json!(editor_blocks(v)),
        F::Source(v) => json!(v.as_str()),
        F::Language(v) => json!(v.as_str()),
        F::CanonicalUrl(v) => json!(v.as_ref().map(CanonicalUrl::as_str)),
        F::HeroImage(v) => json!(v.as_ref().map(ImageJson::from)),
        F::PrimaryTopic(v) => json!(v.as_ref().map(Slug::as_str)),
        F::Topics(v) | F::Authors(v) => json!(v.iter().map(Slug::as_str).collect::<Vec<_>>()),
        F::Status(v) => json!(v.as_str()),
        F::PublishedAt(v) => json!(v),
        F::Syndication(v) => {
            json!({"syndicatable": v.syndicatable, "embargoUntil": v.embargo_until})
        }
        F::ExpiresAt(v) => json!(v),
        F::Kill(v) => json!(
            v.as_ref()
                .map(|k| json!({"at": k.at, "reason": k.reason.as_str()}))
        ),
    }
}

/// A whole editable state as editors see it in a revision: each field by its name.
pub fn state_json(state: &ArticleState) -> Value {
    let fields = state.fields();
    Value::Object(
        fields
            .iter()
            .map(|f| (f.name().to_owned(), field_json(f)))
            .collect(),
    )
}
