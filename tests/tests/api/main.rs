//! Every function's handler against the DynamoDB server, in one test binary
//! (one link of the AWS SDK): API Gateway events in, responses out.

mod audit;
mod authorizer;
mod console;
mod conversation_status;
mod dispatch;
mod documents;
mod github_keys;
mod keygen;
mod leaked_keys;
mod lifecycle;
mod limits;
mod policies;
mod routes;
mod schedules;
mod settings;
mod template;
mod users;
