//! (Interim stub until the delivery engine lands.)
