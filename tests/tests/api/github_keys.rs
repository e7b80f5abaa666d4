//! GitHub's secret-scanning keys as keygen holds them: fetched from the
//! document (served here on loopback), cached, refetched for an unknown
//! identifier at most once a minute, with the clock handed in rather than
//! slept through; and a signature checked against them.

use chrono::{Duration, Utc};
use keygen::github_keys::{GitHubKeys, REFETCH_INTERVAL};
use keygen::signature::{Refusal, SignedBy, verify};
use orgkeys_tests::github::{GitHubSigner, KeyDocumentServer, key_document};

#[tokio::test]
async fn an_unknown_identifier_refetches_the_document_at_most_once_a_minute() {
    let first = GitHubSigner::generate("k1");
    let second = GitHubSigner::generate("k2");
    let document = KeyDocumentServer::start(key_document(&[&first])).await;
    let keys = GitHubKeys::new(&document.url);
    let t0 = Utc::now();

    assert!(keys.key("k1", t0).await.unwrap().is_some());
    assert!(
        keys.key("k1", t0 + Duration::hours(5))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        document.fetches(),
        1,
        "a known key is served from the cache"
    );

    document.serve(200, key_document(&[&second, &first]));
    let within = t0 + REFETCH_INTERVAL - Duration::seconds(1);
    assert!(keys.key("k2", within).await.unwrap().is_none());
    assert!(keys.key("forged", within).await.unwrap().is_none());
    assert_eq!(document.fetches(), 1, "no refetch within the minute");

    let after = t0 + REFETCH_INTERVAL;
    assert!(keys.key("k2", after).await.unwrap().is_some());
    assert_eq!(document.fetches(), 2);
    assert!(
        keys.key("forged", after + Duration::seconds(30))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(document.fetches(), 2);
    assert!(
        keys.key("forged", after + REFETCH_INTERVAL)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(document.fetches(), 3);
    assert!(
        keys.key("k1", after + REFETCH_INTERVAL)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_failed_fetch_is_an_error_until_a_fetch_succeeds_and_keeps_the_keys_known() {
    let signer = GitHubSigner::generate("k1");
    let document = KeyDocumentServer::start("{}".into()).await;
    let keys = GitHubKeys::new(&document.url);
    let t0 = Utc::now();
    assert!(keys.key("k1", t0).await.is_err(), "not the key document");
    document.serve(503, "busy".into());
    assert!(keys.key("k1", t0 + Duration::seconds(10)).await.is_err());
    assert_eq!(
        document.fetches(),
        1,
        "a failure does not make it fetch more often"
    );

    document.serve(200, key_document(&[&signer]));
    let t1 = t0 + REFETCH_INTERVAL;
    assert!(keys.key("k1", t1).await.unwrap().is_some());
    document.serve(500, "down".into());
    let t2 = t1 + REFETCH_INTERVAL;
    assert!(
        keys.key("k1", t2).await.unwrap().is_some(),
        "known keys outlive a failed fetch"
    );
    assert!(keys.key("k9", t2).await.is_err());
    assert_eq!(document.fetches(), 3);
}

#[tokio::test]
async fn a_signature_verifies_only_by_the_key_it_names_over_the_body_it_signed() {
    let signer = GitHubSigner::generate("k1");
    let other = GitHubSigner::generate("k2");
    let document = KeyDocumentServer::start(key_document(&[&signer, &other])).await;
    let keys = GitHubKeys::new(&document.url);
    let now = Utc::now();
    let body = br#"[{"token":"orgk_x","type":"orgkeys_api_key","url":"","source":"content"}]"#;
    let check = |identifier: &'static str, signature: String, body: &'static [u8]| {
        let keys = &keys;
        async move {
            let signed = SignedBy {
                identifier,
                signature: &signature,
            };
            verify(keys, &signed, body, now).await
        }
    };
    assert_eq!(check("k1", signer.sign(body), body).await, Ok(()));
    assert_eq!(check("k2", other.sign(body), body).await, Ok(()));
    assert_eq!(
        check("k1", other.sign(body), body).await,
        Err(Refusal::BadSignature)
    );
    assert_eq!(
        check("k1", signer.sign(b"[]"), body).await,
        Err(Refusal::BadSignature)
    );
    assert_eq!(
        check("k3", signer.sign(body), body).await,
        Err(Refusal::UnknownKey)
    );
}
