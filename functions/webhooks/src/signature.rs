//! The `webhook-signature` header (Standard Webhooks 1.0): `v1,` and the
//! base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}`, one per
//! secret, space-separated, so a receiver still holding the old secret
//! verifies during a roll.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use orgkeys_shared::webhooks::signing::SigningSecret;

/// The header's value for one attempt: one `v1,<signature>` per secret, in
/// the order given (the current secret first, by the caller's convention).
pub fn signature_header(
    secrets: &[&SigningSecret],
    message_id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    let timestamp = timestamp.to_string();
    secrets
        .iter()
        .map(|secret| {
            let key = hmac::Key::new(hmac::HMAC_SHA256, secret.expose_bytes());
            let mut context = hmac::Context::with_key(&key);
            context.update(message_id.as_bytes());
            context.update(b".");
            context.update(timestamp.as_bytes());
            context.update(b".");
            context.update(body);
            format!("v1,{}", STANDARD.encode(context.sign()))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    // The test vector the Standard Webhooks reference libraries publish.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const MESSAGE_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signs_the_published_test_vector() {
        let secret = SigningSecret::parse(SECRET).unwrap();
        assert_eq!(
            signature_header(&[&secret], MESSAGE_ID, TIMESTAMP, BODY),
            SIGNATURE
        );
    }

    #[test]
    fn two_secrets_give_two_signatures_in_order() {
        let old = SigningSecret::parse(SECRET).unwrap();
        let (new, _) = SigningSecret::generate().unwrap();
        let header = signature_header(&[&new, &old], MESSAGE_ID, TIMESTAMP, BODY);
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1], SIGNATURE);
        assert_eq!(
            parts[0],
            signature_header(&[&new], MESSAGE_ID, TIMESTAMP, BODY)
        );
        assert_ne!(parts[0], parts[1]);
    }

    #[test]
    fn the_id_the_timestamp_and_the_body_are_all_signed() {
        let secret = SigningSecret::parse(SECRET).unwrap();
        for (id, timestamp, body) in [
            ("msg_p5jXN8AQM9LWM0D4loKWxJeK", TIMESTAMP, BODY),
            (MESSAGE_ID, TIMESTAMP + 1, BODY),
            (MESSAGE_ID, TIMESTAMP, br#"{"test": 2432232315}"#.as_slice()),
        ] {
            assert_ne!(signature_header(&[&secret], id, timestamp, body), SIGNATURE);
        }
    }
}
