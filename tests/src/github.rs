//! GitHub's side of secret scanning, for tests: a signer with a generated
//! P-256 key pair (as GitHub signs its alerts) and the public-key document
//! served on loopback (as `api.github.com/meta/public_keys/secret_scanning`
//! serves it), counting its fetches.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use serde_json::json;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The headers GitHub signs with.
pub const IDENTIFIER_HEADER: &str = "Github-Public-Key-Identifier";
pub const SIGNATURE_HEADER: &str = "Github-Public-Key-Signature";

/// A key GitHub signs alerts with: its identifier and its key pair.
pub struct GitHubSigner {
    pub identifier: String,
    key_pair: EcdsaKeyPair,
}

impl GitHubSigner {
    /// A new P-256 key pair under `identifier`.
    pub fn generate(identifier: &str) -> GitHubSigner {
        GitHubSigner {
            identifier: identifier.to_owned(),
            key_pair: EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING)
                .expect("generate a P-256 key pair"),
        }
    }

    /// The public key as GitHub publishes it: SubjectPublicKeyInfo in PEM.
    pub fn public_pem(&self) -> String {
        let der = self.key_pair.public_key().as_der().expect("encode the key");
        let body = STANDARD.encode(der.as_ref());
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|line| std::str::from_utf8(line).expect("base64 is ASCII"))
            .collect();
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            lines.join("\n")
        )
    }

    /// `Github-Public-Key-Signature` for `body`: base64 of the DER signature.
    pub fn sign(&self, body: &[u8]) -> String {
        let signature = self
            .key_pair
            .sign(&SystemRandom::new(), body)
            .expect("sign");
        STANDARD.encode(signature.as_ref())
    }

    /// Both headers of an alert with `body` signed by this key.
    pub fn headers(&self, body: &[u8]) -> Vec<(&'static str, String)> {
        vec![
            (IDENTIFIER_HEADER, self.identifier.clone()),
            (SIGNATURE_HEADER, self.sign(body)),
        ]
    }
}

/// The key document of `signers`, as GitHub's API answers it.
pub fn key_document(signers: &[&GitHubSigner]) -> String {
    let keys: Vec<_> = signers
        .iter()
        .enumerate()
        .map(|(i, signer)| {
            json!({
                "key_identifier": signer.identifier,
                "key": signer.public_pem(),
                "is_current": i == 0,
            })
        })
        .collect();
    json!({ "public_keys": keys }).to_string()
}

/// The document served on a loopback port for as long as the runtime that
/// started it runs; what it serves can be changed, and it counts fetches.
pub struct KeyDocumentServer {
    pub url: String,
    document: Arc<Mutex<(u16, String)>>,
    fetches: Arc<AtomicUsize>,
}

impl KeyDocumentServer {
    /// Serves `document` with status 200.
    pub async fn start(document: String) -> KeyDocumentServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let url = format!(
            "http://{}/meta/public_keys/secret_scanning",
            listener.local_addr().unwrap()
        );
        let served = Arc::new(Mutex::new((200, document)));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (state, count) = (served.clone(), fetches.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (state, count) = (state.clone(), count.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |_request| {
                        count.fetch_add(1, Ordering::SeqCst);
                        let (status, body) = state.lock().unwrap().clone();
                        let response = hyper::Response::builder()
                            .status(status)
                            .header("content-type", "application/json")
                            .body(Full::new(Bytes::from(body)))
                            .expect("valid response");
                        async move { Ok::<_, Infallible>(response) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        KeyDocumentServer {
            url,
            document: served,
            fetches,
        }
    }

    /// Serves `body` with `status` from now on.
    pub fn serve(&self, status: u16, body: String) {
        *self.document.lock().unwrap() = (status, body);
    }

    /// How often the document was asked for.
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

/// GitHub's `token_hash` of `token`: SHA-256, lower-case hex.
pub fn token_hash(token: &str) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes())
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
