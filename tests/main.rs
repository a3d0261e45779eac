//! Gazette's end-to-end tests: one binary, one module per area. Every storage test runs on
//! SQLite and on PostgreSQL.

mod auth;
mod bad_input;
mod bounds;
mod changes;
mod connections;
mod delivery;
mod editorial;
mod feeds;
mod http_protocol;
mod judged;
mod migrations;
mod outage;
mod pagination;
mod reads;
mod rest;
mod rest_contract;
mod schema_drift;
mod search;
mod seed;
mod statements;
mod views;
mod visibility;
