//! RSS 2.0, written by the `rss` crate, with the `atom:link` self link RSS Best Practices
//! ask for, `dc:creator` for bylines (RSS's own `author` must be an e-mail address) and
//! `content:encoded` for full text.

use rss::extension::atom::{AtomExtension, Link};
use rss::extension::dublincore::DublinCoreExtension;
use rss::{Category, Channel, Guid};

use gazette_app::feeds::Feed;

/// `Content-Type` of an RSS feed.
pub const CONTENT_TYPE: &str = "application/rss+xml; charset=utf-8";

/// The feed as an RSS 2.0 document: `description` is the dek (escaped as HTML text),
/// `content:encoded` the body's
/// HTML where full text is granted, `guid` the stable `urn:uuid:` id (not a permalink).
pub fn render(feed: &Feed) -> Result<Vec<u8>, rss::Error> {
    let items = feed
        .items
        .iter()
        .map(|item| rss::Item {
            title: Some(item.title.clone()),
            link: Some(item.url.clone()),
            // An item's description is HTML to RSS readers (the W3C validator warns on a bare
            // `&` or `<`); the dek is plain text, so it is escaped as text first.
            description: Some(html_escape::encode_text(&item.summary).into_owned()),
            content: item.content_html.clone(),
            guid: Some(Guid {
                value: item.id.clone(),
                permalink: false,
            }),
            pub_date: Some(item.published.to_rfc2822()),
            categories: item
                .topics
                .iter()
                .map(|t| Category {
                    name: t.name.clone(),
                    domain: None,
                })
                .collect(),
            dublin_core_ext: Some(DublinCoreExtension {
                creators: item.authors.clone(),
                ..DublinCoreExtension::default()
            }),
            ..rss::Item::default()
        })
        .collect();
    let channel = Channel {
        title: feed.title.clone(),
        link: feed.home_url.clone(),
        description: feed.description.clone(),
        language: Some(feed.language.clone()),
        last_build_date: Some(feed.updated.to_rfc2822()),
        atom_ext: Some(AtomExtension {
            // WebSub (`rel="hub"`) beside the self link, in the Atom namespace as for Atom.
            links: std::iter::once(Link {
                href: feed.self_url.clone(),
                rel: "self".to_owned(),
                mime_type: Some("application/rss+xml".to_owned()),
                ..Link::default()
            })
            .chain(feed.hub.iter().map(|hub| Link {
                href: hub.clone(),
                rel: "hub".to_owned(),
                ..Link::default()
            }))
            .collect(),
        }),
        items,
        ..Channel::default()
    };
    channel.write_to(Vec::new())
}
