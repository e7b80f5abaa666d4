//! The dispatch request body: its wire shape and its validation. A body that
//! passes [`validate`] is a [`ValidDispatch`]: an existing ID, 1 to
//! [`MAX_CONTACTS`] distinct E.164 phone numbers, texts within their bounds.

use orgkeys_api::ScheduleId;
use orgkeys_shared::conversations::Contact;
use orgkeys_shared::edge::problem::FieldError;
use orgkeys_shared::edge::request::Object;
use orgkeys_shared::validation::{ID_RULE, Violations};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

pub const MAX_CONTACTS: usize = 100;
const MAX_VARIABLE_CHARS: usize = 1024;
const MAX_TEXT_CHARS: usize = 200;

/// Body of a dispatch, as sent.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DispatchInput {
    schedule_id: Option<String>,
    reference: Option<String>,
    contacts: Option<Vec<Object<ContactInput>>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ContactInput {
    phone: Option<String>,
    name: Option<String>,
    customer_uid: Option<String>,
    variables: Option<BTreeMap<String, String>>,
}

/// A dispatch that passed validation; its JSON is what an `Idempotency-Key`
/// is bound to.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidDispatch {
    pub schedule_id: ScheduleId,
    pub reference: Option<String>,
    pub contacts: Vec<Contact>,
}

/// Every violation of `input`, each with its JSON pointer, or the valid dispatch.
pub fn validate(input: DispatchInput) -> Result<ValidDispatch, Vec<FieldError>> {
    let mut v = Violations::new();
    let schedule_id = match input.schedule_id.as_deref().map(ScheduleId::parse) {
        None => {
            v.body("/scheduleId", "is required");
            None
        }
        Some(Err(_)) => {
            v.body("/scheduleId", ID_RULE);
            None
        }
        Some(Ok(id)) => Some(id),
    };
    v.text("/reference", input.reference.as_deref(), MAX_TEXT_CHARS);
    let contacts: Vec<ContactInput> = input
        .contacts
        .unwrap_or_default()
        .into_iter()
        .map(|Object(contact)| contact)
        .collect();
    if !(1..=MAX_CONTACTS).contains(&contacts.len()) {
        v.body(
            "/contacts",
            format!("must hold 1 to {MAX_CONTACTS} contacts"),
        );
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, contact) in contacts.iter().enumerate() {
        check_contact(&mut v, i, contact, &mut seen);
    }
    v.finish()?;
    // Always there once `finish` passed; said again rather than unwrapped.
    let Some(schedule_id) = schedule_id else {
        return Err(vec![FieldError::body("/scheduleId", "is required")]);
    };
    Ok(ValidDispatch {
        schedule_id,
        reference: input.reference,
        contacts: contacts
            .into_iter()
            .map(|c| Contact {
                phone: c.phone.unwrap_or_default(),
                name: c.name,
                customer_uid: c.customer_uid,
                variables: c.variables.unwrap_or_default(),
            })
            .collect(),
    })
}

/// The violations of contact `i`; `seen` holds the phones of those before it.
fn check_contact<'a>(
    v: &mut Violations,
    i: usize,
    contact: &'a ContactInput,
    seen: &mut HashMap<&'a str, usize>,
) {
    match contact.phone.as_deref() {
        None => v.body(format!("/contacts/{i}/phone"), "is required"),
        Some(phone) if !is_e164(phone) => v.body(
            format!("/contacts/{i}/phone"),
            "must be E.164: + then 7 to 15 digits, the first not 0",
        ),
        Some(phone) => {
            if let Some(first) = seen.insert(phone, i) {
                v.body(
                    format!("/contacts/{i}/phone"),
                    format!("repeats /contacts/{first}/phone"),
                );
            }
        }
    }
    v.text(
        &format!("/contacts/{i}/name"),
        contact.name.as_deref(),
        MAX_TEXT_CHARS,
    );
    v.text(
        &format!("/contacts/{i}/customerUid"),
        contact.customer_uid.as_deref(),
        MAX_TEXT_CHARS,
    );
    for (name, value) in contact.variables.iter().flatten() {
        let pointer = format!(
            "/contacts/{i}/variables/{}",
            name.replace('~', "~0").replace('/', "~1")
        );
        if !is_variable_name(name) {
            v.body(
                &pointer,
                "variable names are 1-64 characters of A-Z, a-z, 0-9 and _",
            );
        }
        v.multiline_text(&pointer, value, MAX_VARIABLE_CHARS);
    }
}

/// `+`, then 7–15 digits, the first not 0.
fn is_e164(phone: &str) -> bool {
    phone.strip_prefix('+').is_some_and(|digits| {
        (7..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

fn is_variable_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_numbers() {
        for good in ["+353861234567", "+1234567", "+123456789012345"] {
            assert!(is_e164(good), "{good}");
        }
        for bad in [
            "353861234567",
            "+0353861234",
            "+123456",
            "+1234567890123456",
            "+35386 123",
            "+",
        ] {
            assert!(!is_e164(bad), "{bad}");
        }
    }

    #[test]
    fn every_violation_is_listed_with_its_pointer() {
        let input: DispatchInput = serde_json::from_value(serde_json::json!({
            "scheduleId": "bad id",
            "contacts": [
                {"phone": "+353861234567", "variables": {"ok": "x", "bad-name": "y", "long": "z".repeat(1025)}},
                {"phone": "0861234567"},
                {"phone": "+353861234567"},
                {}
            ]
        }))
        .unwrap();
        let errors = validate(input).err().unwrap();
        let pointers: Vec<&str> = errors.iter().filter_map(|e| e.pointer.as_deref()).collect();
        assert_eq!(
            pointers,
            [
                "/scheduleId",
                "/contacts/0/variables/bad-name",
                "/contacts/0/variables/long",
                "/contacts/1/phone",
                "/contacts/2/phone",
                "/contacts/3/phone"
            ]
        );
    }
}

/// Property tests: the request parsers never panic on anything a client sends.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Any JSON value, nested a few levels.
    fn json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            ".{0,20}".prop_map(serde_json::Value::from),
            "\\+[0-9]{0,16}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::from),
                proptest::collection::btree_map(
                    prop_oneof![
                        Just("scheduleId".to_owned()),
                        Just("contacts".to_owned()),
                        Just("phone".to_owned()),
                        Just("variables".to_owned()),
                        Just("reference".to_owned()),
                        ".{0,8}".prop_map(String::from)
                    ],
                    inner,
                    0..6
                )
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn dispatch_bodies_never_panic_and_accepted_ones_are_valid(body in json()) {
            if let Ok(input) = serde_json::from_value::<DispatchInput>(body)
                && let Ok(valid) = validate(input)
            {
                prop_assert!((1..=MAX_CONTACTS).contains(&valid.contacts.len()));
                prop_assert!(valid.contacts.iter().all(|c| is_e164(&c.phone)));
            }
        }
    }
}
