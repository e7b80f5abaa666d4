//! GitHub's secret-scanning alerts (run with `scripts/bench`): a signed batch
//! of 100 real keys through the keygen handler against one bare
//! `BatchGetItem` of their 100 lookup items, measured in alternation; and the
//! signature check with GitHub's key cached.
//!
//! The keys were reported once before the run and `LEAKED_KEY_ACTION` is
//! `report`, so each measured batch finds them flagged and writes nothing:
//! the ratio is the endpoint's own work (headers, signature, JSON, checksums,
//! hashes, the lookup, the labels) over the read it cannot avoid, without the
//! revocations' transactions.

use chrono::Utc;
use keygen::signature::{SignedBy, verify};
use keygen::{Keygen, Settings};
use orgkeys_benches::{Plan, TARGETS_HEADER, measure, measure_pair, ratio, table, within};
use orgkeys_shared::Store;
use orgkeys_shared::key_format::ApiKey;
use orgkeys_shared::key_hash::KeyHash;
use orgkeys_shared::keys::{LeakedKeyAction, lookup_address};
use orgkeys_shared::routes::{Operation, route};
use orgkeys_tests::github::{
    GitHubSigner, IDENTIFIER_HEADER, KeyDocumentServer, SIGNATURE_HEADER, key_document,
};
use orgkeys_tests::{http_event_json, key_record, seed_draft, seed_org, to_request, with_header};
use serde_json::{Value, json};
use std::time::Duration;

const KEYS: usize = 100;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter("error")
        .with_writer(std::io::stderr)
        .init();
    let plan = Plan::from_args();
    let plan = Plan {
        batches: plan.batches.min(300),
        warmup: plan.warmup.min(20),
    };
    let signer = GitHubSigner::generate("bench-key");
    let document = KeyDocumentServer::start(key_document(&[&signer])).await;
    let store = orgkeys_tests::fresh_store().await;
    let keys = seed_keys(&store).await;
    let keygen = Keygen::new(
        store.clone(),
        Settings {
            leaked_key_action: LeakedKeyAction::Report,
            github_keys_url: document.url.clone(),
            ..Settings::default()
        },
    );

    let tokens: Vec<Value> = keys
        .iter()
        .map(|key| json!({"token": key.expose(), "type": "orgkeys_api_key", "url": "https://github.com/o/r/blob/x/.env", "source": "content"}))
        .collect();
    let body = serde_json::to_string(&tokens).unwrap();
    let signature = signer.sign(body.as_bytes());
    let event = with_header(
        with_header(
            http_event_json(
                route(Operation::ReportLeakedKeys).key,
                &[],
                Some(&body),
                Value::Null,
            ),
            IDENTIFIER_HEADER,
            &signer.identifier,
        ),
        SIGNATURE_HEADER,
        &signature,
    );
    let post = || async {
        let response = keygen.handle(to_request(event.clone())).await.unwrap();
        assert_eq!(response.status(), 200);
        response
    };
    // Reports every key once (the writes this bench leaves out) and fetches
    // GitHub's key into the cache.
    let first: Value = serde_json::from_slice(post().await.body().as_ref()).unwrap();
    assert!(
        first
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["label"] == "true_positive")
    );

    let addresses: Vec<_> = keys
        .iter()
        .map(|k| lookup_address(&KeyHash::of(k)))
        .collect();
    let (batch, bare) = measure_pair(
        plan,
        (
            "signed batch of 100 real keys, already reported (handler, no writes)",
            || async {
                post().await;
            },
        ),
        (
            "bare BatchGetItem of their 100 lookup items (consistent)",
            || bare_batch_get(&store, &addresses),
        ),
    )
    .await;

    let signed = SignedBy {
        identifier: &signer.identifier,
        signature: &signature,
    };
    let now = Utc::now();
    let verification = measure(
        plan,
        "signature verification of that batch (ECDSA P-256, key cached)",
        10,
        || async {
            verify(&keygen.github_keys, &signed, body.as_bytes(), now)
                .await
                .unwrap();
        },
    )
    .await;
    assert_eq!(document.fetches(), 1, "the key came from the cache");

    let mut report = table("GitHub secret scanning", &[&batch, &bare, &verification]);
    report.push('\n');
    report.push_str(TARGETS_HEADER);
    report.push_str(&ratio(
        "signed batch of 100 keys / one BatchGetItem of their 100 lookup items",
        &batch,
        &bare,
        1.5,
    ));
    report.push_str(&within(&verification, Duration::from_micros(200)));
    println!(
        "{}{report}",
        if plan.is_smoke() {
            "smoke run (figures meaningless; use scripts/bench):\n"
        } else {
            ""
        }
    );
}

/// 100 keys of one organization, created as the store creates them.
async fn seed_keys(store: &Store) -> Vec<ApiKey> {
    seed_org(store, "leaky").await;
    let mut keys = Vec::with_capacity(KEYS);
    for i in 0..KEYS {
        let key = ApiKey::generate().unwrap();
        let record = key_record("leaky", &format!("key_bench{i:03}"), &key);
        store
            .create_key(&record, &KeyHash::of(&key), &seed_draft())
            .await
            .unwrap();
        keys.push(key);
    }
    keys
}

async fn bare_batch_get(store: &Store, addresses: &[orgkeys_shared::dynamo::attributes::Item]) {
    use aws_sdk_dynamodb::types::KeysAndAttributes;
    let wanted = KeysAndAttributes::builder()
        .set_keys(Some(addresses.to_vec()))
        .consistent_read(true)
        .build()
        .unwrap();
    let out = store
        .client()
        .batch_get_item()
        .request_items(store.table(), wanted)
        .send()
        .await
        .unwrap();
    let found = out.responses.unwrap()[store.table()].len();
    let left = out
        .unprocessed_keys
        .and_then(|mut t| t.remove(store.table()))
        .map_or(0, |k| k.keys().len());
    assert_eq!(found + left, KEYS);
}
