//! Atom 1.0 (RFC 4287), written by `atom_syndication`.

use atom_syndication::{Category, Content, Entry, Link, Person, Text};

use gazette_app::feeds::Feed;

/// `Content-Type` of an Atom feed.
pub const CONTENT_TYPE: &str = "application/atom+xml; charset=utf-8";

fn link(href: &str, rel: &str, mime_type: Option<&str>) -> Link {
    Link {
        href: href.to_owned(),
        rel: rel.to_owned(),
        mime_type: mime_type.map(str::to_owned),
        ..Link::default()
    }
}

/// The feed as an Atom document. Entries without full text carry the dek as `summary` and
/// link to the article (`rel="alternate"`), as RFC 4287 asks of entries without content.
pub fn render(feed: &Feed) -> Result<Vec<u8>, atom_syndication::Error> {
    let entries = feed
        .items
        .iter()
        .map(|item| Entry {
            id: item.id.clone(),
            title: Text::plain(item.title.as_str()),
            updated: item.updated.fixed_offset(),
            published: Some(item.published.fixed_offset()),
            authors: item
                .authors
                .iter()
                .map(|name| Person {
                    name: name.clone(),
                    ..Person::default()
                })
                .collect(),
            categories: item
                .topics
                .iter()
                .map(|t| Category {
                    term: t.slug.clone(),
                    label: Some(t.name.clone()),
                    scheme: None,
                })
                .collect(),
            links: vec![link(&item.url, "alternate", Some("text/html"))],
            summary: Some(Text::plain(item.summary.as_str())),
            content: item.content_html.as_ref().map(|html| Content {
                value: Some(html.clone()),
                content_type: Some("html".to_owned()),
                lang: Some(item.language.clone()),
                ..Content::default()
            }),
            ..Entry::default()
        })
        .collect();
    let atom = atom_syndication::Feed {
        id: feed.id.clone(),
        title: Text::plain(feed.title.as_str()),
        subtitle: Some(Text::plain(feed.description.as_str())),
        updated: feed.updated.fixed_offset(),
        // WebSub: the hub, beside the `self` link a subscriber names in its subscription.
        links: std::iter::once(link(&feed.self_url, "self", Some("application/atom+xml")))
            .chain(std::iter::once(link(
                &feed.home_url,
                "alternate",
                Some("text/html"),
            )))
            .chain(feed.hub.iter().map(|hub| link(hub, "hub", None)))
            .collect(),
        lang: Some(feed.language.clone()),
        entries,
        ..atom_syndication::Feed::default()
    };
    atom.write_to(Vec::new())
}
