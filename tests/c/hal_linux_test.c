/*
 * Behavioural test of the reference Linux HAL on its own (no library):
 * the contracts the Rust library relies on (HAL_Random's range, timeout
 * return codes, device-info bounds) are easy to get subtly wrong and
 * would otherwise only show up as flaky end-to-end failures.
 */
#include "iot_import.h"
#include "iot_export.h"
#include "test_device.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int g_failures;

#define CHECK(cond)                                                         \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            g_failures++;                                                   \
        }                                                                   \
    } while (0)

static void test_memory_and_mutex(void)
{
    void *p = HAL_Malloc(64);
    void *m = HAL_MutexCreate();

    CHECK(p != NULL);
    HAL_Free(p);
    HAL_Free(NULL);
    CHECK(m != NULL);
    HAL_MutexLock(m);
    HAL_MutexUnlock(m);
    HAL_MutexDestroy(m);
    HAL_MutexDestroy(NULL);
}

static void test_time(void)
{
    uint64_t t0 = HAL_UptimeMs();
    uint64_t t1;

    HAL_SleepMs(50);
    t1 = HAL_UptimeMs();
    CHECK(t1 >= t0 + 45);
    CHECK(t1 < t0 + 2000);
}

static void test_random(void)
{
    int seen[7] = {0};
    int i;

    HAL_Srandom(1234);
    for (i = 0; i < 7000; i++) {
        uint32_t r = HAL_Random(7);
        CHECK(r < 7);
        if (r < 7) {
            seen[r]++;
        }
    }
    for (i = 0; i < 7; i++) {
        CHECK(seen[i] > 700); /* ~1000 expected; catches a stuck or skewed source */
    }
    for (i = 0; i < 100; i++) {
        CHECK(HAL_Random(1) == 0);
    }
}

static void test_printf(void)
{
    char buf[8];
    int n = HAL_Snprintf(buf, (int)sizeof(buf), "%s-%d", "abcdef", 42);

    CHECK(n == 9);                      /* length it would have written */
    CHECK(strcmp(buf, "abcdef-") == 0); /* truncated and terminated */
    CHECK(HAL_Snprintf(NULL, 0, "%d", 12345) == 5);
}

/* Runs before anything is set: each getter falls back on its environment
 * variable (3.x programs read the identity without setting it). */
static void test_devinfo_from_environment(void)
{
    char pk[PRODUCT_KEY_LEN + 1];
    char dn[DEVICE_NAME_LEN + 1];
    char ds[DEVICE_SECRET_LEN + 1];
    char ps[PRODUCT_SECRET_LEN + 1];
    char id[DEVICE_ID_LEN + 1];

    unsetenv("IOTX_DEVICE_NAME");
    CHECK(HAL_GetDeviceName(dn) == 0 && dn[0] == '\0');
    CHECK(setenv("IOTX_PRODUCT_KEY", "a1EnvPK0001xxxxxxxxxxxxxxxx", 1) == 0); /* 27 > 20 */
    CHECK(setenv("IOTX_DEVICE_NAME", "env-dev", 1) == 0);
    CHECK(setenv("IOTX_DEVICE_SECRET", "envSecret", 1) == 0);
    CHECK(setenv("IOTX_PRODUCT_SECRET", "envProductSecret", 1) == 0);
    CHECK(HAL_GetProductKey(pk) == PRODUCT_KEY_LEN && strcmp(pk, "a1EnvPK0001xxxxxxxxx") == 0);
    CHECK(HAL_GetDeviceName(dn) == 7 && strcmp(dn, "env-dev") == 0);
    CHECK(HAL_GetDeviceSecret(ds) == 9 && strcmp(ds, "envSecret") == 0);
    CHECK(HAL_GetProductSecret(ps) == 16 && strcmp(ps, "envProductSecret") == 0);
    CHECK(HAL_GetDeviceID(id) == 28 && strcmp(id, "a1EnvPK0001xxxxxxxxx.env-dev") == 0);
    /* The variables stay set: test_devinfo then checks that HAL_Set* wins. */
}

static void test_devinfo(void)
{
    char pk[PRODUCT_KEY_LEN + 1];
    char dn[DEVICE_NAME_LEN + 1];
    char ds[DEVICE_SECRET_LEN + 1];
    char id[DEVICE_ID_LEN + 1];
    char pid[PID_STRLEN_MAX];
    char too_long[100];

    CHECK(HAL_SetProductKey(NULL) == -1);
    CHECK(HAL_SetProductKey((char *)TEST_PK) == 11);
    CHECK(HAL_SetDeviceName((char *)TEST_DN) == 7);
    CHECK(HAL_SetDeviceSecret((char *)TEST_DS) == 32);
    CHECK(HAL_GetProductKey(pk) == 11 && strcmp(pk, TEST_PK) == 0);
    CHECK(HAL_GetDeviceName(dn) == 7 && strcmp(dn, TEST_DN) == 0);
    CHECK(HAL_GetDeviceSecret(ds) == 32 && strcmp(ds, TEST_DS) == 0);
    CHECK(HAL_GetDeviceID(id) == 19 && strcmp(id, TEST_DEVICE_ID) == 0);
    CHECK(HAL_GetPartnerID(pid) == 0 && pid[0] == '\0');

    /* Over-long input is cut to the field size, never overflowing it. */
    memset(too_long, 'x', sizeof(too_long) - 1);
    too_long[sizeof(too_long) - 1] = '\0';
    CHECK(HAL_SetProductKey(too_long) == PRODUCT_KEY_LEN);
    CHECK(HAL_GetProductKey(pk) == PRODUCT_KEY_LEN && pk[PRODUCT_KEY_LEN] == '\0');
    CHECK(HAL_SetProductKey((char *)TEST_PK) == 11);
}

static void test_udp(void)
{
    struct sockaddr_in addr;
    socklen_t alen = sizeof(addr);
    unsigned char buf[64];
    char peer_buf[64];
    int server;
    intptr_t sock;
    uint64_t t0;
    int n;

    /* A local "server" socket on an ephemeral port. */
    server = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(server >= 0);
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    CHECK(bind(server, (struct sockaddr *)&addr, sizeof(addr)) == 0);
    CHECK(getsockname(server, (struct sockaddr *)&addr, &alen) == 0);

    CHECK(HAL_UDP_create(NULL, 1) == (intptr_t)-1);

    sock = HAL_UDP_create((char *)"127.0.0.1", ntohs(addr.sin_port));
    CHECK(sock != (intptr_t)-1);
    if (sock == (intptr_t)-1) {
        close(server);
        return;
    }

    /* Nothing to read: -2 after roughly the timeout, not at once, not forever. */
    t0 = HAL_UptimeMs();
    CHECK(HAL_UDP_readTimeout(sock, buf, sizeof(buf), 100) == -2);
    CHECK(HAL_UptimeMs() - t0 >= 90);

    CHECK(HAL_UDP_write(sock, (const unsigned char *)"ping", 4) == 4);
    {
        struct sockaddr_in from;
        socklen_t flen = sizeof(from);
        ssize_t r = recvfrom(server, peer_buf, sizeof(peer_buf), 0, (struct sockaddr *)&from, &flen);
        CHECK(r == 4 && memcmp(peer_buf, "ping", 4) == 0);
        CHECK(sendto(server, "pong!", 5, 0, (struct sockaddr *)&from, flen) == 5);
    }
    n = HAL_UDP_readTimeout(sock, buf, sizeof(buf), 1000);
    CHECK(n == 5 && memcmp(buf, "pong!", 5) == 0);

    /* Once the peer is gone, the ICMP port-unreachable surfaces as an error
     * (-1) rather than being mistaken for a timeout or for data. */
    close(server);
    CHECK(HAL_UDP_write(sock, (const unsigned char *)"ping", 4) == 4);
    n = HAL_UDP_readTimeout(sock, buf, sizeof(buf), 500);
    CHECK(n == -1);

    HAL_UDP_close(sock);
}

static void test_dtls_invalid(void)
{
    unsigned int len = 1;

    /* Holds for the stub and for a real DTLS implementation alike. */
    CHECK(HAL_DTLSSession_create(NULL) == NULL);
    CHECK(HAL_DTLSSession_write(NULL, (const unsigned char *)"x", &len) != DTLS_SUCCESS);
    CHECK(HAL_DTLSSession_read(NULL, (unsigned char *)&len, &len, 10) != DTLS_SUCCESS);
}

int main(void)
{
    test_memory_and_mutex();
    test_time();
    test_random();
    test_printf();
    test_devinfo_from_environment();
    test_devinfo();
    test_udp();
    test_dtls_invalid();
    if (g_failures != 0) {
        fprintf(stderr, "hal_linux_test: %d failure(s)\n", g_failures);
        return 1;
    }
    printf("hal_linux_test OK\n");
    return 0;
}
