//! `schema.graphql` is the code's schema, to the byte.

#[test]
fn checked_in_sdl_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql");
    let on_disk =
        std::fs::read_to_string(path).expect("schema.graphql exists at the repository root");
    let from_code = gazette_api::schema_sdl();
    assert!(
        on_disk == from_code,
        "schema.graphql is stale: run `make schema` and commit the result"
    );
}
