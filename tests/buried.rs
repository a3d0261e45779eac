//! The judged corpus buried in an archive: its story threads (`threads` in
//! `tests/fixtures/judged-corpus.json`) under [`FILLER`] newer generated articles that share
//! their topics and their common words ("officials said", "prices", "north", "talks"…), written
//! through the store's bulk import. Related lists and search must still find each thread:
//! related precision@3 against the editors' lists and recall@5 of the thread, search
//! precision@5 and recall@5 over the judged queries and the thread queries (judged by meaning).
//! Prints the figures (they are recorded in BENCHMARKS.md) and holds search to the targets of
//! issue 18 (precision@5 ≥ 0.9, recall@5 ≥ 0.8) and related to floors just under what it
//! reaches (its precision@3 target, 0.9, is not met yet), on both databases.
//!
//! With `GAZETTE_RELATED_RECORD` set to a directory, the test also writes what ranking reads
//! for each judged article (`related-Sqlite.json`, `related-Postgres.json`); the ignored test
//! `replay_related` ranks such a recording again with today's `rank` and prints the same
//! figures, in under a second (see BENCHMARKS.md, issue 18, fifth pass).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, TimeZone, Utc};
use gazette_domain::related::{Keywords, Profile, Rarity, rank};
use gazette_domain::{
    ArticleState, ArticleStatus, Block, Body, Dek, Headline, Language, Slug, Source, Syndication,
    Visibility,
};
use gazette_tests::{TestApp, on_both_databases, spawn_seeded_app};
use serde_json::json;

use crate::judged::{corpus, load, precision_at, recall_at, slugs};

/// Generated articles published after the whole corpus.
const FILLER: usize = 10_000;

/// Words the filler shares with the judged queries on purpose: common news words a real
/// archive is full of. No judged query is made of these alone, so no filler article holds every
/// word of a query (checked below): the judgments stay true under the filler.
const SHARED_WITH_QUERIES: &[&str] = &[
    "demand", "home", "north", "prices", "safety", "state", "trade",
];

const SUBJECTS: &[&str] = &[
    "Officials",
    "The government",
    "Local leaders",
    "Lawmakers",
    "Regulators",
    "Analysts",
    "Company executives",
    "City council members",
    "Union leaders",
    "Economists",
    "Ministers",
    "Investors",
    "Residents",
    "State agencies",
];
const VERBS: &[&str] = &[
    "agree again on",
    "report new figures on",
    "warn about",
    "plan talks on",
    "debate",
    "say little about",
    "revise estimates for",
    "back changes to",
    "criticise",
    "review",
    "expect a record year for",
    "hold talks on",
];
const OBJECTS: &[&str] = &[
    "municipal budgets",
    "public transport fares",
    "school funding",
    "housing prices",
    "water supply",
    "road repairs",
    "pension reform",
    "tax rules",
    "hospital staffing",
    "weather warnings",
    "tourism figures",
    "port traffic",
    "retail sales",
    "labour costs",
    "insurance rates",
    "broadband coverage",
    "north district zoning",
    "state lottery rules",
    "home insurance premiums",
    "trade fair plans",
    "consumer demand",
    "workplace safety rules",
];
const CLOSERS: &[&str] = &[
    "The decision follows weeks of talks and a record number of complaints, according to a report released this week.",
    "Prices and demand are expected to stay steady for the rest of the year, the market leader said.",
    "Officials said a final agreement could come as soon as next month, although talks have stalled before.",
    "A spokesperson for the government said the plan would be reviewed again in the autumn.",
    "Critics said the new rules did little for residents in the north and south of the region.",
    "The figures were published on the state statistics website on Monday.",
];
/// The filler's topics: those of the corpus, the busiest most often.
const TOPICS: &[&str] = &[
    "korean-peninsula",
    "korean-peninsula",
    "markets",
    "markets",
    "health",
    "health",
    "energy",
    "trade",
    "russia",
    "diplomacy",
    "agriculture",
    "technology",
    "nature",
    "science",
    "lifestyle",
    "business",
    "world",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % 1_000_003).unwrap()
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next() % items.len()]
    }
}

/// The `n`th filler article, published `n` × 25 minutes after `start`.
fn filler(n: usize, start: DateTime<Utc>) -> ArticleState {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D ^ (n as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let sentence = |rng: &mut Rng| {
        format!(
            "{} {} {}",
            rng.pick(SUBJECTS),
            rng.pick(VERBS),
            rng.pick(OBJECTS)
        )
    };
    let headline = sentence(&mut rng);
    let dek = format!(
        "{}; officials said more talks were planned.",
        sentence(&mut rng)
    );
    let body = (0..3)
        .map(|_| Block::Paragraph {
            text: format!("{}. {}", sentence(&mut rng), rng.pick(CLOSERS)),
        })
        .collect();
    let primary = rng.pick(TOPICS);
    let secondary = rng.pick(TOPICS);
    ArticleState {
        slug: Slug::parse(&format!("filler-{n:05}")).unwrap(),
        headline: Headline::parse(&headline).unwrap(),
        dek: Dek::parse(&dek).unwrap(),
        body: Body::new(body).unwrap(),
        source: Source::parse("Wire Services").unwrap(),
        language: Language::english(),
        canonical_url: None,
        hero_image: None,
        primary_topic: Some(Slug::parse(primary).unwrap()),
        topics: if secondary == primary {
            Vec::new()
        } else {
            vec![Slug::parse(secondary).unwrap()]
        },
        authors: Vec::new(),
        status: ArticleStatus::Published,
        published_at: Some(start + Duration::minutes(25 * n as i64)),
        syndication: Syndication::default(),
        expires_at: None,
        kill: None,
    }
}

/// The words of `text`, lowercased.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Every query word the filler uses is one of [`SHARED_WITH_QUERIES`], and no query is made of
/// those alone.
fn check_filler_vocabulary(queries: &[String]) {
    let mut vocabulary = HashSet::new();
    for list in [SUBJECTS, VERBS, OBJECTS, CLOSERS] {
        for phrase in list {
            vocabulary.extend(words(phrase));
        }
    }
    vocabulary.extend(words("officials said more talks were planned"));
    for query in queries {
        let query_words: Vec<String> = words(query)
            .filter(|w| !gazette_domain::search::is_stop_word(w))
            .collect();
        let shared: Vec<&String> = query_words
            .iter()
            .filter(|w| {
                vocabulary
                    .iter()
                    .any(|v| v.trim_end_matches('s') == w.trim_end_matches('s'))
            })
            .collect();
        for w in &shared {
            assert!(
                SHARED_WITH_QUERIES.contains(&w.as_str()),
                "the filler uses `{w}` of the query `{query}`"
            );
        }
        assert!(
            shared.len() < query_words.len(),
            "the filler holds every word of `{query}`"
        );
    }
}

async fn bury(app: &TestApp) {
    let start = Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap();
    let filler: Vec<ArticleState> = (0..FILLER).map(|n| filler(n, start)).collect();
    let ids = app
        .store
        .import_articles(&filler, "filler", Utc::now())
        .await
        .expect("import");
    assert_eq!(ids.len(), FILLER);
}

async fn related(app: &TestApp, slug: &str) -> Vec<String> {
    let data = app
        .gql_ok(
            "query($s: String!) { article(slug: $s) { related(first: 5) { slug } } }",
            json!({ "s": slug }),
        )
        .await;
    data["article"]["related"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["slug"].as_str().unwrap().to_owned())
        .collect()
}

/// The slugs of a search's first ten hits; every all-words hit comes before any other.
async fn search(app: &TestApp, query: &str) -> Vec<String> {
    let data = app
        .gql_ok(
            "query($q: String!) { search(query: $q, first: 10) { edges { node { tier article { slug } } } } }",
            json!({ "q": query }),
        )
        .await;
    let edges = data["search"]["edges"].as_array().unwrap();
    let tiers: Vec<&str> = edges
        .iter()
        .map(|e| e["node"]["tier"].as_str().unwrap())
        .collect();
    assert!(
        tiers.windows(2).all(|w| w != ["ANY_WORD", "ALL_WORDS"]),
        "{query}: {tiers:?}"
    );
    edges
        .iter()
        .map(|e| e["node"]["article"]["slug"].as_str().unwrap().to_owned())
        .collect()
}

/// Pages of three through both tiers give the same hits as one page of twelve, each once.
async fn pages_cross_the_tiers(app: &TestApp, query: &str) {
    let page = |first: i32, after: Option<String>| {
        let app = &app;
        async move {
            let data = app
                .gql_ok(
                    "query($q: String!, $f: Int!, $a: String) { search(query: $q, first: $f, after: $a) { \
                       edges { node { tier article { slug } } } pageInfo { hasNextPage endCursor } } }",
                    json!({ "q": query, "f": first, "a": after }),
                )
                .await;
            let hits: Vec<(String, String)> = data["search"]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        e["node"]["tier"].as_str().unwrap().to_owned(),
                        e["node"]["article"]["slug"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            let info = &data["search"]["pageInfo"];
            (
                hits,
                info["hasNextPage"].as_bool().unwrap(),
                info["endCursor"].as_str().map(str::to_owned),
            )
        }
    };
    let (whole, _, _) = page(12, None).await;
    let tiers: HashSet<&str> = whole.iter().map(|h| h.0.as_str()).collect();
    assert_eq!(
        tiers.len(),
        2,
        "`{query}` should reach the second tier: {whole:?}"
    );
    let mut paged = Vec::new();
    let mut after = None;
    for _ in 0..4 {
        let (hits, more, cursor) = page(3, after).await;
        paged.extend(hits);
        assert!(more, "`{query}`: more than twelve hits");
        after = cursor;
    }
    assert_eq!(paged, whole, "`{query}`");
    // REST says the same.
    let rest: serde_json::Value = app
        .get("/v1/search?q=putin%20pyongyang&first=12")
        .await
        .json()
        .await
        .unwrap();
    let rest: Vec<(String, String)> = rest["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["tier"].as_str().unwrap().to_owned(),
                i["article"]["slug"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = whole
        .iter()
        .map(|(t, s)| {
            let t = if t == "ALL_WORDS" {
                "allWords"
            } else {
                "anyWord"
            };
            (t.to_owned(), s.clone())
        })
        .collect();
    assert_eq!(rest, expected);
}

/// Related precision@3 against the editors' lists, and precision@3 and recall@5 within the
/// thread, of the lists `found` gives for each judged article (its first five slugs), with a
/// line for each list that misses.
fn judge_related(
    corpus: &serde_json::Value,
    threads: &HashMap<String, Vec<String>>,
    mut found: impl FnMut(&str) -> Vec<String>,
) -> (f64, f64, f64, Vec<String>) {
    let mut precision = Vec::new();
    let mut thread_precision = Vec::new();
    let mut recall = Vec::new();
    let mut misses = Vec::new();
    let thread_of: HashMap<&str, &Vec<String>> = threads
        .values()
        .flat_map(|members| members.iter().map(move |m| (m.as_str(), members)))
        .collect();
    for (slug, wanted) in corpus["related"].as_object().unwrap() {
        let wanted: HashSet<String> = slugs(wanted).into_iter().collect();
        let found = found(slug);
        let p3 = precision_at(&found, &wanted, 3);
        precision.push(p3);
        let mut r5 = None;
        if let Some(members) = thread_of.get(slug.as_str()) {
            let siblings: HashSet<String> =
                members.iter().filter(|m| *m != slug).cloned().collect();
            let top3 = found
                .iter()
                .take(3)
                .filter(|s| siblings.contains(*s))
                .count();
            thread_precision.push(top3 as f64 / siblings.len().min(3) as f64);
            let hit = found
                .iter()
                .take(5)
                .filter(|s| siblings.contains(*s))
                .count();
            let r = hit as f64 / siblings.len().min(5) as f64;
            recall.push(r);
            r5 = Some(r);
        }
        if p3 < 1.0 || r5.is_some_and(|r| r < 1.0) {
            misses.push(format!(
                "  related {slug}: p@3 {p3:.2} r@5 {r5:?} -> {found:?}"
            ));
        }
    }
    (
        mean(&precision),
        mean(&thread_precision),
        mean(&recall),
        misses,
    )
}

fn profile_json(profile: &Profile, slug: Option<&str>) -> serde_json::Value {
    json!({
        "id": profile.id,
        "slug": slug,
        "primaryTopic": profile.primary_topic,
        "topics": profile.topics,
        "keywords": profile.keywords.encode(),
        "publishedAt": profile.published_at,
    })
}

fn profile_of_json(value: &serde_json::Value) -> Profile {
    Profile {
        id: serde_json::from_value(value["id"].clone()).unwrap(),
        primary_topic: serde_json::from_value(value["primaryTopic"].clone()).unwrap(),
        topics: serde_json::from_value(value["topics"].clone()).unwrap(),
        keywords: Keywords::decode(value["keywords"].as_str().unwrap()),
        published_at: serde_json::from_value(value["publishedAt"].clone()).unwrap(),
    }
}

/// Writes what ranking reads for each judged article (its profile, the rarity of its words
/// and its candidates, as storage gives them to `rank`) to `path` as JSON, so that a change to
/// the ranking can be measured by [`replay_related`] in a second instead of by the whole test.
async fn record_related(app: &TestApp, corpus: &serde_json::Value, path: &str) {
    let now = Utc::now();
    let visibility = Visibility::PublicAt(now);
    let mut lists = Vec::new();
    for slug in corpus["related"].as_object().unwrap().keys() {
        let article = app
            .store
            .article_by_slug(&Slug::parse(slug).unwrap(), visibility)
            .await
            .unwrap()
            .unwrap();
        let (source, candidates) = gazette_app::related::ranking_inputs(&app.store, &article, now)
            .await
            .unwrap();
        let ids: Vec<_> = candidates.profiles.iter().map(|p| p.id).collect();
        let articles = app.store.articles_by_ids(&ids, visibility).await.unwrap();
        let counts: serde_json::Map<String, serde_json::Value> = candidates
            .rarity
            .counts()
            .map(|(k, c)| (k.to_owned(), json!(c)))
            .collect();
        lists.push(json!({
            "source": profile_json(&source, Some(slug)),
            "counts": counts,
            "candidates": candidates
                .profiles
                .iter()
                .map(|p| profile_json(p, articles.get(&p.id).map(|a| a.slug.as_str())))
                .collect::<Vec<_>>(),
        }));
    }
    std::fs::write(path, serde_json::to_string(&lists).unwrap()).expect("recording");
}

/// The figures of a recording of [`record_related`] (`GAZETTE_RELATED_REPLAY`: its path),
/// ranked by today's `rank`: `cargo nextest run -p gazette-tests -E 'test(/replay_related/)'
/// --run-ignored only --no-capture`. The same figures as the test that recorded it while the
/// ranking is the same; a change to `rank` is measured against the same candidates. Writes
/// every candidate's score next to the recording (`<path>.scores.json`).
#[test]
#[ignore = "reads a recording named by GAZETTE_RELATED_REPLAY"]
fn replay_related() {
    let path = std::env::var("GAZETTE_RELATED_REPLAY").expect("GAZETTE_RELATED_REPLAY");
    let lists: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("recording")).unwrap();
    let corpus = corpus();
    let mut ranked: HashMap<String, Vec<String>> = HashMap::new();
    let mut scores: HashMap<String, Vec<(String, f64)>> = HashMap::new();
    for list in &lists {
        let source = profile_of_json(&list["source"]);
        let rarity = Rarity::new(
            list["counts"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, c)| (k.clone(), c.as_u64().unwrap())),
        );
        let candidates: Vec<Profile> = list["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .map(profile_of_json)
            .collect();
        let slug_of: HashMap<_, _> = list["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["id"].as_str().unwrap().to_owned(), c["slug"].clone()))
            .collect();
        // Every candidate's score, best first (the list is its first five).
        let all: Vec<(String, f64)> = rank(&source, &rarity, &candidates, candidates.len())
            .into_iter()
            .filter_map(|(id, score)| {
                slug_of[&id.to_string()]
                    .as_str()
                    .map(|slug| (slug.to_owned(), score))
            })
            .collect();
        let found = all.iter().take(5).map(|(slug, _)| slug.clone()).collect();
        let slug = list["source"]["slug"].as_str().unwrap();
        scores.insert(slug.to_owned(), all);
        ranked.insert(slug.to_owned(), found);
    }
    // Every candidate's score beside the recording, for offline trials of another signal
    // (bench/related-embedding/trial.py).
    std::fs::write(
        format!("{path}.scores.json"),
        serde_json::to_string(&scores).unwrap(),
    )
    .expect("scores");
    let (p3, thread_p3, r5, misses) =
        judge_related(&corpus, &threads(&corpus), |slug| ranked[slug].clone());
    eprintln!("{}", misses.join("\n"));
    eprintln!(
        "replayed {path}: related precision@3 {p3:.3}; within the thread precision@3 \
         {thread_p3:.3}, recall@5 {r5:.3}"
    );
}

/// How far the editors' lists agree with each other: precision@3 of each article's list
/// ranked by the other lists that name it (B lists A, so A should list B), in their order. A
/// symmetric measure of closeness between stories has this as its practical ceiling here
/// (BENCHMARKS.md, issue 18, sixth pass).
fn editors_agreement(corpus: &serde_json::Value) -> f64 {
    let lists: HashMap<&str, Vec<String>> = corpus["related"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(slug, list)| (slug.as_str(), slugs(list)))
        .collect();
    let (precision, _, _, _) = judge_related(corpus, &HashMap::new(), |slug| {
        let mut naming: Vec<(usize, &str)> = lists
            .iter()
            .filter(|(other, _)| **other != slug)
            .filter_map(|(other, list)| Some((list.iter().position(|s| s == slug)?, *other)))
            .collect();
        naming.sort_unstable();
        naming
            .into_iter()
            .map(|(_, other)| other.to_owned())
            .collect()
    });
    precision
}

fn threads(corpus: &serde_json::Value) -> HashMap<String, Vec<String>> {
    corpus["threads"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, members)| (name.clone(), slugs(members)))
        .collect()
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

on_both_databases!(threads_survive_a_buried_archive, |db| async move {
    let corpus = corpus();
    let threads = threads(&corpus);
    let mut queries: Vec<(String, HashSet<String>)> = Vec::new();
    for q in corpus["queries"].as_array().unwrap() {
        queries.push((
            q["query"].as_str().unwrap().to_owned(),
            slugs(&q["relevant"]).into_iter().collect(),
        ));
    }
    for q in corpus["threadQueries"].as_array().unwrap() {
        assert!(threads.contains_key(q["thread"].as_str().unwrap()));
        queries.push((
            q["query"].as_str().unwrap().to_owned(),
            slugs(&q["relevant"]).into_iter().collect(),
        ));
    }
    let raw: Vec<String> = queries.iter().map(|q| q.0.clone()).collect();
    check_filler_vocabulary(&raw);

    let app = spawn_seeded_app(db, 0).await;
    load(&app, &corpus).await;
    bury(&app).await;

    if let Ok(dir) = std::env::var("GAZETTE_RELATED_RECORD") {
        record_related(&app, &corpus, &format!("{dir}/related-{db:?}.json")).await;
    }

    // Related: precision@3 against the editors' lists, recall@5 of each thread.
    let mut lists = HashMap::new();
    for slug in corpus["related"].as_object().unwrap().keys() {
        lists.insert(slug.clone(), related(&app, slug).await);
    }
    let (related_p3, thread_p3, related_r5, mut misses) =
        judge_related(&corpus, &threads, |slug| lists[slug].clone());

    // Search: precision@5 and recall@5 (of at most five) over every judged query.
    let (mut p5, mut r5, mut returned) = (Vec::new(), Vec::new(), Vec::new());
    for (query, wanted) in &queries {
        let found = search(&app, query).await;
        if wanted.is_empty() {
            assert!(found.is_empty(), "{query}: {found:?}");
            continue;
        }
        // precision@5 as in `judged.rs` (relevant among the first five, out of at most five
        // relevant), recall of what five hits could hold (the same for these lists), and the
        // share of the first five hits returned that are relevant (the second tier fills pages,
        // so a query with two relevant articles returns three more).
        let p = precision_at(&found, wanted, 5);
        let hit = found.iter().take(5).filter(|s| wanted.contains(*s)).count();
        let r = hit as f64 / wanted.len().min(5) as f64;
        debug_assert!(r >= recall_at(&found, wanted, 5));
        returned.push(if found.is_empty() {
            0.0
        } else {
            hit as f64 / found.len().min(5) as f64
        });
        p5.push(p);
        r5.push(r);
        if p < 1.0 || r < 1.0 {
            misses.push(format!(
                "  search `{query}`: p@5 {p:.2} r@5 {r:.2} -> {found:?}"
            ));
        }
    }
    let (search_p5, search_r5) = (mean(&p5), mean(&r5));
    pages_cross_the_tiers(&app, "putin pyongyang").await;
    eprintln!("{}", misses.join("\n"));
    eprintln!(
        "buried archive ({db:?}): {} corpus articles + 9 samples under {FILLER} newer; related \
         precision@3 {related_p3:.3} against the editors' lists over {} lists (the lists agree \
         with each other at {:.3}); within the thread \
         precision@3 {thread_p3:.3}, recall@5 {related_r5:.3} over {} articles in {} threads; search precision@5 {search_p5:.3}, recall@5 {search_r5:.3}, \
         relevant share of the first five returned {:.3} over {} queries",
        corpus["articles"].as_array().unwrap().len(),
        lists.len(),
        editors_agreement(&corpus),
        threads.values().map(Vec::len).sum::<usize>(),
        threads.len(),
        mean(&returned),
        p5.len()
    );
    // Issue 18 asks for 0.9 on both related figures: the thread's recall@5 is there (0.93 on
    // both databases), precision@3 is not (0.81–0.82, and 0.87 at best with a sentence
    // embedding added, which is where the editors' lists agree with each other: BENCHMARKS.md,
    // sixth pass). These floors hold what was reached so that it does not slide back.
    assert!(related_p3 >= 0.81, "related precision@3 {related_p3:.3}");
    assert!(
        thread_p3 >= 0.81,
        "related precision@3 within the thread {thread_p3:.3}"
    );
    assert!(
        related_r5 >= 0.92,
        "related thread recall@5 {related_r5:.3}"
    );
    assert!(search_p5 >= 0.9, "search precision@5 {search_p5:.3}");
    assert!(search_r5 >= 0.8, "search recall@5 {search_r5:.3}");
});
