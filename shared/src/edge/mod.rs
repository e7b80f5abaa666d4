//! The HTTP edge, apart from persistence: RFC 9457 problem details
//! ([`problem`], including how a store failure is answered), requests and
//! responses ([`request`]), and who is calling ([`caller`]).

pub mod caller;
pub mod problem;
pub mod request;
