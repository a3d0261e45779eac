# Gazette developer commands. `make run` and `make test` are the two set-up commands.
CARGO ?= cargo
DATABASE_URL ?= sqlite://gazette.db
GAZETTE_ADDR ?= 127.0.0.1:8080
SEED_GENERATED ?= 200
# `make run` shows the reference front page of examples/web/ at http://127.0.0.1:8080/ (the
# binary's default is off); `make run GAZETTE_WEB_EXAMPLE=false` leaves it out.
GAZETTE_WEB_EXAMPLE ?= true
# Development-only HS256 secret so `make run` accepts tokens from `make token`; set your own
# (at least 32 random bytes) anywhere that matters.
GAZETTE_JWT_SECRET ?= dev-secret-change-me-0123456789abcdef
ROLE ?= editor
SUB ?= dev
TTL ?= 1h
SCOPE ?=

.PHONY: run serve seed migrate test bench lint fmt schema layers cycles share pg redis clean token

## Build, migrate, load sample content and serve the reference page at http://127.0.0.1:8080/
## with GraphiQL at http://127.0.0.1:8080/graphql
run:
	$(CARGO) build --release -p gazette-server
	DATABASE_URL=$(DATABASE_URL) ./target/release/gazette seed --generated $(SEED_GENERATED)
	DATABASE_URL=$(DATABASE_URL) GAZETTE_ADDR=$(GAZETTE_ADDR) GAZETTE_JWT_SECRET='$(GAZETTE_JWT_SECRET)' GAZETTE_WEB_EXAMPLE=$(GAZETTE_WEB_EXAMPLE) ./target/release/gazette serve

## Mint a bearer token for `make run`'s server: make token ROLE=editor SUB=alice [TTL=1h] [SCOPE=syndication]
token:
	@GAZETTE_JWT_SECRET='$(GAZETTE_JWT_SECRET)' $(CARGO) run -q -p gazette-server -- token --role $(ROLE) --sub '$(SUB)' --ttl $(TTL) $(if $(SCOPE),--scope $(SCOPE))

## Every test: unit, property and end-to-end, on SQLite and PostgreSQL (and Redis for the
## shared rate limits)
test: pg redis
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --no-fail-fast; \
	else \
		$(CARGO) test --workspace --no-fail-fast; \
	fi

## Speed figures (release build, real server, SQLite): the view beacon under load, trending
## over 100,000 articles and 10,000,000 views, search and related, and a reader of the sample
## page while hostile requests run. One of them: BENCH=beacon|trending|search|abuse|reads|push.
## BENCH=push (not part of the default run) holds 1,000 SSE streams and serves 100 webhook
## subscriptions while 1,000 stories are published: memory per idle stream, delivery lag of
## both, nothing lost (BENCH_CLIENTS, BENCH_SUBSCRIBERS, BENCH_PUBLICATIONS for smaller runs).
## BENCH=reads (not part of the default run) measures read throughput with `wrk`
## (apt-get install -y wrk) on SQLite and on PostgreSQL (BENCH_PG_URL, default the local
## server; its options are kept, e.g. `?sslmode=disable` to measure without TLS), each row
## against `{ __typename }`. Record them in BENCHMARKS.md.
bench:
	$(CARGO) build --release -p gazette-server -p gazette-bench
	./target/release/gazette-bench $(BENCH)

## Start the local PostgreSQL when it is not answering (tests need it)
pg:
	@./scripts/ensure-postgres.sh

## Start a local Redis on 127.0.0.1:6379 when none answers (the shared rate-limit tests)
redis:
	@./scripts/ensure-redis.sh

## Format check, clippy with warnings as errors, the layer rules, no module import cycles
## in crates/api, and crates/api (the adapters) under a third of the code
lint: layers cycles share
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## Fail when a crate depends on a layer it must not
layers:
	@./scripts/check-layers.sh

## Fail when modules of crates/api import each other in a cycle
cycles:
	@./scripts/check-cycles.sh crates/api/src

## Each crate's non-test lines and share; fails when crates/api holds a third or more
share:
	@./scripts/code-share.sh

fmt:
	$(CARGO) fmt --all

## Rewrite schema.graphql from the code
schema:
	$(CARGO) run -q -p gazette-server -- schema > schema.graphql

migrate:
	DATABASE_URL=$(DATABASE_URL) $(CARGO) run -q -p gazette-server -- migrate

seed:
	DATABASE_URL=$(DATABASE_URL) $(CARGO) run -q -p gazette-server -- seed --generated $(SEED_GENERATED)

clean:
	rm -f gazette.db gazette.db-wal gazette.db-shm
