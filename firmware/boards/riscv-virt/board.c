/* The board layer of QEMU's RISC-V virt machine for an rv32imac core
 * (qemu-system-riscv32 -M virt -bios none: the image starts in machine
 * mode at its ELF entry). The machine has one UART (NS16550A at
 * 0x10000000): it carries the link to the relay, polled (QEMU's model takes
 * bytes from its chardev only while its FIFO has room), and the console
 * goes out through semihosting (SYS_WRITE0), as on the microbit. The clock
 * is the CLINT's mtime (10 MHz); waiting is wfi on a 1 ms mtimecmp. A trap
 * (a Rust panic or abort is `unimp`, an illegal instruction) is reported
 * and ends the run with status 3. */
#include "board.h"
#include "semihost.h"

#define REG8(addr) (*(volatile uint8_t *)(addr))
#define REG32(addr) (*(volatile uint32_t *)(addr))

#define UART_BASE 0x10000000u
#define UART_RBR REG8(UART_BASE + 0u)
#define UART_THR REG8(UART_BASE + 0u)
#define UART_FCR REG8(UART_BASE + 2u)
#define UART_LSR REG8(UART_BASE + 5u)
#define LSR_DR 0x01u
#define LSR_THRE 0x20u

#define CLINT_MTIMECMP_LO REG32(0x02004000u)
#define CLINT_MTIMECMP_HI REG32(0x02004004u)
#define CLINT_MTIME_LO REG32(0x0200BFF8u)
#define CLINT_MTIME_HI REG32(0x0200BFFCu)
#define MTIME_HZ 10000000u
#define MIE_MTIE (1u << 7)

extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __code_start[], __code_end[];

/* GCC 12 takes CSR instructions only with the Zicsr extension named; the
 * toolchain file's -march stays the core's (rv32imac), for multilib. */
#define ZICSR(insns) ".option push\n.option arch, +zicsr\n" insns "\n.option pop\n"

int main(void);
void board_reset(void) __attribute__((used, noreturn));
void board_trap(void) __attribute__((used, noreturn));

static uint64_t g_watchdog_deadline; /* 0: disarmed */

__attribute__((naked, section(".text.start"))) void _start(void)
{
    __asm volatile(".option push\n"
                   ".option norelax\n"
                   "la gp, __global_pointer$\n"
                   ".option pop\n"
                   "la sp, __stack_top\n"
                   "la t0, trap_entry\n"
                   ZICSR("csrw mtvec, t0")
                   "j board_reset\n"
                   ".balign 4\n"
                   "trap_entry:\n"
                   "j board_trap\n");
}

static uint64_t mtime(void)
{
    uint32_t hi, lo;
    do {
        hi = CLINT_MTIME_HI;
        lo = CLINT_MTIME_LO;
    } while (hi != CLINT_MTIME_HI);
    return ((uint64_t)hi << 32) | lo;
}

/* The RISC-V semihosting trap, uncompressed, on one page (app/semihost.c
 * does the rest). */
uint32_t board_semihost(uint32_t op, const void *arg)
{
    register uint32_t a0 __asm("a0") = op;
    register const void *a1 __asm("a1") = arg;
    __asm volatile(".option push\n"
                   ".option norvc\n"
                   ".balign 16\n"
                   "slli x0, x0, 0x1f\n"
                   "ebreak\n"
                   "srai x0, x0, 7\n"
                   ".option pop\n"
                   : "+r"(a0)
                   : "r"(a1)
                   : "memory");
    return a0;
}

void console_write(const char *s, size_t len)
{
    semihost_write(s, len);
}

void board_puts(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0') {
        n++;
    }
    console_write(s, n);
}

uint64_t board_uptime_ms(void)
{
    uint64_t now = mtime() / (MTIME_HZ / 1000u);
    if (g_watchdog_deadline != 0u && now >= g_watchdog_deadline) {
        board_puts("\r\n[board] HALTED: watchdog expired, the device stopped making progress\r\n");
        board_exit(6);
    }
    return now;
}

void board_watchdog_arm(uint32_t ms)
{
    g_watchdog_deadline = board_uptime_ms() + ms;
}

uint32_t board_entropy(void)
{
    uint64_t t = mtime();
    return (uint32_t)t ^ (uint32_t)(t >> 32) * 2654435761u;
}

/* Until the next millisecond (or any other enabled interrupt): wfi wakes
 * on a pending enabled interrupt even with mstatus.MIE clear, so nothing
 * is taken, only the core sleeps. */
void board_wait_for_interrupt(void)
{
    uint64_t at = mtime() + MTIME_HZ / 1000u;
    CLINT_MTIMECMP_HI = 0xFFFFFFFFu;
    CLINT_MTIMECMP_LO = (uint32_t)at;
    CLINT_MTIMECMP_HI = (uint32_t)(at >> 32);
    __asm volatile(ZICSR("csrs mie, %0") "wfi" ::"r"(MIE_MTIE) : "memory");
    (void)board_uptime_ms(); /* the watchdog */
}

int link_read_byte(void)
{
    if ((UART_LSR & LSR_DR) == 0u) {
        return -1;
    }
    return UART_RBR;
}

void link_write_byte(uint8_t b)
{
    while ((UART_LSR & LSR_THRE) == 0u) {
    }
    UART_THR = b;
}

void board_init(void)
{
    UART_FCR = 0x07u; /* FIFOs on and cleared */
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

void board_trap(void)
{
    uint32_t mcause, mepc, mtval;
    uint32_t insn = 0;

    __asm volatile(ZICSR("csrr %0, mcause\n csrr %1, mepc\n csrr %2, mtval")
                   : "=r"(mcause), "=r"(mepc), "=r"(mtval));
    board_puts("\r\n[board] HALTED: trap, mcause=");
    console_hex(mcause);
    board_puts(" mepc=");
    console_hex(mepc);
    board_puts(" mtval=");
    console_hex(mtval);
    board_puts("\r\n");
    if (mepc >= (uintptr_t)__code_start && mepc < (uintptr_t)__code_end && (mepc & 1u) == 0u) {
        insn = *(const volatile uint16_t *)(uintptr_t)mepc;
        if ((insn & 3u) == 3u) {
            insn |= (uint32_t) * (const volatile uint16_t *)(uintptr_t)(mepc + 2u) << 16;
        }
    }
    /* LLVM's trap: `unimp` (csrrw x0, cycle, x0), or its compressed form 0. */
    if (mcause == 2u && (insn == 0xC0001073u || insn == 0u)) {
        board_puts("[board] HALTED: Rust panic/abort in iotx-coap (unimp at pc ");
        console_hex(mepc);
        board_puts("; riscv64-unknown-elf-addr2line -f -C -e IMAGE.elf PC names the function)\r\n");
    }
    board_exit(3);
}

void board_reset(void)
{
    uint32_t *p;

    for (p = __data_start; p < __data_end; p++) {
        *p = __data_load[p - __data_start];
    }
    for (p = __bss_start; p < __bss_end; p++) {
        *p = 0u;
    }
    board_stack_repaint();
    board_exit(main());
}
