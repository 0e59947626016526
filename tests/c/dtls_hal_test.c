/*
 * Contract test of the reference DTLS HAL (hal/linux/hal_dtls.c) against a
 * real DTLS 1.2 CoAP server (tests/c/dtls_hal_test.sh runs libcoap's
 * coap-server-openssl). The echo is a CON GET of the root resource, which
 * libcoap's server answers with a piggybacked 2.05 carrying the same message
 * ID (libcoap rate-limits the RSTs it answers CoAP pings with).
 *
 *   dtls_hal_test ok   HOST PORT CAFILE        session, echo, truncation, timeout
 *   dtls_hal_test connect HOST PORT CAFILE     create must succeed
 *   dtls_hal_test fail HOST PORT CAFILE MAX_MS create must return NULL in MAX_MS
 *   dtls_hal_test dead HOST PORT CAFILE PID    SIGKILL the server, the session
 *                                              must report a dead-session code
 *   dtls_hal_test silent CAFILE                peer never answers: create gives
 *                                              up within the handshake bound
 *
 * CAFILE is read and handed over as p_ca_cert_pem text ("-" passes garbage,
 * to check the IOTX_DTLS_CA_FILE override). Prints "dtls_hal_test OK" last.
 */
#include "iot_import.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static int failures;

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                        \
        }                                                                      \
    } while (0)

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static char *read_file(const char *path)
{
    FILE *f;
    char *buf;
    long n;

    if (strcmp(path, "-") == 0) {
        buf = malloc(32);
        if (buf != NULL) {
            strcpy(buf, "not a certificate");
        }
        return buf;
    }
    f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = malloc((size_t)n + 1);
    if (buf != NULL) {
        size_t got = fread(buf, 1, (size_t)n, f);
        buf[got] = '\0';
    }
    fclose(f);
    return buf;
}

static DTLSContext *open_session(char *host, unsigned short port, char *pem)
{
    coap_dtls_options_t opt;

    memset(&opt, 0, sizeof(opt));
    opt.p_ca_cert_pem = (unsigned char *)pem;
    opt.p_host = host;
    opt.port = port;
    return HAL_DTLSSession_create(&opt);
}

/* Sends CON GET / and waits for its piggybacked 2.05; 1 if it came back. */
static int get_root(DTLSContext *s, uint16_t mid)
{
    unsigned char req[4] = {0x40, 0x01, (unsigned char)(mid >> 8), (unsigned char)mid};
    unsigned char buf[2048];
    unsigned int len = sizeof(req);
    uint64_t deadline = now_ms() + 3000;
    unsigned int rc;

    rc = HAL_DTLSSession_write(s, req, &len);
    if (rc != DTLS_SUCCESS || len != sizeof(req)) {
        fprintf(stderr, "write: rc=0x%x len=%u\n", rc, len);
        return 0;
    }
    while (now_ms() < deadline) {
        len = sizeof(buf);
        rc = HAL_DTLSSession_read(s, buf, &len, 500);
        if (rc != DTLS_SUCCESS) {
            fprintf(stderr, "read: rc=0x%x\n", rc);
            return 0;
        }
        if (getenv("DTLS_HAL_TEST_DEBUG") != NULL && len > 0) fprintf(stderr, "got %u bytes: %02x %02x %02x %02x\n", len, buf[0], buf[1], buf[2], buf[3]);
        if (len > 4 && buf[0] == 0x60 && buf[1] == 0x45 && buf[2] == req[2] && buf[3] == req[3]) {
            return 1;
        }
    }
    fprintf(stderr, "no response to GET mid %u\n", (unsigned)mid);
    return 0;
}

static void check_params(void)
{
    unsigned char b[4] = {0};
    unsigned int len = sizeof(b);
    coap_dtls_options_t opt;

    CHECK(HAL_DTLSSession_create(NULL) == NULL);
    memset(&opt, 0, sizeof(opt));
    CHECK(HAL_DTLSSession_create(&opt) == NULL); /* no host */
    CHECK(HAL_DTLSSession_write(NULL, b, &len) == DTLS_INVALID_PARAM);
    len = sizeof(b);
    CHECK(HAL_DTLSSession_read(NULL, b, &len, 10) == DTLS_INVALID_PARAM);
    CHECK(len == 0);
    CHECK(HAL_DTLSSession_free(NULL) == DTLS_SUCCESS);
}

static int mode_ok(char *host, unsigned short port, char *pem)
{
    DTLSContext *s;
    unsigned char buf[16];
    unsigned char req[4] = {0x40, 0x01, 0x77, 0x01};
    unsigned int len;
    unsigned int rc;
    uint64_t t0;
    uint64_t dt;
    int i;

    check_params();
    s = open_session(host, port, pem);
    CHECK(s != NULL);
    if (s == NULL) {
        return 1;
    }
    CHECK(get_root(s, 0x1001));
    CHECK(get_root(s, 0x1002));

    /* Truncation: nothing may land past the caller's length; the length
     * reported is the record's real one (more than fits, so the caller
     * knows it was cut short), and the rest of the record is gone rather
     * than passed off as a datagram of its own. */
    len = sizeof(req);
    CHECK(HAL_DTLSSession_write(s, req, &len) == DTLS_SUCCESS && len == sizeof(req));
    memset(buf, 0xAA, sizeof(buf));
    len = 2;
    rc = HAL_DTLSSession_read(s, buf, &len, 3000);
    CHECK(rc == DTLS_SUCCESS);
    CHECK(len > 2);
    for (i = 2; i < (int)sizeof(buf); i++) {
        CHECK(buf[i] == 0xAA);
    }
    len = sizeof(buf);
    rc = HAL_DTLSSession_read(s, buf, &len, 300);
    CHECK(rc == DTLS_SUCCESS && len == 0);

    /* Timeout: success with no data, after roughly the time asked for. */
    t0 = now_ms();
    len = sizeof(buf);
    rc = HAL_DTLSSession_read(s, buf, &len, 700);
    dt = now_ms() - t0;
    CHECK(rc == DTLS_SUCCESS);
    CHECK(len == 0);
    CHECK(dt >= 600 && dt < 3000);
    fprintf(stderr, "timeout read took %llu ms\n", (unsigned long long)dt);

    len = 0;
    CHECK(HAL_DTLSSession_read(s, buf, &len, 10) == DTLS_INVALID_PARAM);
    len = 0;
    CHECK(HAL_DTLSSession_write(s, req, &len) == DTLS_SUCCESS && len == 0);

    /* The session still works after all that. */
    CHECK(get_root(s, 0x1003));

    /* Two sessions at once are independent. */
    {
        DTLSContext *s2 = open_session(host, port, pem);
        CHECK(s2 != NULL);
        if (s2 != NULL) {
            CHECK(get_root(s2, 0x2001));
            CHECK(get_root(s, 0x1004));
            CHECK(HAL_DTLSSession_free(s2) == DTLS_SUCCESS);
        }
    }
    CHECK(get_root(s, 0x1005));
    CHECK(HAL_DTLSSession_free(s) == DTLS_SUCCESS);
    return failures != 0;
}

static int mode_fail(char *host, unsigned short port, char *pem, unsigned max_ms)
{
    uint64_t t0 = now_ms();
    DTLSContext *s = open_session(host, port, pem);
    uint64_t dt = now_ms() - t0;

    CHECK(s == NULL);
    CHECK(dt <= max_ms);
    fprintf(stderr, "create failed after %llu ms (bound %u)\n", (unsigned long long)dt, max_ms);
    if (s != NULL) {
        HAL_DTLSSession_free(s);
    }
    return failures != 0;
}

static int mode_dead(char *host, unsigned short port, char *pem, pid_t server)
{
    DTLSContext *s = open_session(host, port, pem);
    unsigned char req[4] = {0x40, 0x01, 0x55, 0x00};
    unsigned char buf[2048];
    unsigned int rc = DTLS_SUCCESS;
    uint64_t t0;

    CHECK(s != NULL);
    if (s == NULL) {
        return 1;
    }
    CHECK(get_root(s, 0x3001));
    CHECK(kill(server, SIGKILL) == 0);
    {
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    t0 = now_ms();
    /* The library's pattern: keep sending and reading until the HAL says
     * the session is dead; that must happen within a bounded time. */
    while (now_ms() - t0 < 10000) {
        unsigned int len = sizeof(req);

        req[3]++;
        rc = HAL_DTLSSession_write(s, req, &len);
        if (rc == DTLS_PEER_CLOSE_NOTIFY || rc == DTLS_FATAL_ALERT_MESSAGE) {
            break;
        }
        len = sizeof(buf);
        rc = HAL_DTLSSession_read(s, buf, &len, 500);
        if (rc == DTLS_PEER_CLOSE_NOTIFY || rc == DTLS_FATAL_ALERT_MESSAGE) {
            break;
        }
    }
    fprintf(stderr, "dead session reported as 0x%x after %llu ms\n", rc,
            (unsigned long long)(now_ms() - t0));
    CHECK(rc == DTLS_FATAL_ALERT_MESSAGE || rc == DTLS_PEER_CLOSE_NOTIFY);
    CHECK(HAL_DTLSSession_free(s) == DTLS_SUCCESS);
    return failures != 0;
}

/* A bound UDP port that swallows everything: only the handshake bound ends
 * the attempt (IOTX_DTLS_HANDSHAKE_TIMEOUT_MS, set here to 1500 ms). */
static int mode_silent(char *pem)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    char host[] = "127.0.0.1";
    int rc;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        perror("silent peer");
        return 1;
    }
    setenv("IOTX_DTLS_HANDSHAKE_TIMEOUT_MS", "1500", 1);
    rc = mode_fail(host, ntohs(a.sin_port), pem, 3000);
    close(fd);
    return rc;
}

int main(int argc, char **argv)
{
    char *pem;
    int rc;

    if (argc >= 3 && strcmp(argv[1], "silent") == 0) {
        pem = read_file(argv[2]);
        if (pem == NULL) {
            return 2;
        }
        rc = mode_silent(pem);
        free(pem);
    } else if (argc >= 5) {
        unsigned short port = (unsigned short)atoi(argv[3]);

        pem = read_file(argv[4]);
        if (pem == NULL) {
            return 2;
        }
        if (strcmp(argv[1], "ok") == 0) {
            rc = mode_ok(argv[2], port, pem);
        } else if (strcmp(argv[1], "connect") == 0) {
            DTLSContext *sess = open_session(argv[2], port, pem);
            CHECK(sess != NULL);
            CHECK(HAL_DTLSSession_free(sess) == DTLS_SUCCESS);
            rc = failures != 0;
        } else if (strcmp(argv[1], "fail") == 0 && argc >= 6) {
            rc = mode_fail(argv[2], port, pem, (unsigned)atoi(argv[5]));
        } else if (strcmp(argv[1], "dead") == 0 && argc >= 6) {
            rc = mode_dead(argv[2], port, pem, (pid_t)atoi(argv[5]));
        } else {
            free(pem);
            fprintf(stderr, "unknown mode %s\n", argv[1]);
            return 2;
        }
        free(pem);
    } else {
        fprintf(stderr, "usage: %s ok|connect|fail|dead HOST PORT CAFILE [MAX_MS|PID] | silent CAFILE\n", argv[0]);
        return 2;
    }
    if (rc == 0) {
        printf("dtls_hal_test OK\n");
    }
    return rc;
}
