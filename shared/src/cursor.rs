//! Opaque pagination cursors. A cursor names the organization and the query
//! it was issued for and where the page ended, under a blake3 tag, all
//! base64url-encoded. Tenant isolation does not rest on it (the partition key
//! always comes from the caller's authorizer context); the tag and the owner
//! check turn a tampered, truncated or foreign cursor into a clear 400.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

const CONTEXT: &str = "orgkeys cursor v1";
const TAG_BYTES: usize = 16;
/// Longer than any cursor we issue; bounds the work spent on a hostile one.
pub const MAX_LEN: usize = 1024;

#[derive(Serialize, Deserialize)]
struct Payload {
    o: String,
    q: String,
    a: String,
}

/// Why a cursor was refused; says nothing of its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorError {
    Malformed,
    Foreign,
}

/// A cursor that resumes `query` of `organization_id` after `after`.
pub fn encode(organization_id: &str, query: &str, after: &str) -> String {
    let payload = Payload {
        o: organization_id.into(),
        q: query.into(),
        a: after.into(),
    };
    let mut bytes = serde_json::to_vec(&payload).expect("cursor payload serializes");
    let tag = tag(&bytes);
    bytes.extend_from_slice(&tag);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The position a cursor resumes after, if it is intact and was issued to
/// this organization for this query.
pub fn decode(cursor: &str, organization_id: &str, query: &str) -> Result<String, CursorError> {
    if cursor.len() > MAX_LEN {
        return Err(CursorError::Malformed);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| CursorError::Malformed)?;
    if bytes.len() <= TAG_BYTES {
        return Err(CursorError::Malformed);
    }
    let (payload, given) = bytes.split_at(bytes.len() - TAG_BYTES);
    if tag(payload) != given {
        return Err(CursorError::Malformed);
    }
    let payload: Payload = serde_json::from_slice(payload).map_err(|_| CursorError::Malformed)?;
    if payload.o != organization_id || payload.q != query {
        return Err(CursorError::Foreign);
    }
    Ok(payload.a)
}

fn tag(payload: &[u8]) -> [u8; TAG_BYTES] {
    let mut hasher = blake3::Hasher::new_derive_key(CONTEXT);
    hasher.update(payload);
    let mut out = [0u8; TAG_BYTES];
    out.copy_from_slice(&hasher.finalize().as_bytes()[..TAG_BYTES]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_resumes_only_its_own_query_of_its_own_organization() {
        let cursor = encode("acme", "status=active", "sched-9");
        assert_eq!(
            decode(&cursor, "acme", "status=active"),
            Ok("sched-9".into())
        );
        assert_eq!(
            decode(&cursor, "globex", "status=active"),
            Err(CursorError::Foreign)
        );
        assert_eq!(decode(&cursor, "acme", ""), Err(CursorError::Foreign));
    }

    #[test]
    fn every_single_character_change_is_rejected() {
        let cursor = encode("acme", "", "sched-9");
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for pos in 0..cursor.len() {
            for replacement in alphabet.chars() {
                let mut changed: Vec<char> = cursor.chars().collect();
                if changed[pos] == replacement {
                    continue;
                }
                changed[pos] = replacement;
                let changed: String = changed.into_iter().collect();
                assert!(
                    decode(&changed, "acme", "").is_err(),
                    "accepted a change at {pos}"
                );
            }
        }
        assert_eq!(decode("", "acme", ""), Err(CursorError::Malformed));
        assert_eq!(
            decode(&"A".repeat(MAX_LEN + 1), "acme", ""),
            Err(CursorError::Malformed)
        );
    }
}
