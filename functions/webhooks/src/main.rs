//! The webhooks Lambda function (skeleton; wired when fan-out and delivery land).

fn main() {}
