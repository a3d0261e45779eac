#!/usr/bin/env bash
# The dependency direction of STYLE.md, checked: domain knows no storage, web or GraphQL;
# persistence knows no api; api knows no server binary.
set -euo pipefail
fail=0
forbid() { # crate, forbidden dependency
  if cargo tree -p "$1" -e normal -i "$2" --quiet 2>/dev/null | grep -q .; then
    echo "layer violation: $1 depends on $2" >&2
    cargo tree -p "$1" -e normal -i "$2" >&2 || true
    fail=1
  fi
}
for dep in sea-orm sqlx axum async-graphql tokio hyper; do forbid gazette-domain "$dep"; done
for dep in gazette-api axum async-graphql gazette-server; do forbid gazette-persistence "$dep"; done
forbid gazette-api gazette-server
forbid gazette-migrations gazette-persistence
[ "$fail" -eq 0 ] && echo "layers: ok"
exit "$fail"
