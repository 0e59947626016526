//! The heap of the C library: the firmware's own `HAL_Malloc`/`HAL_Free`,
//! as with the vendor SDK, counted in [`super::heap_stats`].

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::c_void;

extern "C" {
    fn HAL_Malloc(size: u32) -> *mut c_void;
    fn HAL_Free(ptr: *mut c_void);
}

/// What `HAL_Malloc` guarantees on the MCUs we target (newlib, FreeRTOS
/// heap_4: 8 bytes).
const HAL_ALIGN: usize = 8;

struct HalHeap;

unsafe impl GlobalAlloc for HalHeap {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: forwarded.
        let p = unsafe { self.hal_alloc(l) };
        if !p.is_null() {
            super::heap_stats::allocated(l.size());
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        super::heap_stats::freed(l.size());
        // SAFETY: forwarded.
        unsafe { self.hal_free(p, l) }
    }
}

impl HalHeap {
    unsafe fn hal_alloc(&self, l: Layout) -> *mut u8 {
        if l.align() <= HAL_ALIGN {
            // SAFETY: plain allocation of l.size() bytes.
            return unsafe { HAL_Malloc(l.size() as u32) }.cast();
        }
        // Over-aligned: allocate extra, keep the raw pointer just below.
        // SAFETY: as above.
        let raw = unsafe { HAL_Malloc((l.size() + l.align()) as u32) }.cast::<u8>();
        if raw.is_null() {
            return raw;
        }
        let aligned = (raw as usize + l.align()) & !(l.align() - 1);
        // SAFETY: aligned - raw >= align > size_of::<usize>(), inside the block.
        unsafe { *((aligned - core::mem::size_of::<usize>()) as *mut usize) = raw as usize };
        aligned as *mut u8
    }

    unsafe fn hal_free(&self, p: *mut u8, l: Layout) {
        if l.align() <= HAL_ALIGN {
            // SAFETY: p came from HAL_Malloc.
            unsafe { HAL_Free(p.cast()) };
        } else {
            // SAFETY: alloc stored the raw pointer just below p.
            let raw = unsafe { *((p as usize - core::mem::size_of::<usize>()) as *const usize) };
            // SAFETY: raw came from HAL_Malloc.
            unsafe { HAL_Free(raw as *mut c_void) };
        }
    }
}

#[global_allocator]
static HEAP: HalHeap = HalHeap;
