/*
 * Compatibility header: UDP transport HAL.
 *
 * Sockets are passed around as intptr_t so that platforms can use either a
 * file descriptor or a pointer to their own socket object.
 */
#ifndef IOT_IMPORT_UDP_H
#define IOT_IMPORT_UDP_H

#include <stdint.h>

#if defined(__cplusplus)
extern "C" {
#endif

/* A UDP socket connected to host:port, or (intptr_t)-1 on failure. */
intptr_t HAL_UDP_create(char *host, unsigned short port);
void HAL_UDP_close(intptr_t p_socket);
/* Bytes sent, or -1 on error. */
int HAL_UDP_write(intptr_t p_socket, const unsigned char *p_data, unsigned int datalen);
/* Bytes received; 0 or -2 on timeout; -1 on error. */
int HAL_UDP_readTimeout(intptr_t p_socket, unsigned char *p_data, unsigned int datalen,
                        unsigned int timeout_ms);

#if defined(__cplusplus)
}
#endif

#endif /* IOT_IMPORT_UDP_H */
