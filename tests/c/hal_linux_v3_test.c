/*
 * The reference HAL's 3.x unconnected UDP calls (hal/linux/hal_udp_v3.c),
 * through the 3.x prototypes, on loopback: a datagram goes from one socket
 * to another with the sender's address reported, timeouts return 0, and
 * bad input returns -1.
 */
#include "wrappers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static int g_failures;

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "hal_linux_v3_test:%d: %s\n", __LINE__, #cond);    \
            g_failures++;                                                      \
        }                                                                      \
    } while (0)

static unsigned short bound_port(intptr_t fd)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof(addr);

    if (getsockname((int)fd, (struct sockaddr *)&addr, &len) != 0) {
        return 0;
    }
    return ntohs(addr.sin_port);
}

int main(void)
{
    static const unsigned char ping[] = "ping";
    unsigned char buf[16];
    NetworkAddr to;
    NetworkAddr from;
    intptr_t a;
    intptr_t b;

    CHECK(HAL_UDP_create_without_connect("not-an-address", 0) == (intptr_t)-1);
    a = HAL_UDP_create_without_connect("127.0.0.1", 0);
    b = HAL_UDP_create_without_connect("127.0.0.1", 0);
    CHECK(a >= 0 && b >= 0);
    if (a < 0 || b < 0) {
        return 1;
    }

    memset(&to, 0, sizeof(to));
    strcpy((char *)to.addr, "127.0.0.1");
    to.port = bound_port(a);
    CHECK(to.port != 0);
    CHECK(HAL_UDP_sendto(b, &to, ping, 4, 1000) == 4);
    memset(&from, 0xff, sizeof(from));
    CHECK(HAL_UDP_recvfrom(a, &from, buf, sizeof(buf), 1000) == 4);
    CHECK(memcmp(buf, ping, 4) == 0);
    CHECK(strcmp((const char *)from.addr, "127.0.0.1") == 0);
    CHECK(from.port == bound_port(b));

    CHECK(HAL_UDP_recvfrom(a, &from, buf, sizeof(buf), 50) == 0);
    CHECK(HAL_UDP_recvfrom(a, &from, NULL, sizeof(buf), 50) == -1);
    CHECK(HAL_UDP_sendto(b, NULL, ping, 4, 100) == -1);
    strcpy((char *)to.addr, "300.1.1.1");
    CHECK(HAL_UDP_sendto(b, &to, ping, 4, 100) == -1);

    CHECK(HAL_UDP_close_without_connect(a) == 0);
    CHECK(HAL_UDP_close_without_connect(b) == 0);
    CHECK(HAL_UDP_close_without_connect((intptr_t)-1) == -1);
    if (g_failures != 0) {
        return 1;
    }
    printf("hal_linux_v3_test OK\n");
    return 0;
}
