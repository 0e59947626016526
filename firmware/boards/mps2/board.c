/* The board layer of QEMU's MPS2 machines with CMSDK APB UARTs: mps2-an385
 * (Cortex-M3), mps2-an386 (Cortex-M4F, 25 MHz) and mps2-an505 (Cortex-M33
 * with TrustZone, 20 MHz, run in the Secure state through the Secure
 * aliases of its memory and peripherals). UART0 is the console, UART1 the
 * link to the relay; SysTick is the clock (cortex_m.c). */
#include "board.h"
#include "cortex_m.h"

#define REG(addr) (*(volatile uint32_t *)(addr))

#if defined(MPS2_AN505)
#define UART0_BASE 0x50200000u
#define UART1_BASE 0x50201000u
#define UART1_RX_IRQ 34u
#define CPU_HZ 20000000u
#define IRQ_COUNT 48u
#else /* AN385, AN386 */
#define UART0_BASE 0x40004000u
#define UART1_BASE 0x40005000u
#define UART1_RX_IRQ 2u
#define CPU_HZ 25000000u
#define IRQ_COUNT 32u
#endif

/* CMSDK APB UART */
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

#define NVIC_ISER(n) REG(0xE000E100u + 4u * (n))

/* Bytes from the relay, filled by the UART1 RX interrupt. When it is full
 * the interrupt is masked and the byte stays in the UART, which stops QEMU
 * from reading the socket: flow control, nothing is dropped. */
#define LINK_RX_SIZE 256u
static uint8_t g_link_rx[LINK_RX_SIZE];
static volatile uint32_t g_link_head; /* written by the interrupt */
static volatile uint32_t g_link_tail; /* written by the main loop */

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

static void UART1_RX_Handler(void)
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

void board_init(void)
{
    /* The baud divisor must be >= 16 or QEMU's UART refuses to work. */
    UART_BAUDDIV(UART0_BASE) = 16u;
    UART_CTRL(UART0_BASE) = UART_CTRL_TXEN | UART_CTRL_RXEN;
    UART_BAUDDIV(UART1_BASE) = 16u;
    UART_CTRL(UART1_BASE) = UART_CTRL_TXEN | UART_CTRL_RXEN | UART_CTRL_RXINTEN;
    NVIC_ISER(UART1_RX_IRQ / 32u) = 1u << (UART1_RX_IRQ % 32u);
    cm_systick_start(CPU_HZ);
}

__attribute__((section(".vectors"), used)) static const vector_t g_vectors[16 + IRQ_COUNT] = {
    CM_CORE_VECTORS,
    [16 + UART1_RX_IRQ] = UART1_RX_Handler,
};
