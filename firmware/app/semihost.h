/* Semihosting (QEMU -semihosting-config enable=on), on every board: the
 * exit status, and the console of boards whose only UART carries the link.
 * Each architecture provides the trap; the rest is shared. */
#ifndef IOTX_FW_SEMIHOST_H
#define IOTX_FW_SEMIHOST_H

#include <stddef.h>
#include <stdint.h>

/* One semihosting call: operation `op` with parameter block `arg`. */
uint32_t board_semihost(uint32_t op, const void *arg);
/* Writes `len` bytes to the host's console (SYS_WRITE0, in chunks). */
void semihost_write(const char *s, size_t len);

#endif
