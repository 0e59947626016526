/* What a board layer (firmware/boards/<machine>/) gives the shared HAL
 * (hal.c) and application (main.c): a console, a byte link to the relay,
 * a millisecond clock, exit through semihosting, and the figures the run
 * reports. The stack figures are in stack.c, the heap's in hal.c. */
#ifndef IOTX_FW_BOARD_H
#define IOTX_FW_BOARD_H

#include <stddef.h>
#include <stdint.h>

/* The board's name as QEMU calls the machine (FW_BOARD_NAME). */
#ifndef FW_BOARD_NAME
#define FW_BOARD_NAME "unknown board"
#endif

/* The console (HAL_Printf) and the datagram link to the relay: two UARTs,
 * or semihosting for the console where the link has the only UART. */
void board_init(void);
void console_write(const char *s, size_t len);
void board_puts(const char *s);
void link_write_byte(uint8_t b);
/* Next byte received on the link, or -1 if none is buffered. */
int link_read_byte(void);
/* Sleeps until an interrupt (the millisecond tick at the latest). */
void board_wait_for_interrupt(void);
uint64_t board_uptime_ms(void);
/* A few bits that differ between runs (a timer's low bits); no TRNG here. */
uint32_t board_entropy(void);

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

/* HAL_Malloc's arena (hal.c). */
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
