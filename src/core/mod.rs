//! The protocol core: sans-IO, `no_std` + `alloc`.
//!
//! Nothing in here touches a socket, a clock or a global. [`session::Session`]
//! takes datagrams and the current time (milliseconds from any monotonic
//! origin) and hands back datagrams to send, the next deadline and events,
//! in the style of quinn-proto:
//!
//! ```text
//!   start_auth / send ──► Session ◄── handle_datagram(now, bytes)
//!                            │    ◄── handle_timeout(now)
//!        poll_transmit() ◄───┤
//!        poll_timeout()  ◄───┤
//!        poll_event()    ◄───┘
//! ```
//!
//! The drivers (the blocking [`crate::client`], the C ABI) own the I/O.

pub mod exchange;
pub mod handoff;
pub mod limits;
pub mod message;
pub mod psk;
#[cfg(feature = "session-store")]
pub mod resume;
pub mod rto;
pub mod session;
pub mod sign;
pub mod url;

pub use session::{Config, Event, SendError, Session, Stats};
