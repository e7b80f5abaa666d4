//! The HTTP edge, apart from persistence: RFC 9457 problem details
//! ([`problem`], including how a store failure is answered), requests and
//! responses ([`request`]), merge-patch bodies ([`merge_patch`]), who is
//! calling ([`caller`]), whether a console user is still a member
//! ([`membership`]), and limits: the 429s and RateLimit headers
//! ([`rate_limit`]).

pub mod caller;
pub mod membership;
pub mod merge_patch;
pub mod problem;
pub mod rate_limit;
pub mod request;
pub mod user;
