//! An endpoint's signing secret: `whsec_` + base64 of 32 random bytes
//! (Standard Webhooks 1.0).
