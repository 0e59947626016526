//! What the library has allocated through the firmware's `HAL_Malloc`
//! (feature `firmware`): bytes in use now, the high-water mark, live
//! blocks, and every allocation made (a reallocation counts as one). Requested sizes only; the firmware's allocator adds its own
//! per-block overhead on top. Read by `IOT_DumpMemoryStats`.

use portable_atomic::{AtomicUsize, Ordering};

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static BLOCKS: AtomicUsize = AtomicUsize::new(0);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeapStats {
    pub in_use: usize,
    pub peak: usize,
    pub blocks: usize,
    /// Since start: what the allocation-count test reads per uplink.
    pub allocations: usize,
}

pub(crate) fn allocated(size: usize) {
    let now = IN_USE.fetch_add(size, Ordering::Relaxed) + size;
    PEAK.fetch_max(now, Ordering::Relaxed);
    BLOCKS.fetch_add(1, Ordering::Relaxed);
    ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn freed(size: usize) {
    IN_USE.fetch_sub(size, Ordering::Relaxed);
    BLOCKS.fetch_sub(1, Ordering::Relaxed);
}

pub fn snapshot() -> HeapStats {
    HeapStats {
        in_use: IN_USE.load(Ordering::Relaxed),
        peak: PEAK.load(Ordering::Relaxed),
        blocks: BLOCKS.load(Ordering::Relaxed),
        allocations: ALLOCATIONS.load(Ordering::Relaxed),
    }
}
