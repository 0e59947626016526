/* The shared Cortex-M runtime (cortex_m.c) as a board.c uses it. */
#ifndef IOTX_FW_CORTEX_M_H
#define IOTX_FW_CORTEX_M_H

#include <stddef.h>
#include <stdint.h>

uint32_t irq_save(void);
void irq_restore(uint32_t primask);
/* SysTick every millisecond from the processor clock. */
void cm_systick_start(uint32_t cpu_hz);
/* The console of a board whose only UART is the link (SYS_WRITE0). */

void Reset_Handler(void) __attribute__((noreturn));
void HardFault_Handler(void);
void SysTick_Handler(void);
void Default_Handler(void);

typedef void (*vector_t)(void);
extern uint32_t __stack_top[];

/* The 16 architectural entries of a vector table. */
#define CM_CORE_VECTORS                                                                            \
    (vector_t)(uintptr_t)__stack_top, Reset_Handler, Default_Handler /* NMI */, HardFault_Handler,  \
        Default_Handler /* MemManage */, Default_Handler /* BusFault */,                           \
        Default_Handler /* UsageFault */, Default_Handler /* SecureFault */, 0, 0, 0,              \
        Default_Handler /* SVCall */, Default_Handler /* DebugMonitor */, 0,                       \
        Default_Handler /* PendSV */, SysTick_Handler

#endif
