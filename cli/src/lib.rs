//! `orgkeys`, the admin CLI: one command per admin route of the route table,
//! the same against the local gateway (`scripts/dev`) and a deployed stack.
//!
//! - [`args`]: the commands and options (clap).
//! - [`call`]: what each command asks of the API: the route (from
//!   `orgkeys_api::routes`, so paths cannot drift), parameters, body.
//! - [`client`]: HTTP(S), authenticated with the admin token (`--admin-token`,
//!   the local gateway) or else SigV4 with the standard AWS credential chain.
//! - [`output`]: tables or the API's exact JSON on stdout; problems on stderr.
//! - [`confirm`]: `org delete` asks for the organization's ID, or `--yes`.
//!
//! Exit codes: 0 success, 2 usage error (clap's) or a deletion not
//! confirmed, 3 the API refused the request (4xx), 4 the API failed (5xx) or
//! could not be reached or signed for.

pub mod args;
pub mod call;
pub mod client;
pub mod confirm;
pub mod output;

use std::process::ExitCode;

/// A usage error (clap's own), or a deletion not confirmed.
pub const EXIT_USAGE: u8 = 2;
/// The API refused the request (4xx).
pub const EXIT_REFUSED: u8 = 3;
/// The API failed (5xx), or the request could not be sent or signed.
pub const EXIT_FAILED: u8 = 4;

/// Runs one command and says how it ended.
pub async fn run(cli: args::Cli) -> ExitCode {
    if let Some(org) = confirm::needed(&cli.command)
        && let Err(refusal) = confirm::ask(org)
    {
        eprintln!("error: {refusal}");
        return ExitCode::from(EXIT_USAGE);
    }
    let mut call = call::Call::of(&cli.command);
    if call.stdin_field.is_some() {
        match read_stdin() {
            Ok(secret) => call = call.with_stdin_secret(&secret),
            Err(err) => return output::failure(&err),
        }
    }
    let client = match client::Client::new(&cli).await {
        Ok(client) => client,
        Err(err) => return output::failure(&err),
    };
    match client.send(&call).await {
        Ok(reply) => output::reply(&call, &reply, cli.output),
        Err(err) => output::failure(&err),
    }
}

/// All of stdin, for a secret a command takes there rather than in argv.
fn read_stdin() -> Result<String, String> {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
        .map_err(|err| format!("cannot read the key from stdin: {err}"))?;
    if text.trim().is_empty() {
        return Err(
            "no key on stdin: pipe it in, e.g. `orgkeys key revoke --reason ... < key.txt`".into(),
        );
    }
    Ok(text)
}
