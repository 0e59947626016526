/* The stack figures of the run, for any board: the main stack (the region
 * __stack_limit..__stack_top of the board's linker script) is painted at
 * reset and between sessions, and scanned for the deepest overwritten
 * word; the HAL records the depth on entry to its calls. */
#include "board.h"

#define STACK_PAINT 0xC0DEC0DEu

extern uint32_t __stack_limit[], __stack_top[];

static inline uintptr_t current_sp(void)
{
    uintptr_t sp;
#if defined(__riscv)
    __asm volatile("mv %0, sp" : "=r"(sp));
#else
    __asm volatile("mov %0, sp" : "=r"(sp));
#endif
    return sp;
}

static uintptr_t g_min_sp_at_hal = UINTPTR_MAX;

uint32_t board_stack_size(void)
{
    return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)__stack_limit);
}

void board_note_stack_depth(void)
{
    uintptr_t sp = current_sp();
    if (sp < g_min_sp_at_hal) {
        g_min_sp_at_hal = sp;
    }
}

uint32_t board_stack_depth_at_hal(void)
{
    if (g_min_sp_at_hal == UINTPTR_MAX) {
        return 0u;
    }
    return (uint32_t)((uintptr_t)__stack_top - g_min_sp_at_hal);
}

void board_stack_repaint(void)
{
    uint32_t *p;
    uintptr_t sp = current_sp();

    g_min_sp_at_hal = UINTPTR_MAX;
    for (p = __stack_limit; (uintptr_t)p < sp - 64u; p++) {
        *p = STACK_PAINT;
    }
}

uint32_t board_stack_high_water(void)
{
    const uint32_t *p = __stack_limit;
    while (p < __stack_top && *p == STACK_PAINT) {
        p++;
    }
    return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)p);
}
