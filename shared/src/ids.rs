//! Identifiers the service makes: a short type prefix and random hex.

/// `prefix` and 24 hex digits (96 bits from the OS CSPRNG): unique without
/// coordination, safe in paths and DynamoDB keys, and public (never secret).
pub fn random_id(prefix: &str) -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes)?;
    Ok(hex_id(prefix, &bytes))
}

/// `prefix` and the hex of `bytes`.
pub fn hex_id(prefix: &str, bytes: &[u8]) -> String {
    bytes.iter().fold(String::from(prefix), |mut id, byte| {
        id.push_str(&format!("{byte:02x}"));
        id
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_prefixed_hex_and_distinct() {
        let a = random_id("key_").unwrap();
        assert_eq!(a.len(), 4 + 24);
        assert!(a[4..].bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, random_id("key_").unwrap());
        assert_eq!(hex_id("x_", &[0, 255]), "x_00ff");
    }
}
