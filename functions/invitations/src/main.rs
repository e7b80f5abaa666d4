//! The invitations Lambda: Cognito's CustomMessage trigger. No client, no
//! settings: it answers each event from the event alone.

use aws_lambda_events::event::cognito::CognitoEventUserPoolsCustomMessage;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    orgkeys_shared::logging::init();
    run(service_fn(
        |event: LambdaEvent<CognitoEventUserPoolsCustomMessage>| async move {
            Ok::<_, Error>(invitations::handle(event.payload))
        },
    ))
    .await
}
