#!/usr/bin/env bash
# Instructions per request, counted by valgrind's callgrind: repeatable on a shared, noisy box
# where req/s moves by a third from one minute to the next (BENCHMARKS.md, "Reads").
#
#   bench/scripts/instructions.sh BINARY SQLITE_FILE [REQUESTS]
#
# Copies SQLITE_FILE (a database `gazette seed --generated 20000` made), serves it under
# callgrind with the response cache and rate limits off, sends 30 warm-up requests and then
# REQUESTS (default 100) one after the other on one keep-alive connection, for the latest-20
# list and for the sample page, and prints the instructions the whole process executed per
# request (every thread: tokio workers and SQLite's). Needs valgrind and python3.
set -euo pipefail
bin=$1; db=$2; n=${3:-100}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
work=$(mktemp -d)
trap 'kill "$vpid" 2>/dev/null || true; rm -rf "$work"' EXIT
cp "$db" "$work/g.db"
DATABASE_URL="sqlite://$work/g.db" GAZETTE_ADDR="127.0.0.1:$port" RUST_LOG=warn \
  GAZETTE_RATE_ANONYMOUS=0 GAZETTE_RESPONSE_CACHE_BYTES=0 \
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$bin" serve >"$work/log" 2>&1 &
vpid=$!
for _ in $(seq 600); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/readyz" && break
  sleep 0.5
done
sample=putins-north-korea-visit-could-reshape-regional-security
latest='{ articles(first: 20) { edges { node { slug headline publishedAt topics { slug name } } } } }'
page="{ article(slug: \"$sample\") { slug headline dek source publishedAt readingTimeMinutes authors { slug name } topics { slug name } body { __typename ... on ParagraphBlock { text } ... on QuoteBlock { text attribution } } related(first: 5) { slug headline dek } } trending(first: 10) { article { slug headline dek } } topics(first: 20) { edges { node { slug name } } } }"
send() {
  python3 - "$port" "$1" "$2" <<'PY'
import sys, json, http.client
port, query, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
c = http.client.HTTPConnection("127.0.0.1", port)
body = json.dumps({"query": query})
for _ in range(n):
    c.request("POST", "/graphql", body, {"Content-Type": "application/json"})
    r = c.getresponse(); data = r.read()
    assert r.status == 200 and b'"errors"' not in data, (r.status, data[:300])
PY
}
for name in latest page; do
  query=$latest; [ "$name" = page ] && query=$page
  send "$query" 30
  callgrind_control -z "$vpid" >/dev/null
  send "$query" "$n"
  callgrind_control -d "$vpid" >/dev/null
  total=$(grep -h '^totals:\|^summary:' "$work"/cg.out.* | tail -1 | awk '{print $2}')
  rm -f "$work"/cg.out.*
  echo "$name: $((total / n)) instructions per request ($n requests)"
done
