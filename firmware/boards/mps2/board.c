/* Reset, vector table, UARTs, SysTick, fault reporting and semihosting exit
 * for QEMU's mps2-an386 (Cortex-M4F, 25 MHz, CMSDK peripherals). */
#include "board.h"

#define REG(addr) (*(volatile uint32_t *)(addr))

/* CMSDK APB UART */
#define UART0_BASE 0x40004000u
#define UART1_BASE 0x40005000u
#define UART_DATA(b) REG((b) + 0x00u)
#define UART_STATE(b) REG((b) + 0x04u)
#define UART_CTRL(b) REG((b) + 0x08u)
#define UART_INTSTATUS(b) REG((b) + 0x0Cu)
#define UART_BAUDDIV(b) REG((b) + 0x10u)
#define UART_STATE_TXFULL 0x1u
#define UART_STATE_RXFULL 0x2u
#define UART_CTRL_TXEN 0x1u
#define UART_CTRL_RXEN 0x2u
#define UART_CTRL_RXINTEN 0x8u
#define UART_INT_RX 0x2u
#define UART1_RX_IRQ 2u

/* System control space */
#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)
#define NVIC_ISER0 REG(0xE000E100u)
#define SCB_CFSR REG(0xE000ED28u)
#define SCB_HFSR REG(0xE000ED2Cu)
#define SCB_CPACR REG(0xE000ED88u)

#define CPU_HZ 25000000u
#define STACK_PAINT 0xC0DEC0DEu
#define CFSR_UNDEFINSTR (1u << 16)

extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __stack_limit[], __stack_top[];

int main(void);

static volatile uint64_t g_uptime_ms;
static volatile uint64_t g_watchdog_deadline; /* 0: disarmed */
static void console_puts(const char *s);

/* Bytes from the relay, filled by the UART1 RX interrupt. When it is full
 * the interrupt is masked and the byte stays in the UART, which stops QEMU
 * from reading the socket: flow control, nothing is dropped. */
#define LINK_RX_SIZE 256u
static uint8_t g_link_rx[LINK_RX_SIZE];
static volatile uint32_t g_link_head; /* written by the interrupt */
static volatile uint32_t g_link_tail; /* written by the main loop */

static uint32_t irq_save(void)
{
    uint32_t primask;
    __asm volatile("mrs %0, primask\n cpsid i" : "=r"(primask)::"memory");
    return primask;
}

static void irq_restore(uint32_t primask)
{
    __asm volatile("msr primask, %0" ::"r"(primask) : "memory");
}

void SysTick_Handler(void)
{
    g_uptime_ms++;
    if (g_watchdog_deadline != 0u && g_uptime_ms >= g_watchdog_deadline) {
        console_puts("\r\n[board] HALTED: watchdog expired, the device stopped making progress\r\n");
        board_exit(6);
    }
}

void board_watchdog_arm(uint32_t ms)
{
    uint32_t s = irq_save();
    g_watchdog_deadline = g_uptime_ms + ms;
    irq_restore(s);
}

static void link_drain_uart(void)
{
    while ((UART_STATE(UART1_BASE) & UART_STATE_RXFULL) &&
           g_link_head - g_link_tail < LINK_RX_SIZE) {
        g_link_rx[g_link_head % LINK_RX_SIZE] = (uint8_t)UART_DATA(UART1_BASE);
        g_link_head++;
    }
    if (g_link_head - g_link_tail >= LINK_RX_SIZE) {
        UART_CTRL(UART1_BASE) &= ~UART_CTRL_RXINTEN;
    }
}

void UART1_RX_Handler(void)
{
    /* Clear first: a byte arriving while we drain raises it again. */
    UART_INTSTATUS(UART1_BASE) = UART_INT_RX;
    link_drain_uart();
}

int link_read_byte(void)
{
    uint32_t s = irq_save();
    int b = -1;

    if (g_link_head == g_link_tail) {
        link_drain_uart(); /* in case an interrupt was missed */
    }
    if (g_link_head != g_link_tail) {
        b = g_link_rx[g_link_tail % LINK_RX_SIZE];
        g_link_tail++;
        UART_CTRL(UART1_BASE) |= UART_CTRL_RXINTEN;
    }
    irq_restore(s);
    return b;
}

static void uart_put(uint32_t base, uint8_t c)
{
    while (UART_STATE(base) & UART_STATE_TXFULL) {
    }
    UART_DATA(base) = c;
}

void link_write_byte(uint8_t b)
{
    uart_put(UART1_BASE, b);
}

void console_write(const char *s, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        uart_put(UART0_BASE, (uint8_t)s[i]);
    }
}

static void console_puts(const char *s)
{
    while (*s) {
        uart_put(UART0_BASE, (uint8_t)*s++);
    }
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

void board_init(void)
{
    /* The baud divisor must be >= 16 or QEMU's UART refuses to work. */
    UART_BAUDDIV(UART0_BASE) = 16u;
    UART_CTRL(UART0_BASE) = UART_CTRL_TXEN | UART_CTRL_RXEN;
    UART_BAUDDIV(UART1_BASE) = 16u;
    UART_CTRL(UART1_BASE) = UART_CTRL_TXEN | UART_CTRL_RXEN | UART_CTRL_RXINTEN;
    NVIC_ISER0 = 1u << UART1_RX_IRQ;

    SYST_RVR = CPU_HZ / 1000u - 1u;
    SYST_CVR = 0u;
    SYST_CSR = 0x7u; /* processor clock, interrupt, enable */
}

void board_exit(int status)
{
    /* SYS_EXIT_EXTENDED (0x20): {ADP_Stopped_ApplicationExit, status};
     * QEMU (-semihosting) exits with that status. */
    volatile uint32_t block[2] = {0x20026u, (uint32_t)status};
    register uint32_t r0 __asm("r0") = 0x20u;
    register volatile uint32_t *r1 __asm("r1") = block;

    __asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    for (;;) {
        __asm volatile("wfi");
    }
}

uint32_t board_stack_size(void)
{
    return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)__stack_limit);
}

static void stack_paint_below_sp(void)
{
    uint32_t *p;
    uint32_t sp;

    __asm volatile("mov %0, sp" : "=r"(sp));
    for (p = __stack_limit; (uintptr_t)p < sp - 64u; p++) {
        *p = STACK_PAINT;
    }
}

static uint32_t g_min_sp_at_hal = 0xFFFFFFFFu;

void board_note_stack_depth(void)
{
    uint32_t sp;
    __asm volatile("mov %0, sp" : "=r"(sp));
    if (sp < g_min_sp_at_hal) {
        g_min_sp_at_hal = sp;
    }
}

uint32_t board_stack_depth_at_hal(void)
{
    if (g_min_sp_at_hal == 0xFFFFFFFFu) {
        return 0u;
    }
    return (uint32_t)((uintptr_t)__stack_top - g_min_sp_at_hal);
}

void board_stack_repaint(void)
{
    g_min_sp_at_hal = 0xFFFFFFFFu;
    stack_paint_below_sp();
}

uint32_t board_stack_high_water(void)
{
    const uint32_t *p = __stack_limit;
    while (p < __stack_top && *p == STACK_PAINT) {
        p++;
    }
    return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)p);
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
    uint32_t cfsr = SCB_CFSR;
    uint16_t insn = 0;
    int pc_readable = pc < 0x00400000u && (pc & 1u) == 0u;

    if (pc_readable) {
        insn = *(const volatile uint16_t *)(uintptr_t)pc;
    }
    console_puts("\r\n[board] HALTED: HardFault, cfsr=");
    console_hex(cfsr);
    console_puts(" hfsr=");
    console_hex(SCB_HFSR);
    console_puts(" pc=");
    console_hex(pc);
    console_puts(" lr=");
    console_hex(frame[5]);
    console_puts("\r\n");
    if ((cfsr & CFSR_UNDEFINSTR) && pc_readable && insn == 0xDEFEu) {
        console_puts("[board] HALTED: Rust panic/abort in iotx-coap (udf #254 at pc ");
        console_hex(pc);
        console_puts("; arm-none-eabi-addr2line -f -C -e IMAGE.elf PC names the function)\r\n");
    } else if (cfsr & CFSR_UNDEFINSTR) {
        console_puts("[board] HALTED: undefined instruction\r\n");
    }
    board_exit(3);
}

__attribute__((naked)) void HardFault_Handler(void)
{
    __asm volatile("tst lr, #4\n"
                   "ite eq\n"
                   "mrseq r0, msp\n"
                   "mrsne r0, psp\n"
                   "b fault_report\n");
}

static void Default_Handler(void)
{
    console_puts("\r\n[board] HALTED: unexpected interrupt\r\n");
    board_exit(4);
}

void Reset_Handler(void) __attribute__((noreturn));
void Reset_Handler(void)
{
    uint32_t *p;

    /* The library is built for the hard-float ABI: the FPU must be on
     * before any code that might touch it. */
    SCB_CPACR |= 0xFu << 20;
    __asm volatile("dsb\n isb" ::: "memory");

    for (p = __data_start; p < __data_end; p++) {
        *p = __data_load[p - __data_start];
    }
    for (p = __bss_start; p < __bss_end; p++) {
        *p = 0u;
    }
    stack_paint_below_sp();
    board_exit(main());
}

typedef void (*vector_t)(void);

__attribute__((section(".vectors"), used)) static const vector_t g_vectors[16 + 32] = {
    (vector_t)(uintptr_t)__stack_top,
    Reset_Handler,
    Default_Handler, /* NMI */
    HardFault_Handler,
    Default_Handler, /* MemManage */
    Default_Handler, /* BusFault */
    Default_Handler, /* UsageFault */
    0, 0, 0, 0,
    Default_Handler, /* SVCall */
    Default_Handler, /* DebugMonitor */
    0,
    Default_Handler, /* PendSV */
    SysTick_Handler,
    [16 + 0] = Default_Handler,
    [16 + 1] = Default_Handler,
    [16 + UART1_RX_IRQ] = UART1_RX_Handler,
};
