//! What an API key may do. The authorizer passes a key's scopes on; each
//! public route demands one (`routes`).

crate::wire_enum!(
    /// One thing a key may do.
    Scope {
        SchedulesRead => "schedules:read",
        ConversationsWrite => "conversations:write",
        ConversationsRead => "conversations:read",
    }
);
