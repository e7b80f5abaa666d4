//! Confirmation before a command that cannot be undone (`org delete`): the
//! organization's ID typed back on a terminal, or `--yes`. Without a terminal
//! to ask on and without `--yes`, the command is refused.

use crate::args::{Command, OrgCommand};
use std::io::{BufRead, IsTerminal, Write};

/// What must be typed back to run `command`, if it needs confirming.
pub fn needed(command: &Command) -> Option<&str> {
    match command {
        Command::Org(OrgCommand::Delete { org, yes: false }) => Some(org),
        _ => None,
    }
}

/// Asks on the terminal for `org` to be typed back. `Err` says why the
/// command does not run.
pub fn ask(org: &str) -> Result<(), String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(format!(
            "org delete removes {org} with all its keys and schedules and cannot be undone; \
             stdin is not a terminal to confirm on: pass --yes"
        ));
    }
    eprint!(
        "Delete organization {org} with all its keys and schedules? This cannot be undone.\n\
         Type its ID to confirm: "
    );
    let _ = std::io::stderr().flush();
    answered(org, stdin.lock())
}

/// Whether the line read from `input` is `org`.
fn answered(org: &str, mut input: impl BufRead) -> Result<(), String> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .map_err(|err| format!("cannot read the confirmation: {err}"))?;
    if line.trim() == org {
        Ok(())
    } else {
        Err(format!("not confirmed: {org} was not deleted"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::Cli;
    use clap::Parser;

    fn command(args: &[&str]) -> Command {
        Cli::try_parse_from([&["orgkeys"], args].concat())
            .unwrap()
            .command
    }

    #[test]
    fn only_an_org_delete_without_yes_needs_confirming() {
        assert_eq!(needed(&command(&["org", "delete", "acme"])), Some("acme"));
        assert_eq!(needed(&command(&["org", "delete", "acme", "--yes"])), None);
        assert_eq!(needed(&command(&["key", "delete", "acme", "k"])), None);
    }

    #[test]
    fn the_organizations_id_must_be_typed_back() {
        assert!(answered("acme", "acme\n".as_bytes()).is_ok());
        assert!(answered("acme", "  acme  \n".as_bytes()).is_ok());
        for wrong in ["y\n", "ACME\n", "\n", ""] {
            let refused = answered("acme", wrong.as_bytes()).unwrap_err();
            assert_eq!(refused, "not confirmed: acme was not deleted");
        }
    }
}
