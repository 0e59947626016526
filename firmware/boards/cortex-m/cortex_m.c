/* What every Cortex-M board here shares: reset (data/bss, FPU on, stack
 * painting), SysTick as the millisecond clock, fault reporting, the
 * software watchdog and semihosting (exit status, and the console of a
 * board whose only UART carries the link). A board's board.c adds its
 * UARTs, its vector table and board_init(), which calls cm_systick_start().
 * Written for ARMv6-M (Cortex-M0/M0+) as well as v7-M/v8-M: no IT blocks,
 * and the fault status registers only where they exist. */
#include "board.h"
#include "cortex_m.h"
#include "semihost.h"

#define REG(addr) (*(volatile uint32_t *)(addr))
#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)
#define SCB_CFSR REG(0xE000ED28u)
#define SCB_HFSR REG(0xE000ED2Cu)
#define SCB_CPACR REG(0xE000ED88u)
#define CFSR_UNDEFINSTR (1u << 16)

/* ARMv6-M has no configurable fault status registers. */
#if defined(__ARM_ARCH_6M__)
#define CM_HAS_CFSR 0
#else
#define CM_HAS_CFSR 1
#endif

extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __code_start[], __code_end[];

int main(void);

static volatile uint64_t g_uptime_ms;
static volatile uint64_t g_watchdog_deadline; /* 0: disarmed */

uint32_t irq_save(void)
{
    uint32_t primask;
    __asm volatile("mrs %0, primask\n cpsid i" : "=r"(primask)::"memory");
    return primask;
}

void irq_restore(uint32_t primask)
{
    __asm volatile("msr primask, %0" ::"r"(primask) : "memory");
}

void cm_systick_start(uint32_t cpu_hz)
{
    SYST_RVR = cpu_hz / 1000u - 1u;
    SYST_CVR = 0u;
    SYST_CSR = 0x7u; /* processor clock, interrupt, enable */
}

void SysTick_Handler(void)
{
    g_uptime_ms++;
    if (g_watchdog_deadline != 0u && g_uptime_ms >= g_watchdog_deadline) {
        board_puts("\r\n[board] HALTED: watchdog expired, the device stopped making progress\r\n");
        board_exit(6);
    }
}

void board_watchdog_arm(uint32_t ms)
{
    uint32_t s = irq_save();
    g_watchdog_deadline = g_uptime_ms + ms;
    irq_restore(s);
}

void board_wait_for_interrupt(void)
{
    __asm volatile("wfi" ::: "memory");
}

uint64_t board_uptime_ms(void)
{
    uint32_t s = irq_save();
    uint64_t t = g_uptime_ms;
    irq_restore(s);
    return t;
}

uint32_t board_entropy(void)
{
    return SYST_CVR ^ (uint32_t)(board_uptime_ms() * 2654435761u);
}

/* The Arm semihosting trap (app/semihost.c does the rest). */
uint32_t board_semihost(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm("r0") = op;
    register const void *r1 __asm("r1") = arg;
    __asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void board_puts(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0') {
        n++;
    }
    console_write(s, n);
}

static void console_hex(uint32_t v)
{
    static const char digits[] = "0123456789abcdef";
    char buf[10];
    int i;

    buf[0] = '0';
    buf[1] = 'x';
    for (i = 0; i < 8; i++) {
        buf[2 + i] = digits[(v >> (28 - 4 * i)) & 0xFu];
    }
    console_write(buf, sizeof(buf));
}

/* Called by HardFault_Handler with the exception frame the core stacked
 * (r0-r3, r12, lr, pc, xpsr). With panic=immediate-abort (the firmware
 * profile) a Rust panic or abort never reaches a handler: it executes
 * `udf #254` (LLVM's trap), which faults here. Says so, then stops QEMU
 * with status 3. */
void fault_report(const uint32_t *frame) __attribute__((used, noreturn));
void fault_report(const uint32_t *frame)
{
    uint32_t pc = frame[6];
    uint32_t cfsr = 0u;
    uint16_t insn = 0;
    int pc_readable = pc >= (uintptr_t)__code_start && pc < (uintptr_t)__code_end && (pc & 1u) == 0u;

    if (pc_readable) {
        insn = *(const volatile uint16_t *)(uintptr_t)pc;
    }
    board_puts("\r\n[board] HALTED: HardFault,");
#if CM_HAS_CFSR
    cfsr = SCB_CFSR;
    board_puts(" cfsr=");
    console_hex(cfsr);
    board_puts(" hfsr=");
    console_hex(SCB_HFSR);
#else
    cfsr = CFSR_UNDEFINSTR; /* v6-M: any fault escalates; judge by the instruction */
#endif
    board_puts(" pc=");
    console_hex(pc);
    board_puts(" lr=");
    console_hex(frame[5]);
    board_puts("\r\n");
    if ((cfsr & CFSR_UNDEFINSTR) && pc_readable && insn == 0xDEFEu) {
        board_puts("[board] HALTED: Rust panic/abort in iotx-coap (udf #254 at pc ");
        console_hex(pc);
        board_puts("; arm-none-eabi-addr2line -f -C -e IMAGE.elf PC names the function)\r\n");
    } else if (CM_HAS_CFSR && (cfsr & CFSR_UNDEFINSTR)) {
        board_puts("[board] HALTED: undefined instruction\r\n");
    }
    board_exit(3);
}

__attribute__((naked)) void HardFault_Handler(void)
{
    /* Which stack the frame is on: EXC_RETURN bit 2 (v6-M encodings only). */
    __asm volatile("movs r0, #4\n"
                   "mov r1, lr\n"
                   "tst r0, r1\n"
                   "bne 1f\n"
                   "mrs r0, msp\n"
                   "b fault_report\n"
                   "1:\n"
                   "mrs r0, psp\n"
                   "b fault_report\n");
}

void Default_Handler(void)
{
    board_puts("\r\n[board] HALTED: unexpected interrupt\r\n");
    board_exit(4);
}

void Reset_Handler(void)
{
    uint32_t *p;

#if defined(__ARM_FP)
    /* A library built for the hard-float ABI: the FPU must be on before
     * any code that might touch it. */
    SCB_CPACR |= 0xFu << 20;
    __asm volatile("dsb\n isb" ::: "memory");
#endif
    for (p = __data_start; p < __data_end; p++) {
        *p = __data_load[p - __data_start];
    }
    for (p = __bss_start; p < __bss_end; p++) {
        *p = 0u;
    }
    board_stack_repaint();
    board_exit(main());
}
