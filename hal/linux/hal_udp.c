/*
 * Reference platform layer for Linux: connected UDP sockets.
 *
 * The socket handle is the file descriptor cast to intptr_t; -1 marks
 * failure, so descriptor 0 stays usable.
 */
#include "iot_import.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#if defined(MSG_TRUNC) && defined(MSG_DONTWAIT)
#define HAL_UDP_RECV_FLAGS (MSG_TRUNC | MSG_DONTWAIT)
#elif defined(MSG_DONTWAIT)
#define HAL_UDP_RECV_FLAGS MSG_DONTWAIT
#else
#define HAL_UDP_RECV_FLAGS 0
#endif

intptr_t HAL_UDP_create(char *host, unsigned short port)
{
    struct addrinfo hints;
    struct addrinfo *res = NULL;
    struct addrinfo *ai;
    char service[8];
    int fd = -1;
    int rc;

    if (host == NULL) {
        return (intptr_t)-1;
    }
    snprintf(service, sizeof(service), "%u", (unsigned)port);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_protocol = IPPROTO_UDP;
    hints.ai_flags = AI_NUMERICSERV;

    rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) {
        HAL_Printf("HAL_UDP_create: getaddrinfo(%s): %s\n", host, gai_strerror(rc));
        return (intptr_t)-1;
    }
    /* Try every address (e.g. IPv6 then IPv4): connect() on UDP fails fast
     * only for unroutable families, which is exactly what we must skip. */
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            continue;
        }
        /* Do not leak the socket into children the firmware may exec. */
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        HAL_Printf("HAL_UDP_create: cannot connect to %s:%u\n", host, (unsigned)port);
        return (intptr_t)-1;
    }
    return (intptr_t)fd;
}

void HAL_UDP_close(intptr_t p_socket)
{
    if (p_socket >= 0) {
        close((int)p_socket);
    }
}

int HAL_UDP_write(intptr_t p_socket, const unsigned char *p_data, unsigned int datalen)
{
    ssize_t n;

    if (p_socket < 0 || (p_data == NULL && datalen != 0) || datalen > INT_MAX) {
        return -1;
    }
    do {
        n = send((int)p_socket, p_data, datalen, 0);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -1 : (int)n;
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int HAL_UDP_readTimeout(intptr_t p_socket, unsigned char *p_data, unsigned int datalen,
                        unsigned int timeout_ms)
{
    const uint64_t deadline = now_ms() + timeout_ms;
    struct pollfd pfd;
    ssize_t n;
    int rc;

    if (p_socket < 0 || p_data == NULL) {
        return -1;
    }
    if (datalen > INT_MAX) {
        datalen = INT_MAX;
    }
    pfd.fd = (int)p_socket;
    pfd.events = POLLIN;

    for (;;) {
        uint64_t now = now_ms();
        uint64_t left = now >= deadline ? 0 : deadline - now;

        pfd.revents = 0;
        rc = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (rc < 0) {
            if (errno == EINTR) {
                continue; /* with the time that is left, recomputed above */
            }
            return -1;
        }
        if (rc == 0) {
            return -2;
        }
        /* POLLERR carries a pending ICMP error (port unreachable -> ECONNREFUSED);
         * recv() reports it below. */
        /* MSG_TRUNC: a datagram larger than the buffer returns its real
         * length, so the caller can tell it was cut short. */
        n = recv(pfd.fd, p_data, datalen, HAL_UDP_RECV_FLAGS);
        if (n >= 0) {
            return n > INT_MAX ? INT_MAX : (int)n;
        }
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
            /* Readiness can be spurious (e.g. a datagram dropped for a bad
             * checksum after poll() woke us); wait out the rest. */
            if (now_ms() >= deadline) {
                return -2;
            }
            continue;
        }
        return -1;
    }
}
