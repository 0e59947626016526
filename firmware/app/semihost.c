/* What semihosting does above the architecture's trap: console writes and
 * the exit status (board_exit of board.h). */
#include "semihost.h"

#include "board.h"

void semihost_write(const char *s, size_t len)
{
    char chunk[65];
    while (len > 0u) {
        size_t n = len < sizeof(chunk) - 1u ? len : sizeof(chunk) - 1u;
        size_t i;
        for (i = 0; i < n; i++) {
            chunk[i] = s[i];
        }
        chunk[n] = '\0';
        (void)board_semihost(0x04u, chunk); /* SYS_WRITE0 */
        s += n;
        len -= n;
    }
}

void board_exit(int status)
{
    /* SYS_EXIT_EXTENDED (0x20): {ADP_Stopped_ApplicationExit, status};
     * QEMU (-semihosting) exits with that status. */
    volatile uint32_t block[2] = {0x20026u, (uint32_t)status};
    (void)board_semihost(0x20u, (const void *)block);
    for (;;) {
        __asm volatile("wfi");
    }
}
