//! Faults over HTTP: the store behind the local gateway stalls, then is cut
//! off, then comes back. The authorizer never allows meanwhile, answers within
//! the SDK's timeout, and the gateway keeps serving other requests.

use devserver::gateway::Gateway;
use orgkeys_shared::Store;
use orgkeys_shared::dynamo::config::OPERATION_TIMEOUT;
use orgkeys_tests::app::{Caller, TestApp};
use orgkeys_tests::fault_proxy::FaultProxy;
use orgkeys_tests::http_client::http;
use orgkeys_tests::{client_for, endpoint, fresh_store};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stalled_or_cut_store_never_lets_a_key_in_and_the_gateway_stays_up() {
    // The table is made directly; the gateway reaches it only through the proxy.
    let table = fresh_store().await;
    let proxy = FaultProxy::start(&endpoint()).await;
    let store = Store::new(client_for(&proxy.endpoint).await, table.table());
    let settings = authorizer::Settings {
        cache_ttl: Duration::ZERO,
        ..Default::default()
    };
    let gateway = Arc::new(Gateway::new(
        store.clone(),
        authorizer::Authorizer::new(store, settings),
        "faults-admin",
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(devserver::serve(listener, gateway, std::future::pending()));

    let app = TestApp::over_http(&url, "faults-admin");
    let org = app.put_organization("acme", json!({"name": "A"})).await;
    assert_eq!(org.status, 201);
    let created = app.create_key("acme", json!({})).await;
    let by_key = Caller::key(created.json["apiKey"].as_str().unwrap());
    assert_eq!(app.list_schedules().by(&by_key).await.status, 200);

    for fault in ["stall", "cut"] {
        match fault {
            "stall" => proxy.stall(),
            _ => proxy.cut_after(0),
        }
        let started = Instant::now();
        let pending = tokio::spawn({
            let (app, by_key) = (app.clone(), by_key.clone());
            async move { app.list_schedules().by(&by_key).await }
        });
        // Meanwhile the gateway answers what needs no store, at once.
        for _ in 0..5 {
            let quick = Instant::now();
            let nowhere = format!("{url}/v1/nowhere");
            let reply = http("GET", &nowhere, &[("authorization", "")], None).await;
            assert_eq!(reply.status, 404);
            assert!(
                quick.elapsed() < Duration::from_millis(500),
                "the gateway stalled with the store"
            );
        }
        let reply = pending.await.unwrap();
        assert_eq!(reply.status, 500, "{fault}: {}", reply.body);
        assert_eq!(reply.json, json!({"message": "Internal Server Error"}));
        assert!(
            started.elapsed() < OPERATION_TIMEOUT + Duration::from_secs(2),
            "{fault}: the authorizer took {:?}",
            started.elapsed()
        );
        proxy.heal();
        assert_eq!(
            app.list_schedules().by(&by_key).await.status,
            200,
            "{fault}: back after healing"
        );
    }
}
