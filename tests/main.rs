//! Gazette's end-to-end tests: one binary, one module per area. Every storage test runs on
//! SQLite and on PostgreSQL.

mod auth;
mod bad_input;
mod bounds;
mod browser;
mod buried;
mod cache_safety;
mod change_privacy;
mod changes;
mod connections;
mod delivery;
mod editorial;
mod feed_safety;
mod feeds;
mod graphiql;
mod graphql_spec;
mod http_protocol;
mod input_rules;
mod judged;
mod limits;
mod migrations;
mod observability;
mod openapi_values;
mod outage;
mod pagination;
mod reads;
mod rest;
mod rest_contract;
mod restore;
mod schema_drift;
mod search;
mod seed;
mod statements;
mod view_guard;
mod views;
mod visibility;
