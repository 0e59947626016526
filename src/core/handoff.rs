//! A queue the core fills and the driver takes whole, then hands back: the
//! session's events and the message layer's outgoing datagrams. Two vectors
//! take turns, so a steady stream allocates nothing for the queue; it grows
//! one slot at a time and keeps at most `KEPT` slots, since RAM a burst
//! left reserved would stay idle on a microcontroller. Imports nothing.

use alloc::vec::Vec;

/// Slots a vector handed back may keep to be reused: what a steady stream
/// needs (one event, one datagram per batch).
const KEPT: usize = 1;

pub struct Handoff<T> {
    items: Vec<T>,
    /// An empty vector with capacity, swapped in by `take`.
    spare: Vec<T>,
}

impl<T> Handoff<T> {
    pub const fn new() -> Self {
        Handoff {
            items: Vec::new(),
            spare: Vec::new(),
        }
    }

    /// Queues `x`, growing by one slot when full (a vector's first growth
    /// would reserve four).
    pub fn push(&mut self, x: T) {
        if self.items.len() == self.items.capacity() {
            self.items.reserve_exact(1);
        }
        self.items.push(x);
    }

    /// The oldest item.
    pub fn pop_front(&mut self) -> Option<T> {
        (!self.items.is_empty()).then(|| self.items.remove(0))
    }

    /// Everything queued, oldest first; hand the vector back with
    /// [`Handoff::give_back`] once done with it.
    pub fn take(&mut self) -> Vec<T> {
        core::mem::replace(&mut self.items, core::mem::take(&mut self.spare))
    }

    /// Takes back a vector [`Handoff::take`] gave: emptied, and kept for
    /// the next `take` unless a burst grew it past `KEPT`.
    pub fn give_back(&mut self, mut v: Vec<T>) {
        v.clear();
        if v.capacity() <= KEPT && v.capacity() > self.spare.capacity() {
            self.spare = v;
        }
    }
}

impl<T> Default for Handoff<T> {
    fn default() -> Self {
        Handoff::new()
    }
}
