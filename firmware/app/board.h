/* The mps2-an386 pieces this firmware uses: two CMSDK APB UARTs, SysTick,
 * semihosting exit, and the figures the run reports. */
#ifndef QEMU_MPS2_BOARD_H
#define QEMU_MPS2_BOARD_H

#include <stddef.h>
#include <stdint.h>

/* UART0: console (HAL_Printf). UART1: the datagram link to the relay. */
void board_init(void);
void console_write(const char *s, size_t len);
void link_write_byte(uint8_t b);
/* Next byte received on the link, or -1 if none is buffered. */
int link_read_byte(void);
/* Sleeps until an interrupt (SysTick at the latest, every millisecond). */
void board_wait_for_interrupt(void);
uint64_t board_uptime_ms(void);

/* A software watchdog: if not re-armed within ms, SysTick reports that the
 * device stopped making progress and ends the run with status 6. */
void board_watchdog_arm(uint32_t ms);

/* Ends the QEMU run with this exit status (semihosting SYS_EXIT_EXTENDED). */
void board_exit(int status) __attribute__((noreturn));

/* Bytes of the painted main stack ever used (since reset). */
uint32_t board_stack_high_water(void);
uint32_t board_stack_size(void);
/* Records the stack depth at this call (the HAL calls it on entry), so
 * the run can tell the library's depth from the HAL's own frames. */
void board_note_stack_depth(void);
/* Deepest recorded depth (bytes below the stack top) since the repaint. */
uint32_t board_stack_depth_at_hal(void);
/* Repaints the unused part of the stack, so the mark restarts from here. */
void board_stack_repaint(void);

/* HAL_Malloc's arena (hal_mps2.c). */
typedef struct {
    uint32_t in_use;      /* bytes held by live blocks, headers included */
    uint32_t peak_in_use; /* high-water mark of in_use */
    uint32_t extent_peak; /* highest arena offset ever handed out */
    uint32_t live_blocks;
    uint32_t failed;      /* requests refused */
    uint32_t arena_size;
} heap_stats_t;
void heap_get_stats(heap_stats_t *out);
/* Restarts peak_in_use from the current use (extent_peak is kept). */
void heap_reset_peak(void);
/* Refuses any request that would take in_use above limit (0 = arena size). */
void heap_set_limit(uint32_t limit);

#endif
