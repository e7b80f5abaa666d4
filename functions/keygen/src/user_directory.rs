//! The console users' identities in the stack's Cognito user pool
//! (`CONSOLE_USER_POOL_ID`): invite (`AdminCreateUser`: the email as the
//! username, verified, and the immutable `custom:organizationId`; Cognito
//! emails the temporary password), find, give a role (the groups
//! `org-admin` and `org-viewer`) and delete. Every call is safe to repeat:
//! the users routes call Cognito first and record the membership in DynamoDB
//! after (`orgkeys_shared::users`), so a request cut between the two is
//! finished by the same request again.
//!
//! Cognito's endpoint is the standard one, or
//! `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER` (moto's, behind the local
//! gateway's outbox, locally).

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_cognitoidentityprovider::types::{AttributeType, DeliveryMediumType, UserStatusType};
use orgkeys_api::Role;
use orgkeys_shared::invitation::ORGANIZATION_NAME;
use std::fmt;

pub use orgkeys_shared::users::ORGANIZATION_ATTRIBUTE;

/// Why a directory call did not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectoryError {
    /// Cognito refused the value (an email it does not accept): the client can fix it.
    Refused(String),
    /// Cognito could not be reached or failed.
    Unavailable(String),
}

impl fmt::Display for DirectoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DirectoryError::Refused(why) => write!(f, "Cognito refused: {why}"),
            DirectoryError::Unavailable(why) => write!(f, "Cognito unavailable: {why}"),
        }
    }
}

/// A user as the pool knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryUser {
    /// Their `sub`, also their username in a pool whose usernames are emails.
    pub sub: String,
    pub email: Option<String>,
    pub organization_id: Option<String>,
    /// They have signed in and chosen their own password.
    pub confirmed: bool,
}

/// The user pool the console's users live in.
#[derive(Debug, Clone)]
pub struct UserDirectory {
    client: Client,
    pool_id: String,
}

/// The error code of a failed call (`UsernameExistsException`), if Cognito answered.
fn code<E: ProvideErrorMetadata>(err: &E) -> Option<&str> {
    err.code()
}

fn unavailable(err: impl std::error::Error) -> DirectoryError {
    DirectoryError::Unavailable(DisplayErrorContext(err).to_string())
}

impl UserDirectory {
    pub fn new(client: Client, pool_id: impl Into<String>) -> UserDirectory {
        UserDirectory {
            client,
            pool_id: pool_id.into(),
        }
    }

    /// The pool `pool_id`, called with `config` (the function's one AWS configuration).
    pub fn from_config(
        config: &aws_config::SdkConfig,
        pool_id: impl Into<String>,
    ) -> UserDirectory {
        UserDirectory::new(Client::new(config), pool_id)
    }

    /// Invites `email` into `organization_id`: Cognito emails them a
    /// temporary password in the invitation naming `organization_name`
    /// (the invitations function's). `None` when the email is taken in the
    /// pool (by this organization's user or another's: [`find`](Self::find) tells).
    pub async fn invite(
        &self,
        email: &str,
        organization_id: &str,
        organization_name: &str,
    ) -> Result<Option<DirectoryUser>, DirectoryError> {
        let attribute = |name: &str, value: &str| {
            AttributeType::builder()
                .name(name)
                .value(value)
                .build()
                .map_err(unavailable)
        };
        let created = self
            .client
            .admin_create_user()
            .user_pool_id(&self.pool_id)
            .username(email)
            .user_attributes(attribute("email", email)?)
            .user_attributes(attribute("email_verified", "true")?)
            .user_attributes(attribute(ORGANIZATION_ATTRIBUTE, organization_id)?)
            .desired_delivery_mediums(DeliveryMediumType::Email)
            .client_metadata(ORGANIZATION_NAME, organization_name)
            .send()
            .await;
        match created {
            Ok(output) => {
                let user = output.user.ok_or_else(|| {
                    DirectoryError::Unavailable("AdminCreateUser answered no user".into())
                })?;
                Ok(Some(DirectoryUser {
                    sub: attribute_value(user.attributes(), "sub")
                        .or(user.username.clone())
                        .unwrap_or_default(),
                    email: attribute_value(user.attributes(), "email"),
                    organization_id: attribute_value(user.attributes(), ORGANIZATION_ATTRIBUTE),
                    confirmed: user.user_status == Some(UserStatusType::Confirmed),
                }))
            }
            Err(err) => match code(&err) {
                Some("UsernameExistsException") => Ok(None),
                Some("InvalidParameterException") => Err(DirectoryError::Refused(
                    err.message().unwrap_or("invalid parameter").to_owned(),
                )),
                _ => Err(unavailable(err)),
            },
        }
    }

    /// The user named `username` (their email or their `sub`), if any.
    pub async fn find(&self, username: &str) -> Result<Option<DirectoryUser>, DirectoryError> {
        let found = self
            .client
            .admin_get_user()
            .user_pool_id(&self.pool_id)
            .username(username)
            .send()
            .await;
        match found {
            Ok(user) => Ok(Some(DirectoryUser {
                sub: attribute_value(user.user_attributes(), "sub")
                    .unwrap_or_else(|| user.username().to_owned()),
                email: attribute_value(user.user_attributes(), "email"),
                organization_id: attribute_value(user.user_attributes(), ORGANIZATION_ATTRIBUTE),
                confirmed: user.user_status() == Some(&UserStatusType::Confirmed),
            })),
            Err(err) if code(&err) == Some("UserNotFoundException") => Ok(None),
            Err(err) => Err(unavailable(err)),
        }
    }

    /// Gives the user `role` and no other: the other group is left first,
    /// so a call cut short leaves less power, never more.
    pub async fn set_role(&self, sub: &str, role: Role) -> Result<(), DirectoryError> {
        for other in Role::ALL.iter().filter(|other| **other != role) {
            self.client
                .admin_remove_user_from_group()
                .user_pool_id(&self.pool_id)
                .username(sub)
                .group_name(other.as_str())
                .send()
                .await
                .map_err(unavailable)?;
        }
        self.client
            .admin_add_user_to_group()
            .user_pool_id(&self.pool_id)
            .username(sub)
            .group_name(role.as_str())
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Deletes the user; one already gone is no error.
    pub async fn delete(&self, sub: &str) -> Result<(), DirectoryError> {
        let deleted = self
            .client
            .admin_delete_user()
            .user_pool_id(&self.pool_id)
            .username(sub)
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(()),
            Err(err) if code(&err) == Some("UserNotFoundException") => Ok(()),
            Err(err) => Err(unavailable(err)),
        }
    }
}

fn attribute_value(attributes: &[AttributeType], name: &str) -> Option<String> {
    attributes
        .iter()
        .find(|attribute| attribute.name() == name)
        .and_then(|attribute| attribute.value())
        .map(str::to_owned)
}
