//! How a listener is put together: a transport, counted on the wire, under
//! fault injection, under the message layer. The emulator's threads and
//! the simulated-time driver build theirs the same way.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Faults;
use crate::faults::Faulty;
use crate::listener::{Listener, Shared};
use crate::platform::{Platform, Security};
use crate::transport::{Counted, DatagramTransport};

/// A listener of the emulator over `T`.
pub type Stacked<T> = Listener<Faulty<Counted<T>>>;

/// The seed of listener `k` (1 plain, 2 PSK, 3 DTLS): each listener draws
/// from its own generators, so one listener's traffic never shifts another's
/// faults, message ids or tokens.
pub(crate) fn listener_seed(seed: u64, k: u64) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(k << 8)
}

/// Builds listener `k` named `name` over `transport`.
pub(crate) fn listener<T: DatagramTransport>(
    (name, k): (&'static str, u64),
    security: Security,
    transport: T,
    platform: &Arc<Platform>,
    faults: &Faults,
    seed: u64,
    clock: Arc<dyn Clock>,
) -> Stacked<T> {
    let seed = listener_seed(seed, k);
    let counters = platform.counters().clone();
    let counted = Counted::new(transport, counters.clone());
    let faulty = Faulty::new(counted, faults, seed, clock.clone(), counters.clone());
    let shared = Shared {
        platform: platform.clone(),
        log: platform.log().clone(),
        counters,
        clock,
    };
    Listener::new(name, security, faulty, shared, seed)
}
