//! Which addresses a webhook delivery may reach, and which URLs may be
//! registered (`WEBHOOK_ALLOWED_NETWORKS`).
