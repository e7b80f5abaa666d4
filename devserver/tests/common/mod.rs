//! The devserver binary, driven over real HTTP (the harness's `local_gateway`).
// Each test file uses a part of it.
#![allow(unused_imports)]

pub use orgkeys_tests::local_gateway::{ADMIN, Devserver, ORG};
