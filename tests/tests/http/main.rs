//! The workspace's binaries driven from outside, in one test binary: the
//! local gateway over real HTTP and raw sockets, the `orgkeys` CLI against it,
//! and each function's binary against the Lambda Runtime API emulator.

mod cli;
mod console;
mod e2e;
mod faults;
mod leaked_keys;
mod local_mfa;
mod local_sign_in;
mod races;
mod runtime;
mod secrets;
mod sigv4;
mod slow_clients;
mod startup;
mod test_app;
mod users;
mod webhooks;
