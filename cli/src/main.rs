//! `orgkeys`: the admin CLI. See the crate doc of `orgkeys_cli`.

use clap::Parser;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    orgkeys_cli::run(orgkeys_cli::args::Cli::parse()).await
}
