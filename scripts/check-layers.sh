#!/usr/bin/env bash
# The dependency direction of STYLE.md, checked: domain knows no storage, web, GraphQL or
# serialization (storage JSON is persistence's shape, wire JSON is api's);
# persistence knows no app or api; app (the use cases) knows domain and persistence only, no
# HTTP, GraphQL, OpenAPI or wire format; auth (credentials) knows the domain's viewer and JWTs,
# no storage, HTTP or GraphQL; telemetry (metric names, recorder) knows no HTTP or GraphQL;
# graphql-spec (document bounds, spec rules) knows GraphQL only, nothing of Gazette; formats
# (the partner document formats: ninjs, JSON-LD) knows the domain and the use cases' models,
# no HTTP, GraphQL or storage; outbound (the TLS client, the WebSub publisher, the CDN purger)
# knows the use cases and an HTTP client, no web framework, GraphQL, storage or api; api (the
# adapters) knows no server binary.
set -euo pipefail
fail=0
forbid() { # crate, forbidden dependency
  if cargo tree -p "$1" -e normal -i "$2" --quiet 2>/dev/null | grep -q .; then
    echo "layer violation: $1 depends on $2" >&2
    cargo tree -p "$1" -e normal -i "$2" >&2 || true
    fail=1
  fi
}
forbid_direct() { # crate, forbidden direct dependency (one its own dependencies may still use)
  if cargo tree -p "$1" -e normal --depth 1 --prefix none --quiet 2>/dev/null \
    | awk '{print $1}' | grep -qx "$2"; then
    echo "layer violation: $1 depends directly on $2" >&2
    fail=1
  fi
}
for dep in sea-orm sqlx axum async-graphql tokio hyper gazette-app gazette-auth \
  gazette-telemetry gazette-graphql-spec gazette-api; do
  forbid gazette-domain "$dep"
done
# chrono and uuid bring serde along (their features); the domain itself derives none.
for dep in serde serde_json; do forbid_direct gazette-domain "$dep"; done
for dep in gazette-app gazette-auth gazette-telemetry gazette-graphql-spec gazette-api axum \
  async-graphql gazette-server; do
  forbid gazette-persistence "$dep"
done
for dep in gazette-persistence gazette-app gazette-api gazette-server sea-orm sqlx axum \
  async-graphql hyper http tower-http tokio; do
  forbid gazette-auth "$dep"
done
for dep in gazette-api gazette-server axum async-graphql hyper http tower-http; do
  forbid gazette-telemetry "$dep"
done
for dep in gazette-domain gazette-persistence gazette-app gazette-auth gazette-telemetry \
  gazette-api gazette-server sea-orm axum hyper tower-http; do
  forbid gazette-graphql-spec "$dep"
done
# The use cases: no web framework, GraphQL, OpenAPI, HTTP, token or wire-format crate, and
# no serde of their own (storage JSON is persistence's; wire shapes are api's).
for dep in gazette-api gazette-server gazette-auth gazette-telemetry gazette-graphql-spec axum \
  async-graphql async-graphql-value utoipa hyper hyper-util http tower-http jsonwebtoken \
  atom_syndication rss sitemap-rs serde_urlencoded metrics-exporter-prometheus; do
  forbid gazette-app "$dep"
done
for dep in serde serde_json sea-orm; do forbid_direct gazette-app "$dep"; done
# The partner document formats: serde shapes of the use cases' articles, nothing else.
for dep in gazette-api gazette-server gazette-auth gazette-telemetry gazette-graphql-spec axum \
  async-graphql hyper tower-http; do
  forbid gazette-formats "$dep"
done
for dep in gazette-persistence sea-orm sqlx; do forbid_direct gazette-formats "$dep"; done
# Outbound HTTP (the TLS client, the WebSub publisher, the CDN purger): the use cases (the
# change log, the feed URLs, the cache tags) and an HTTP client only.
for dep in gazette-api gazette-server gazette-auth gazette-telemetry gazette-graphql-spec \
  gazette-formats gazette-push axum async-graphql utoipa reqwest; do
  forbid gazette-outbound "$dep"
done
for dep in gazette-persistence sea-orm sqlx; do forbid_direct gazette-outbound "$dep"; done
forbid gazette-api gazette-server
forbid gazette-api gazette-outbound
# The webhook sender: no server binary; storage through the use cases and persistence's
# functions only (no SQL of its own), no web framework or GraphQL of its own.
forbid gazette-push gazette-server
for dep in sea-orm sqlx axum async-graphql; do forbid_direct gazette-push "$dep"; done
forbid gazette-migrations gazette-persistence
[ "$fail" -eq 0 ] && echo "layers: ok"
exit "$fail"
