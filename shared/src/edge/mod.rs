//! The HTTP edge, apart from persistence: RFC 9457 problem details
//! ([`problem`], including how a store failure is answered), requests and
//! responses ([`request`]), merge-patch bodies ([`merge_patch`]), and who is
//! calling ([`caller`]).

pub mod caller;
pub mod merge_patch;
pub mod problem;
pub mod request;
