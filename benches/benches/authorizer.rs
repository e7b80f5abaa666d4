//! Authorizer hot paths (run with `scripts/bench`): malformed reject, cache hit
//! (handler only, and from event JSON bytes to response JSON bytes), and cache
//! miss against a bare `GetItem` of the same item with the same client.

use authorizer::{Authorizer, Settings};
use chrono::Utc;
use orgkeys_benches::{Plan, TARGETS_HEADER, measure, measure_pair, ratio, table, within};
use orgkeys_shared::key_format::ApiKey;
use orgkeys_shared::key_hash::KeyHash;
use orgkeys_tests::{FIXTURE_KEY, event_fixture, fresh_store, seed_fixture_key};
use std::time::Duration;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let plan = Plan::from_args();
    let store = fresh_store().await;
    seed_fixture_key(&store).await;
    let cached = Authorizer::new(store.clone(), Settings::default());
    let uncached = Authorizer::new(
        store.clone(),
        Settings {
            cache_ttl: Duration::ZERO,
            ..Settings::default()
        },
    );
    let now = Utc::now();
    let malformed = format!("{}x", &FIXTURE_KEY[..FIXTURE_KEY.len() - 1]);
    let event_bytes = serde_json::to_vec(&event_fixture("authorizer-http-good.json")).unwrap();
    assert!(
        cached.check(FIXTURE_KEY, now).await.is_ok(),
        "warm the cache"
    );

    let reject = measure(plan, "reject malformed key (checksum)", 1000, || async {
        assert!(matches!(
            cached.check(&malformed, now).await,
            Ok(authorizer::Decision::Deny(_))
        ));
    })
    .await;
    let hit = measure(plan, "cache hit, handler only", 1000, || async {
        assert!(matches!(
            cached.check(FIXTURE_KEY, now).await,
            Ok(authorizer::Decision::Allow(_))
        ));
    })
    .await;
    let hit_json = measure(
        plan,
        "cache hit, event bytes → response bytes",
        200,
        || async {
            let event = serde_json::from_slice(&event_bytes).unwrap();
            let answer = cached.respond(event, now).await.unwrap();
            assert!(!serde_json::to_vec(&answer).unwrap().is_empty());
        },
    )
    .await;

    let io_plan = Plan {
        batches: plan.batches.min(500),
        warmup: plan.warmup.min(50),
    };
    let key =
        orgkeys_shared::keys::lookup_address(&KeyHash::of(&ApiKey::parse(FIXTURE_KEY).unwrap()));
    let (miss, bare) = measure_pair(
        io_plan,
        ("cache miss (one GetItem)", || async {
            let decision = uncached.check(FIXTURE_KEY, now).await;
            assert!(matches!(decision, Ok(authorizer::Decision::Allow(_))));
        }),
        ("bare GetItem, same item and client", || async {
            let out = store
                .client()
                .get_item()
                .table_name(store.table())
                .set_key(Some(key.clone()))
                .consistent_read(true)
                .send()
                .await
                .unwrap();
            assert!(out.item.is_some());
        }),
    )
    .await;

    let mut report = table("Authorizer", &[&reject, &hit, &hit_json, &miss, &bare]);
    report.push('\n');
    report.push_str(TARGETS_HEADER);
    report.push_str(&within(&reject, Duration::from_nanos(200)));
    report.push_str(&within(&hit, Duration::from_nanos(600)));
    report.push_str(&within(&hit_json, Duration::from_micros(9)));
    report.push_str(&ratio("cache miss / bare GetItem", &miss, &bare, 1.10));
    if plan.is_smoke() {
        println!("smoke run (figures meaningless; use scripts/bench):\n{report}");
    } else {
        println!("{report}");
    }
}
