//! Load and races over HTTP against the devserver binary: keys validated while
//! others are deleted, concurrent rolls of one key, concurrent dispatches.
//! Every loop is bounded in count and time, and talks only to loopback.

use orgkeys_tests::app::Caller;
use orgkeys_tests::local_gateway::Devserver;
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn setup(server: &Devserver, keys: usize) -> Vec<(String, String)> {
    server.create_organization().await;
    server.create_schedule("s1").await;
    let mut out = Vec::new();
    for _ in 0..keys {
        let created = server.create_key().await;
        out.push((
            created.json["keyId"].as_str().unwrap().to_owned(),
            created.json["apiKey"].as_str().unwrap().to_owned(),
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deleted_keys_are_refused_once_the_cache_ttl_has_passed() {
    const TTL: Duration = Duration::from_secs(1);
    let server = Arc::new(Devserver::start(&[("AUTH_CACHE_TTL_SECONDS", "1")]));
    let keys = Arc::new(setup(&server, 8).await);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(4);

    let mut clients = tokio::task::JoinSet::new();
    for client in 0..6 {
        let (app, keys) = (server.app(), keys.clone());
        clients.spawn(async move {
            let mut seen = Vec::new();
            for i in 0..2_000 {
                if Instant::now() >= deadline {
                    break;
                }
                let (key_id, key) = &keys[(client + i) % keys.len()];
                let at = started.elapsed();
                let reply = app.list_schedules().by(&Caller::key(key)).await;
                seen.push((key_id.clone(), at, reply.status));
            }
            seen
        });
    }
    // Delete half of the keys while the clients run.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mut deleted_at = std::collections::HashMap::new();
    for (key_id, _) in keys.iter().step_by(2) {
        let reply = server.app().delete_key("acme", key_id).await;
        assert_eq!(reply.status, 204);
        deleted_at.insert(key_id.clone(), started.elapsed());
    }

    let mut total = 0;
    let mut refused_after_ttl = 0;
    while let Some(seen) = clients.join_next().await {
        for (key_id, at, status) in seen.unwrap() {
            total += 1;
            assert!(status == 200 || status == 403, "unexpected {status}");
            match deleted_at.get(&key_id) {
                // A request that started a full TTL after the delete returned must be refused.
                Some(deleted) if at > *deleted + TTL => {
                    assert_eq!(
                        status,
                        403,
                        "deleted key {key_id} allowed {:?} after deletion",
                        at - *deleted
                    );
                    refused_after_ttl += 1;
                }
                Some(_) => {}
                None => assert_eq!(status, 200, "a live key was refused"),
            }
        }
    }
    assert!(total > 100, "the clients made {total} requests");
    assert!(
        refused_after_ttl > 10,
        "the deleted keys were tried after the TTL ({refused_after_ttl})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_rolls_of_one_key_leave_exactly_one_successor() {
    let server = Arc::new(Devserver::start(&[]));
    let keys = setup(&server, 1).await;
    let key_id = keys[0].0.clone();
    let mut rolls = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let (server, key_id) = (server.clone(), key_id.clone());
        rolls.spawn(async move { server.app().roll_key("acme", &key_id, json!({})).await });
    }
    let mut successors = Vec::new();
    while let Some(reply) = rolls.join_next().await {
        let reply = reply.unwrap();
        match reply.status {
            201 => successors.push(reply.json["keyId"].as_str().unwrap().to_owned()),
            409 => {}
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    assert_eq!(successors.len(), 1, "exactly one roll wins");
    let listing = server.app().list_keys("acme").await;
    let items = listing.json["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        2,
        "the old key and one successor: {}",
        listing.body
    );
    let old = items
        .iter()
        .find(|k| k["keyId"] == key_id.as_str())
        .unwrap();
    assert_eq!(old["rolledTo"], successors[0].as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_dispatches_under_distinct_keys_all_succeed() {
    let server = Arc::new(Devserver::start(&[]));
    let keys = setup(&server, 1).await;
    let by_key = Caller::key(&keys[0].1);
    let mut sends = tokio::task::JoinSet::new();
    for i in 0..24 {
        let (app, by_key) = (server.app(), by_key.clone());
        sends.spawn(async move {
            let body = json!({"scheduleId": "s1", "contacts": [
                {"phone": format!("+35386{i:07}")}, {"phone": format!("+35387{i:07}")}
            ]});
            let key = format!("race-{i}");
            let call = app.dispatch(body).by(&by_key);
            call.header("idempotency-key", &key).await
        });
    }
    let mut dispatches = BTreeSet::new();
    let mut conversations = BTreeSet::new();
    while let Some(reply) = sends.join_next().await {
        let reply = reply.unwrap();
        assert_eq!(reply.status, 202, "{}", reply.body);
        dispatches.insert(reply.json["dispatchId"].as_str().unwrap().to_owned());
        for c in reply.json["conversations"].as_array().unwrap() {
            conversations.insert(c["conversationId"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(dispatches.len(), 24);
    assert_eq!(conversations.len(), 48);
}
