//! One typed method per route of `orgkeys_shared::routes::ROUTES`, named for
//! what it does; each takes the route's path IDs and, where the route has
//! one, a body. To add a route: add its method here and its arm to
//! [`TestApp::method_of`] (the compiler asks for it).

use super::{Body, Call, TestApp};
use orgkeys_shared::routes::Operation;
use serde_json::json;

/// The typed methods, one per route of `orgkeys_shared::routes::ROUTES`.
impl TestApp {
    pub fn list_organizations(&self) -> Call<'_> {
        self.request(Operation::ListOrganizations, &[], ())
    }
    /// Creates or replaces organization `org` (`PUT`).
    pub fn put_organization(&self, org: &str, body: impl Into<Body>) -> Call<'_> {
        self.request(Operation::PutOrganization, &[("orgId", org)], body)
    }
    pub fn get_organization(&self, org: &str) -> Call<'_> {
        self.request(Operation::GetOrganization, &[("orgId", org)], ())
    }
    pub fn update_organization(&self, org: &str, body: impl Into<Body>) -> Call<'_> {
        self.request(Operation::UpdateOrganization, &[("orgId", org)], body)
    }
    pub fn delete_organization(&self, org: &str) -> Call<'_> {
        self.request(Operation::DeleteOrganization, &[("orgId", org)], ())
    }
    pub fn create_key(&self, org: &str, body: impl Into<Body>) -> Call<'_> {
        self.request(Operation::CreateApiKey, &[("orgId", org)], body)
    }
    pub fn list_keys(&self, org: &str) -> Call<'_> {
        self.request(Operation::ListApiKeys, &[("orgId", org)], ())
    }
    pub fn get_key(&self, org: &str, key: &str) -> Call<'_> {
        let params = [("orgId", org), ("keyId", key)];
        self.request(Operation::GetApiKey, &params, ())
    }
    pub fn update_key(&self, org: &str, key: &str, body: impl Into<Body>) -> Call<'_> {
        let params = [("orgId", org), ("keyId", key)];
        self.request(Operation::UpdateApiKey, &params, body)
    }
    pub fn delete_key(&self, org: &str, key: &str) -> Call<'_> {
        let params = [("orgId", org), ("keyId", key)];
        self.request(Operation::DeleteApiKey, &params, ())
    }
    pub fn roll_key(&self, org: &str, key: &str, body: impl Into<Body>) -> Call<'_> {
        let params = [("orgId", org), ("keyId", key)];
        self.request(Operation::RollApiKey, &params, body)
    }
    pub fn revoke_leaked_key(&self, body: impl Into<Body>) -> Call<'_> {
        self.request(Operation::RevokeLeakedApiKey, &[], body)
    }
    pub fn list_audit_events(&self, org: &str) -> Call<'_> {
        self.request(Operation::ListAuditEvents, &[("orgId", org)], ())
    }
    pub fn get_organization_usage(&self, org: &str) -> Call<'_> {
        self.request(Operation::GetOrganizationUsage, &[("orgId", org)], ())
    }
    pub fn list_organization_schedules(&self, org: &str) -> Call<'_> {
        let params = [("orgId", org)];
        self.request(Operation::ListOrganizationSchedules, &params, ())
    }
    /// Creates or replaces schedule `id` of `org` (`PUT`).
    pub fn put_schedule(&self, org: &str, id: &str, body: impl Into<Body>) -> Call<'_> {
        let params = [("orgId", org), ("scheduleId", id)];
        self.request(Operation::PutSchedule, &params, body)
    }
    pub fn delete_schedule(&self, org: &str, id: &str) -> Call<'_> {
        let params = [("orgId", org), ("scheduleId", id)];
        self.request(Operation::DeleteSchedule, &params, ())
    }
    pub fn list_schedules(&self) -> Call<'_> {
        self.request(Operation::ListSchedules, &[], ())
    }
    pub fn get_schedule(&self, id: &str) -> Call<'_> {
        self.request(Operation::GetSchedule, &[("scheduleId", id)], ())
    }
    /// `POST /v1/conversations/outbound`.
    pub fn dispatch(&self, body: impl Into<Body>) -> Call<'_> {
        self.request(Operation::DispatchOutbound, &[], body)
    }
    pub fn get_conversation(&self, id: &str) -> Call<'_> {
        let params = [("conversationId", id)];
        self.request(Operation::GetConversation, &params, ())
    }
    /// The calling key's usage (`GET /v1/usage`).
    pub fn usage(&self) -> Call<'_> {
        self.request(Operation::GetUsage, &[], ())
    }
    pub fn console_me(&self) -> Call<'_> {
        self.request(Operation::GetConsoleMe, &[], ())
    }
    pub fn console_list_organizations(&self) -> Call<'_> {
        self.request(Operation::ListConsoleOrganizations, &[], ())
    }
    pub fn console_create_organization(&self, body: impl Into<Body>) -> Call<'_> {
        self.request(Operation::CreateConsoleOrganization, &[], body)
    }
    pub fn console_get_organization(&self, org: &str) -> Call<'_> {
        let params = [("orgId", org)];
        self.request(Operation::GetConsoleOrganization, &params, ())
    }
    pub fn console_update_organization(&self, org: &str, body: impl Into<Body>) -> Call<'_> {
        let params = [("orgId", org)];
        self.request(Operation::UpdateConsoleOrganization, &params, body)
    }
    pub fn console_create_key(&self, org: &str, body: impl Into<Body>) -> Call<'_> {
        self.request(Operation::CreateConsoleApiKey, &[("orgId", org)], body)
    }
    pub fn console_list_keys(&self, org: &str) -> Call<'_> {
        self.request(Operation::ListConsoleApiKeys, &[("orgId", org)], ())
    }
    pub fn console_get_key(&self, org: &str, key: &str) -> Call<'_> {
        let params = [("orgId", org), ("keyId", key)];
        self.request(Operation::GetConsoleApiKey, &params, ())
    }
    pub fn console_update_key(&self, org: &str, key: &str, body: impl Into<Body>) -> Call<'_> {
        let params = [("orgId", org), ("keyId", key)];
        self.request(Operation::UpdateConsoleApiKey, &params, body)
    }
    pub fn console_delete_key(&self, org: &str, key: &str) -> Call<'_> {
        let params = [("orgId", org), ("keyId", key)];
        self.request(Operation::DeleteConsoleApiKey, &params, ())
    }
    pub fn console_roll_key(&self, org: &str, key: &str, body: impl Into<Body>) -> Call<'_> {
        let params = [("orgId", org), ("keyId", key)];
        self.request(Operation::RollConsoleApiKey, &params, body)
    }
    pub fn console_list_schedules(&self, org: &str) -> Call<'_> {
        let params = [("orgId", org)];
        self.request(Operation::ListConsoleSchedules, &params, ())
    }
    pub fn console_usage(&self, org: &str) -> Call<'_> {
        self.request(Operation::GetConsoleUsage, &[("orgId", org)], ())
    }
    pub fn console_list_audit_events(&self, org: &str) -> Call<'_> {
        let params = [("orgId", org)];
        self.request(Operation::ListConsoleAuditEvents, &params, ())
    }
    pub fn list_users(&self, org: &str) -> Call<'_> {
        self.request(Operation::ListUsers, &[("orgId", org)], ())
    }
    /// An invitation: `{email, role}`.
    pub fn invite_user(&self, org: &str, body: impl Into<Body>) -> Call<'_> {
        self.request(Operation::InviteUser, &[("orgId", org)], body)
    }
    pub fn update_user(&self, org: &str, user: &str, body: impl Into<Body>) -> Call<'_> {
        let params = [("orgId", org), ("userId", user)];
        self.request(Operation::UpdateUser, &params, body)
    }
    pub fn remove_user(&self, org: &str, user: &str) -> Call<'_> {
        let params = [("orgId", org), ("userId", user)];
        self.request(Operation::RemoveUser, &params, ())
    }
    pub fn console_list_users(&self, org: &str) -> Call<'_> {
        self.request(Operation::ListConsoleUsers, &[("orgId", org)], ())
    }
    pub fn console_invite_user(&self, org: &str, body: impl Into<Body>) -> Call<'_> {
        self.request(Operation::InviteConsoleUser, &[("orgId", org)], body)
    }
    pub fn console_update_user(&self, org: &str, user: &str, body: impl Into<Body>) -> Call<'_> {
        let params = [("orgId", org), ("userId", user)];
        self.request(Operation::UpdateConsoleUser, &params, body)
    }
    pub fn console_remove_user(&self, org: &str, user: &str) -> Call<'_> {
        let params = [("orgId", org), ("userId", user)];
        self.request(Operation::RemoveConsoleUser, &params, ())
    }
    /// GitHub's secret-scanning alert; its signature goes in `.header(..)`.
    pub fn report_leaked_keys(&self, body: impl Into<Body>) -> Call<'_> {
        self.request(Operation::ReportLeakedKeys, &[], body)
    }
    /// The downstream sender's report on conversation `id` of `org`.
    pub fn report_conversation_status(
        &self,
        org: &str,
        id: &str,
        body: impl Into<Body>,
    ) -> Call<'_> {
        let params = [("orgId", org), ("conversationId", id)];
        self.request(Operation::ReportConversationStatus, &params, body)
    }

    // The webhook routes (docs/webhooks.md).
    pub fn create_webhook(&self, org: &str, body: impl Into<Body>) -> Call<'_> {
        self.request(Operation::CreateWebhookEndpoint, &[("orgId", org)], body)
    }
    pub fn console_create_webhook(&self, org: &str, body: impl Into<Body>) -> Call<'_> {
        self.request(
            Operation::CreateConsoleWebhookEndpoint,
            &[("orgId", org)],
            body,
        )
    }
    pub fn list_webhooks(&self, org: &str) -> Call<'_> {
        self.request(Operation::ListWebhookEndpoints, &[("orgId", org)], ())
    }
    pub fn console_list_webhooks(&self, org: &str) -> Call<'_> {
        self.request(
            Operation::ListConsoleWebhookEndpoints,
            &[("orgId", org)],
            (),
        )
    }
    pub fn get_webhook(&self, org: &str, endpoint: &str) -> Call<'_> {
        self.request(
            Operation::GetWebhookEndpoint,
            &[("orgId", org), ("endpointId", endpoint)],
            (),
        )
    }
    pub fn console_get_webhook(&self, org: &str, endpoint: &str) -> Call<'_> {
        self.request(
            Operation::GetConsoleWebhookEndpoint,
            &[("orgId", org), ("endpointId", endpoint)],
            (),
        )
    }
    pub fn update_webhook(&self, org: &str, endpoint: &str, body: impl Into<Body>) -> Call<'_> {
        self.request(
            Operation::UpdateWebhookEndpoint,
            &[("orgId", org), ("endpointId", endpoint)],
            body,
        )
    }
    pub fn console_update_webhook(
        &self,
        org: &str,
        endpoint: &str,
        body: impl Into<Body>,
    ) -> Call<'_> {
        self.request(
            Operation::UpdateConsoleWebhookEndpoint,
            &[("orgId", org), ("endpointId", endpoint)],
            body,
        )
    }
    pub fn delete_webhook(&self, org: &str, endpoint: &str) -> Call<'_> {
        self.request(
            Operation::DeleteWebhookEndpoint,
            &[("orgId", org), ("endpointId", endpoint)],
            (),
        )
    }
    pub fn console_delete_webhook(&self, org: &str, endpoint: &str) -> Call<'_> {
        self.request(
            Operation::DeleteConsoleWebhookEndpoint,
            &[("orgId", org), ("endpointId", endpoint)],
            (),
        )
    }
    pub fn roll_webhook_secret(
        &self,
        org: &str,
        endpoint: &str,
        body: impl Into<Body>,
    ) -> Call<'_> {
        self.request(
            Operation::RollWebhookSecret,
            &[("orgId", org), ("endpointId", endpoint)],
            body,
        )
    }
    pub fn console_roll_webhook_secret(
        &self,
        org: &str,
        endpoint: &str,
        body: impl Into<Body>,
    ) -> Call<'_> {
        self.request(
            Operation::RollConsoleWebhookSecret,
            &[("orgId", org), ("endpointId", endpoint)],
            body,
        )
    }
    pub fn send_test_webhook(&self, org: &str, endpoint: &str) -> Call<'_> {
        self.request(
            Operation::SendTestWebhook,
            &[("orgId", org), ("endpointId", endpoint)],
            (),
        )
    }
    pub fn console_send_test_webhook(&self, org: &str, endpoint: &str) -> Call<'_> {
        self.request(
            Operation::SendConsoleTestWebhook,
            &[("orgId", org), ("endpointId", endpoint)],
            (),
        )
    }
    pub fn list_webhook_messages(&self, org: &str, endpoint: &str) -> Call<'_> {
        self.request(
            Operation::ListWebhookMessages,
            &[("orgId", org), ("endpointId", endpoint)],
            (),
        )
    }
    pub fn console_list_webhook_messages(&self, org: &str, endpoint: &str) -> Call<'_> {
        self.request(
            Operation::ListConsoleWebhookMessages,
            &[("orgId", org), ("endpointId", endpoint)],
            (),
        )
    }
    pub fn resend_webhook_message(&self, org: &str, endpoint: &str, message: &str) -> Call<'_> {
        self.request(
            Operation::ResendWebhookMessage,
            &[
                ("orgId", org),
                ("endpointId", endpoint),
                ("messageId", message),
            ],
            (),
        )
    }
    pub fn console_resend_webhook_message(
        &self,
        org: &str,
        endpoint: &str,
        message: &str,
    ) -> Call<'_> {
        self.request(
            Operation::ResendConsoleWebhookMessage,
            &[
                ("orgId", org),
                ("endpointId", endpoint),
                ("messageId", message),
            ],
            (),
        )
    }

    /// The typed method of `operation`, called with placeholder arguments.
    /// The `match` has no wildcard: a route added to the table without a
    /// method here does not compile, and `every_route_has_its_method`
    /// (tests/tests/api/routes.rs) checks each method builds its own route.
    pub fn method_of(&self, operation: Operation) -> Call<'_> {
        let (org, id, body) = ("org", "id", json!({}));
        match operation {
            Operation::ListOrganizations => self.list_organizations(),
            Operation::PutOrganization => self.put_organization(org, body),
            Operation::GetOrganization => self.get_organization(org),
            Operation::UpdateOrganization => self.update_organization(org, body),
            Operation::DeleteOrganization => self.delete_organization(org),
            Operation::CreateApiKey => self.create_key(org, body),
            Operation::ListApiKeys => self.list_keys(org),
            Operation::GetApiKey => self.get_key(org, id),
            Operation::UpdateApiKey => self.update_key(org, id, body),
            Operation::DeleteApiKey => self.delete_key(org, id),
            Operation::RollApiKey => self.roll_key(org, id, body),
            Operation::RevokeLeakedApiKey => self.revoke_leaked_key(body),
            Operation::ListAuditEvents => self.list_audit_events(org),
            Operation::GetOrganizationUsage => self.get_organization_usage(org),
            Operation::ListOrganizationSchedules => self.list_organization_schedules(org),
            Operation::PutSchedule => self.put_schedule(org, id, body),
            Operation::DeleteSchedule => self.delete_schedule(org, id),
            Operation::ListSchedules => self.list_schedules(),
            Operation::GetSchedule => self.get_schedule(id),
            Operation::DispatchOutbound => self.dispatch(body),
            Operation::GetConversation => self.get_conversation(id),
            Operation::GetUsage => self.usage(),
            Operation::GetConsoleMe => self.console_me(),
            Operation::ListConsoleOrganizations => self.console_list_organizations(),
            Operation::CreateConsoleOrganization => self.console_create_organization(body),
            Operation::GetConsoleOrganization => self.console_get_organization(org),
            Operation::UpdateConsoleOrganization => self.console_update_organization(org, body),
            Operation::CreateConsoleApiKey => self.console_create_key(org, body),
            Operation::ListConsoleApiKeys => self.console_list_keys(org),
            Operation::GetConsoleApiKey => self.console_get_key(org, id),
            Operation::UpdateConsoleApiKey => self.console_update_key(org, id, body),
            Operation::DeleteConsoleApiKey => self.console_delete_key(org, id),
            Operation::RollConsoleApiKey => self.console_roll_key(org, id, body),
            Operation::ListConsoleSchedules => self.console_list_schedules(org),
            Operation::GetConsoleUsage => self.console_usage(org),
            Operation::ListConsoleAuditEvents => self.console_list_audit_events(org),
            Operation::ReportLeakedKeys => self.report_leaked_keys(body),
            Operation::ListUsers => self.list_users(org),
            Operation::InviteUser => self.invite_user(org, body),
            Operation::UpdateUser => self.update_user(org, id, body),
            Operation::RemoveUser => self.remove_user(org, id),
            Operation::ListConsoleUsers => self.console_list_users(org),
            Operation::InviteConsoleUser => self.console_invite_user(org, body),
            Operation::UpdateConsoleUser => self.console_update_user(org, id, body),
            Operation::RemoveConsoleUser => self.console_remove_user(org, id),
            Operation::CreateWebhookEndpoint => self.create_webhook(org, body),
            Operation::CreateConsoleWebhookEndpoint => self.console_create_webhook(org, body),
            Operation::ListWebhookEndpoints => self.list_webhooks(org),
            Operation::ListConsoleWebhookEndpoints => self.console_list_webhooks(org),
            Operation::GetWebhookEndpoint => self.get_webhook(org, id),
            Operation::GetConsoleWebhookEndpoint => self.console_get_webhook(org, id),
            Operation::UpdateWebhookEndpoint => self.update_webhook(org, id, body),
            Operation::UpdateConsoleWebhookEndpoint => self.console_update_webhook(org, id, body),
            Operation::DeleteWebhookEndpoint => self.delete_webhook(org, id),
            Operation::DeleteConsoleWebhookEndpoint => self.console_delete_webhook(org, id),
            Operation::RollWebhookSecret => self.roll_webhook_secret(org, id, body),
            Operation::RollConsoleWebhookSecret => self.console_roll_webhook_secret(org, id, body),
            Operation::SendTestWebhook => self.send_test_webhook(org, id),
            Operation::SendConsoleTestWebhook => self.console_send_test_webhook(org, id),
            Operation::ListWebhookMessages => self.list_webhook_messages(org, id),
            Operation::ListConsoleWebhookMessages => self.console_list_webhook_messages(org, id),
            Operation::ResendWebhookMessage => self.resend_webhook_message(org, id, id),
            Operation::ResendConsoleWebhookMessage => {
                self.console_resend_webhook_message(org, id, id)
            }
            Operation::ReportConversationStatus => self.report_conversation_status(org, id, body),
        }
    }
}
