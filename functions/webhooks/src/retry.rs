//! (skeleton: filled by the delivery engine's work)
