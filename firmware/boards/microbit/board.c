/* The board layer of QEMU's microbit (nRF51822: Cortex-M0, 16 MHz, 16 KB
 * of RAM). The nRF51 has one UART, and QEMU's model of the machine one
 * serial port: it carries the link to the relay (SLIP frames, as on every
 * board), and the console goes out through semihosting (SYS_WRITE0) to
 * QEMU's semihosting chardev instead. The UART is polled: QEMU's model
 * accepts bytes from its chardev only while its receive FIFO has room, so
 * nothing is lost between polls. SysTick (which QEMU gives the core) is the
 * clock. */
#include "board.h"
#include "cortex_m.h"
#include "semihost.h"

#define REG(addr) (*(volatile uint32_t *)(addr))

#define UART_BASE 0x40002000u
#define UART_STARTRX REG(UART_BASE + 0x000u)
#define UART_STARTTX REG(UART_BASE + 0x008u)
#define UART_RXDRDY REG(UART_BASE + 0x108u)
#define UART_TXDRDY REG(UART_BASE + 0x11Cu)
#define UART_ENABLE REG(UART_BASE + 0x500u)
#define UART_RXD REG(UART_BASE + 0x518u)
#define UART_TXD REG(UART_BASE + 0x51Cu)
#define UART_BAUDRATE REG(UART_BASE + 0x524u)

#define CPU_HZ 16000000u

int link_read_byte(void)
{
    if (UART_RXDRDY == 0u) {
        return -1;
    }
    /* Clear before reading: the model raises it again if more is queued. */
    UART_RXDRDY = 0u;
    return (int)(UART_RXD & 0xFFu);
}

void link_write_byte(uint8_t b)
{
    UART_TXD = b;
    while (UART_TXDRDY == 0u) {
    }
    UART_TXDRDY = 0u;
}

void console_write(const char *s, size_t len)
{
    semihost_write(s, len);
}

void board_init(void)
{
    UART_BAUDRATE = 0x01D7E000u; /* 115200 */
    UART_ENABLE = 4u;
    UART_STARTTX = 1u;
    UART_STARTRX = 1u;
    cm_systick_start(CPU_HZ);
}

__attribute__((section(".vectors"), used)) static const vector_t g_vectors[16 + 32] = {
    CM_CORE_VECTORS,
};
