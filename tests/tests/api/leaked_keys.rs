//! Leaked keys in the store, against the DynamoDB server: the batch find of
//! reported keys over several `BatchGetItem` calls, and a report delivered
//! twice at once revoking the key once, with one event.

use orgkeys_shared::Store;
use orgkeys_shared::audit::{Action, Actor, Draft};
use orgkeys_shared::key_format::ApiKey;
use orgkeys_shared::key_hash::KeyHash;
use orgkeys_shared::keys::{KeyRecord, Leak, LeakOutcome, LeakedKeyAction};
use orgkeys_tests::{fresh_store, key_record, org_id, seed_draft, seed_org};

/// Creates `count` keys of `org`; returns each with its hash.
async fn seed_keys(store: &Store, org: &str, count: usize) -> Vec<(ApiKey, KeyHash)> {
    seed_org(store, org).await;
    let mut keys = Vec::new();
    for i in 0..count {
        let key = ApiKey::generate().unwrap();
        let hash = KeyHash::of(&key);
        let record = key_record(org, &format!("key_{i:03}"), &key);
        store
            .create_key(&record, &hash, &seed_draft())
            .await
            .unwrap();
        keys.push((key, hash));
    }
    keys
}

#[tokio::test]
async fn find_keys_reads_past_a_hundred_hashes_ignoring_repeats_and_unknowns() {
    let store = fresh_store().await;
    let keys = seed_keys(&store, "acme", 130).await;
    let mut hashes: Vec<KeyHash> = keys.iter().map(|(_, hash)| *hash).collect();
    let unknown: Vec<KeyHash> = (0..40)
        .map(|_| KeyHash::of(&ApiKey::generate().unwrap()))
        .collect();
    hashes.extend(&unknown);
    hashes.extend(keys.iter().take(20).map(|(_, hash)| *hash));

    let found = store.find_keys(&hashes).await.unwrap();
    assert_eq!(found.len(), 130);
    for (i, (_, hash)) in keys.iter().enumerate() {
        assert_eq!(found[hash].key_id, format!("key_{i:03}"));
        assert_eq!(found[hash].organization_id.as_str(), "acme");
    }
    assert!(unknown.iter().all(|hash| !found.contains_key(hash)));
    assert!(store.find_keys(&[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn one_report_delivered_twice_at_once_revokes_the_key_once_with_one_event() {
    let store = fresh_store().await;
    let keys = seed_keys(&store, "acme", 1).await;
    let hash = keys[0].1;
    let record: KeyRecord = store.find_key(&hash).await.unwrap().unwrap();
    // Stored to the millisecond, as every timestamp.
    let now = orgkeys_shared::wire_time::format(chrono::Utc::now());
    let leak = Leak {
        at: orgkeys_shared::wire_time::parse(&now).unwrap(),
        source: "commit".into(),
        url: Some("https://github.com/o/r/commit/1".into()),
    };
    let draft = || {
        Draft::new(
            Actor::system("github-secret-scanning"),
            Default::default(),
            leak.at,
            Default::default(),
        )
        .unwrap()
    };
    let revoke = |draft: Draft| {
        let (store, record, leak) = (store.clone(), record.clone(), leak.clone());
        async move {
            store
                .revoke_leaked_key(
                    &record,
                    &hash,
                    &leak,
                    LeakedKeyAction::Disable,
                    &draft,
                    Default::default(),
                )
                .await
                .unwrap()
        }
    };
    let (a, b) = tokio::join!(revoke(draft()), revoke(draft()));
    let mut outcomes = [a, b];
    outcomes.sort_by_key(|outcome| *outcome == LeakOutcome::AlreadyReported);
    assert_eq!(
        outcomes,
        [
            LeakOutcome::Revoked(LeakedKeyAction::Disable),
            LeakOutcome::AlreadyReported
        ]
    );

    let after = store.find_key(&hash).await.unwrap().unwrap();
    assert!(!after.enabled);
    assert_eq!(after.leaked, Some(leak.clone()));
    let (listed, _) = store
        .get_key(&org_id("acme"), &record.key_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((listed.enabled, listed.leaked), (false, Some(leak)));
    let (events, _) = store
        .list_audit_events(&org_id("acme"), Some(Action::ApiKeyLeaked), 10, None)
        .await
        .unwrap();
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0].actor, Actor::system("github-secret-scanning"));
    assert_eq!(events[0].details["action"], "disable");
}
