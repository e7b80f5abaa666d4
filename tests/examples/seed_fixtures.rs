//! Seeds a local table with what the `events/*-good.json` fixtures expect:
//! the fixture organization, its published fixture key and the active
//! schedule `fixture-schedule`, for `sam local invoke` or `cargo lambda
//! invoke` by hand (`docs/operations.md`). Creates the table if missing.
//!
//! `TABLE_NAME=orgkeys-local AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000 \
//!   cargo run -p orgkeys-tests --example seed_fixtures`

use orgkeys_shared::Store;
use orgkeys_shared::dynamo::table::ensure_table;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let table = std::env::var("TABLE_NAME").map_err(|_| "set TABLE_NAME")?;
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB")
        .map_err(|_| "set AWS_ENDPOINT_URL_DYNAMODB to a local DynamoDB-API server")?;
    // The fixture key is published in events/: it must never work on a real table.
    if endpoint.contains("amazonaws.com") {
        return Err("refusing to seed the published fixture key into AWS".into());
    }
    let client = orgkeys_tests::client_for(&endpoint).await;
    ensure_table(&client, &table).await?;
    let store = Store::new(client, &table);
    orgkeys_tests::seed_fixture_key(&store).await;
    orgkeys_tests::seed_fixture_schedule(&store).await;
    println!(
        "seeded {table} at {endpoint}: organization {}, key {} ({}), schedule fixture-schedule",
        orgkeys_tests::FIXTURE_ORG,
        orgkeys_tests::FIXTURE_KEY_ID,
        orgkeys_tests::FIXTURE_KEY
    );
    Ok(())
}
