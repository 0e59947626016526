/*
 * Reference platform layer for Linux: the unconnected UDP calls that the
 * 3.x platform interface adds (include/v3/wrappers.h), for firmware's own
 * local CoAP use. The cloud client never calls them.
 *
 * Compiled against the 3.x prototypes so that any drift from them is a
 * conflicting-types error here. NetworkAddr carries an IPv4 address in
 * dotted form ("127.0.0.1"), as the vendor's reference platform does.
 */
#include "v3/wrappers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A UDP socket bound to host:port (host NULL or "" = any address, port 0 =
 * ephemeral), or (intptr_t)-1. */
intptr_t HAL_UDP_create_without_connect(const char *host, unsigned short port)
{
    struct sockaddr_in addr;
    int fd;
    int one = 1;

    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    if (host != NULL && host[0] != '\0' && inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        HAL_Printf("HAL_UDP_create_without_connect: not an IPv4 address: %s\n", host);
        return (intptr_t)-1;
    }
    fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    if (fd < 0) {
        return (intptr_t)-1;
    }
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        HAL_Printf("HAL_UDP_create_without_connect: bind: %s\n", strerror(errno));
        close(fd);
        return (intptr_t)-1;
    }
    return (intptr_t)fd;
}

int HAL_UDP_close_without_connect(intptr_t sockfd)
{
    if (sockfd < 0) {
        return -1;
    }
    return close((int)sockfd) == 0 ? 0 : -1;
}

/* Bytes sent, or -1. timeout_ms bounds the wait for buffer space. */
int HAL_UDP_sendto(intptr_t sockfd, const NetworkAddr *p_remote, const unsigned char *p_data,
                   unsigned int datalen, unsigned int timeout_ms)
{
    struct sockaddr_in to;
    struct pollfd pfd;
    ssize_t n;

    if (sockfd < 0 || p_remote == NULL || (p_data == NULL && datalen > 0)) {
        return -1;
    }
    memset(&to, 0, sizeof(to));
    to.sin_family = AF_INET;
    to.sin_port = htons(p_remote->port);
    if (memchr(p_remote->addr, '\0', sizeof(p_remote->addr)) == NULL
        || inet_pton(AF_INET, (const char *)p_remote->addr, &to.sin_addr) != 1) {
        return -1;
    }
    pfd.fd = (int)sockfd;
    pfd.events = POLLOUT;
    pfd.revents = 0;
    if (poll(&pfd, 1, timeout_ms > (unsigned int)INT32_MAX ? -1 : (int)timeout_ms) <= 0) {
        return -1;
    }
    n = sendto((int)sockfd, p_data, datalen, 0, (struct sockaddr *)&to, sizeof(to));
    return n < 0 ? -1 : (int)n;
}

/* Bytes received (and the sender in *p_remote when non-NULL), 0 on
 * timeout, -1 on error. */
int HAL_UDP_recvfrom(intptr_t sockfd, NetworkAddr *p_remote, unsigned char *p_data,
                     unsigned int datalen, unsigned int timeout_ms)
{
    struct sockaddr_in from;
    socklen_t from_len = sizeof(from);
    struct pollfd pfd;
    ssize_t n;
    int rc;

    if (sockfd < 0 || p_data == NULL) {
        return -1;
    }
    pfd.fd = (int)sockfd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    rc = poll(&pfd, 1, timeout_ms > (unsigned int)INT32_MAX ? -1 : (int)timeout_ms);
    if (rc == 0) {
        return 0;
    }
    if (rc < 0) {
        return errno == EINTR ? 0 : -1;
    }
    n = recvfrom((int)sockfd, p_data, datalen, 0, (struct sockaddr *)&from, &from_len);
    if (n < 0) {
        return -1;
    }
    if (p_remote != NULL) {
        memset(p_remote, 0, sizeof(*p_remote));
        if (inet_ntop(AF_INET, &from.sin_addr, (char *)p_remote->addr, sizeof(p_remote->addr))
            == NULL) {
            return -1;
        }
        p_remote->port = ntohs(from.sin_port);
    }
    return (int)n;
}
