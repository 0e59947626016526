//! Bounds that more than one part of the core checks against: the session
//! refuses an auth answer past them, and the stored-session record
//! (`resume`, feature `session-store`) is sized and checked by them. Kept
//! apart so that neither has to import the other for a number; this file
//! imports nothing.

/// Longest token an auth answer may carry: it travels in every uplink's
/// option 2088 and must leave room for the path and payload in the
/// 1,280-byte datagram. The platform's tokens are far shorter.
pub const MAX_AUTH_TOKEN_LEN: usize = 512;

/// Longest PSK `random` a session keeps for a stored record (the platform
/// sends 16 hex characters).
pub const MAX_RANDOM_LEN: usize = 64;
