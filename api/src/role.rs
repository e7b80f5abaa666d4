//! What a console user may do in their organization and those below it:
//! the groups of the identity provider (`cognito:groups` by default).

crate::wire_enum!(
    /// A console user's role.
    Role {
        /// Every console route: keys, sub-organizations, users.
        OrgAdmin => "org-admin",
        /// The `GET` routes only.
        OrgViewer => "org-viewer",
    }
);

impl Role {
    /// Whether this role may make a request with `method`.
    pub fn may(self, method: &str) -> bool {
        self == Role::OrgAdmin || method == "GET"
    }
}
