//! Authorizer events of every shape: any JSON is told apart or refused without
//! a panic, and every recognised event can be answered.
#![no_main]

use authorizer::AuthorizerEvent;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice(data) else {
        return;
    };
    let Ok(event) = AuthorizerEvent::from_value(value) else {
        return;
    };
    let _ = event.presented_key();
    let _ = event.answer(None);
});
