//! Persisted queries on the wire: the `extensions.persistedQuery` object and the manifest
//! file. The registry (what is known, the protocol's answers, the shared store) is
//! `gazette_app::persisted`'s.

use std::collections::HashMap;

use serde::Deserialize;

pub use gazette_app::persisted::*;

/// `extensions.persistedQuery` as a client sends it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireExtension {
    /// Protocol version; only 1 exists.
    pub version: i64,
    /// Lower-case hex SHA-256 of the query document.
    pub sha256_hash: String,
}

impl From<WireExtension> for PersistedQueryExtension {
    fn from(wire: WireExtension) -> Self {
        Self {
            version: wire.version,
            sha256_hash: wire.sha256_hash,
        }
    }
}

/// Reads a manifest: Apollo's `{"format": "apollo-persisted-query-manifest", "operations":
/// [{"id", "body", …}]}` or a plain `{"<sha256>": "<query>"}` object. Every id must be the
/// SHA-256 of its body.
pub fn parse_manifest(json: &str) -> Result<HashMap<String, String>, String> {
    #[derive(Deserialize)]
    struct Operation {
        id: String,
        body: String,
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Manifest {
        Apollo { operations: Vec<Operation> },
        Plain(HashMap<String, String>),
    }
    let manifest: Manifest =
        serde_json::from_str(json).map_err(|e| format!("not a persisted query manifest: {e}"))?;
    let entries: Vec<(String, String)> = match manifest {
        Manifest::Apollo { operations } => operations.into_iter().map(|o| (o.id, o.body)).collect(),
        Manifest::Plain(map) => map.into_iter().collect(),
    };
    entries
        .into_iter()
        .map(|(id, body)| {
            let id = id.to_ascii_lowercase();
            if sha256_hex(&body) == id {
                Ok((id, body))
            } else {
                Err(format!(
                    "manifest entry {id} is not the SHA-256 of its body"
                ))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_apollo_manifest_is_read_by_id() {
        let query = "{ articles(first: 1) { edges { node { slug } } } }";
        let manifest = parse_manifest(&format!(
            r#"{{"format":"apollo-persisted-query-manifest","version":1,
                "operations":[{{"id":"{}","name":"Latest","type":"query","body":{}}}]}}"#,
            sha256_hex(query).to_ascii_uppercase(),
            serde_json::to_string(query).unwrap()
        ))
        .unwrap();
        assert_eq!(
            manifest,
            HashMap::from([(sha256_hex(query), query.to_owned())])
        );
    }

    #[test]
    fn a_manifest_with_a_wrong_id_is_refused() {
        assert!(
            parse_manifest(
                r#"{"0000000000000000000000000000000000000000000000000000000000000000": "{ a }"}"#
            )
            .is_err()
        );
        assert!(parse_manifest("[1, 2]").is_err());
    }
}
