//! Sample content loads once, however often the seed runs.

use gazette_tests::{on_both_databases, spawn_app};

on_both_databases!(seeding_twice_adds_nothing, |db| async move {
    let app = spawn_app(db).await;
    let now = chrono::Utc::now();
    let first = gazette_persistence::seed_sample_content(&app.store, 25, now)
        .await
        .unwrap();
    assert_eq!((first.topics, first.authors, first.articles), (14, 6, 34));
    let second = gazette_persistence::seed_sample_content(&app.store, 25, now)
        .await
        .unwrap();
    assert_eq!((second.topics, second.authors, second.articles), (0, 0, 0));
    let more = gazette_persistence::seed_sample_content(&app.store, 30, now)
        .await
        .unwrap();
    assert_eq!(
        more.articles, 5,
        "a larger count adds only the missing filler"
    );
});
