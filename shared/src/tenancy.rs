//! The tenant partition: every item an organization owns (its own item, its
//! keys' listing copies, schedules, conversations, idempotency records, usage
//! counters, audit events) lives in the partition `ORG#<orgId>`, so one Query
//! lists each kind and the organization's delete finds them all. A leaf of
//! its own: every aggregate addresses items there, and none should import
//! another aggregate for it (that made import cycles).

use orgkeys_api::OrgId;

/// The partition key of everything `org_id` owns.
pub fn partition(org_id: &OrgId) -> String {
    format!("ORG#{org_id}")
}
