//! Webhook fan-out (run with `scripts/bench`): a stream batch of 100 audit
//! events of one organization with three endpoints becomes 300 queue jobs;
//! measured against a bare SQS SendMessageBatch of the same 300 messages
//! (thirty calls, the same way the fan-out sends them), in alternation,
//! both against the same moto server.

use orgkeys_benches::{Plan, TARGETS_HEADER, ratio, summarize, table};
use orgkeys_shared::audit::{Action, Target, TargetType, details};
use orgkeys_shared::webhooks::{NewEndpoint, new_endpoint_id};
use orgkeys_tests::{fresh_store, org_id, seed_draft, seed_org};
use webhooks::fanout::{self, StreamRecord};
use webhooks::job::Job;
use webhooks::queue::Queue;

const EVENTS: usize = 100;
const ENDPOINTS: usize = 3;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let plan = Plan::from_args();
    let plan = Plan {
        batches: plan.batches.min(100),
        warmup: plan.warmup.min(5),
    };
    let store = fresh_store().await;
    seed_org(&store, "acme").await;
    for _ in 0..ENDPOINTS {
        let endpoint = NewEndpoint {
            endpoint_id: new_endpoint_id().unwrap(),
            url: "https://hooks.example/orgkeys".into(),
            description: None,
            event_types: None,
            include_sub_organizations: false,
            sealed_secret: vec![7; 32],
        };
        store
            .create_endpoint(&org_id("acme"), endpoint, &seed_draft())
            .await
            .unwrap();
    }
    // Events after the endpoints were made, as the stream brings them.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let records: Vec<StreamRecord> = (0..EVENTS)
        .map(|i| {
            let draft = orgkeys_shared::audit::Draft::new(
                orgkeys_shared::audit::Actor::admin("bench"),
                Default::default(),
                chrono::Utc::now(),
                Default::default(),
            )
            .unwrap();
            let event = draft.event(
                &org_id("acme"),
                Action::ScheduleUpdated,
                Target::new(TargetType::Schedule, format!("s{i}")),
                details([("status", "active".into())]),
            );
            StreamRecord {
                sequence_number: i.to_string(),
                new_image: event.to_item(),
            }
        })
        .collect();
    // The same messages, sent bare.
    let jobs: Vec<Job> = records
        .iter()
        .flat_map(|record| {
            let event = orgkeys_shared::audit::AuditEvent::from_item(&record.new_image).unwrap();
            let payload = orgkeys_shared::webhooks::WebhookEvent::of_audit(&event).body();
            (0..ENDPOINTS).map(move |e| Job {
                organization_id: org_id("acme"),
                endpoint_id: format!("ep_{e}"),
                message_id: format!("msg_{e}"),
                event_type: event.action.as_str().into(),
                created_at: event.occurred_at,
                payload: payload.clone(),
                once: false,
                attempts_made: 0,
                not_before: None,
            })
        })
        .collect();
    assert_eq!(jobs.len(), EVENTS * ENDPOINTS);
    // Alternating, each on a new queue: moto's queue gets slower as it
    // fills (and allows one purge a minute), which SQS does not.
    let (mut fan_out, mut bare) = (Vec::new(), Vec::new());
    for round in 0..plan.warmup + plan.batches {
        let queue = self::queue().await;
        let started = std::time::Instant::now();
        let failed = fanout::fan_out(&store, &queue, &records).await.unwrap();
        let fan_out_took = started.elapsed();
        assert_eq!(failed, None);
        let queue = self::queue().await;
        let started = std::time::Instant::now();
        assert!(queue.send_all(&jobs).await.unwrap().is_empty());
        let bare_took = started.elapsed();
        if round >= plan.warmup {
            fan_out.push(fan_out_took);
            bare.push(bare_took);
        }
    }
    let fan_out = summarize(
        "fan-out of 100 audit events to 3 endpoints (300 jobs)",
        fan_out,
    );
    let bare = summarize("bare SendMessageBatch of the same 300 messages", bare);
    let mut report = table("Webhook fan-out (per stream batch)", &[&fan_out, &bare]);
    report.push('\n');
    report.push_str(TARGETS_HEADER);
    report.push_str(&ratio(
        "fan-out / a bare SendMessageBatch of the same messages",
        &fan_out,
        &bare,
        1.3,
    ));
    println!("{report}");
}

/// A queue on the test server (moto).
async fn queue() -> Queue {
    let config = orgkeys_shared::dynamo::config::loader()
        .endpoint_url(orgkeys_tests::endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "t", "t", None, None, "bench",
        ))
        .load()
        .await;
    let client = aws_sdk_sqs::Client::new(&config);
    let name = format!("orgkeys-bench-{}", orgkeys_tests::random_hex(4));
    let url = client
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    Queue::new(client, url)
}
