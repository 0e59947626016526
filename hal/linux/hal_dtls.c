/*
 * Reference platform layer for Linux: DTLS 1.2 client sessions (coaps:// URLs)
 * over a connected UDP socket, with OpenSSL (1.1.1 or 3.x; link -lssl -lcrypto).
 *
 * Trust
 *   The server certificate chain must lead to one of the certificates in
 *   p_options->p_ca_cert_pem (NUL-terminated PEM text, one or more
 *   certificates). Nothing else is trusted: no system store.
 *   Local-testing override: if the environment variable IOTX_DTLS_CA_FILE
 *   names a PEM file, the certificates in that file are trusted INSTEAD of
 *   p_ca_cert_pem (which may then be NULL). This lets a device image that
 *   hard-codes the vendor CA talk to a local test server.
 *   The server name is checked too: against the certificate's IP SANs when
 *   p_host is a numeric address, against its DNS names otherwise (and sent
 *   as SNI).
 *
 * Handshake
 *   Bounded in total by 10 s, or by IOTX_DTLS_HANDSHAKE_TIMEOUT_MS if set.
 *   Lost flights are retransmitted on OpenSSL's own DTLS timers (1 s,
 *   doubling). A refused port (ICMP port unreachable) fails at once.
 *   Failures are reported with one HAL_Printf line (the X.509 verify
 *   result for certificate problems).
 *
 * Return codes
 *   create: NULL on any failure.
 *   write:  DTLS_SUCCESS, *p_datalen = bytes sent (one record, one datagram).
 *   read:   DTLS_SUCCESS, *p_datalen = n > 0   data; when the record did
 *                                              not fit, the buffer is full
 *                                              and n is the record's real
 *                                              length (more than passed
 *                                              in: the caller drops it as
 *                                              truncated);
 *           DTLS_SUCCESS, *p_datalen = 0       timeout_ms passed, no data.
 *   Session is dead (the library reconnects):
 *           DTLS_PEER_CLOSE_NOTIFY     the server sent close_notify;
 *           DTLS_FATAL_ALERT_MESSAGE   a fatal alert or protocol error
 *                                      (SSL_ERROR_SSL), or the socket got
 *                                      ECONNREFUSED: the server process is
 *                                      gone, and a restarted one has lost
 *                                      this session anyway.
 *   Transient (the library keeps the session and retries):
 *           DTLS_READ_DATA_FAILED      other socket errors on read or write
 *                                      (the ABI has no write-specific code),
 *                                      or a write that stayed blocked for 2 s;
 *           DTLS_INVALID_PARAM         NULL context/buffer/length, or a
 *                                      zero-length read buffer.
 *   free:   DTLS_SUCCESS (NULL-safe).
 *
 * Threads
 *   Each context owns its SSL_CTX, SSL and socket; there is no global state
 *   here beyond OpenSSL's own (self-initialising, thread-safe) library state.
 *   Calls on one context must be serialised by the caller (the library does).
 */
#include "iot_import.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#define HAL_DTLS_HANDSHAKE_TIMEOUT_MS 10000u
/* Fits IPv6 minimum MTU minus headers with room to spare; path MTU
 * discovery is off because a CoAP message never needs more. */
#define HAL_DTLS_MTU 1200
#define HAL_DTLS_WRITE_BLOCK_MS 2000u

typedef struct {
    SSL_CTX *ctx;
    SSL *ssl;
    int fd;
    /* After SSL_ERROR_SSL / SSL_ERROR_SYSCALL OpenSSL forbids SSL_shutdown. */
    int broken;
} hal_dtls_t;

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int ms_left(uint64_t deadline)
{
    uint64_t now = now_ms();
    uint64_t left = now >= deadline ? 0 : deadline - now;

    return left > INT_MAX ? INT_MAX : (int)left;
}

/* Shortens a poll() wait to OpenSSL's next retransmission deadline, so that
 * DTLSv1_handle_timeout runs on time. */
static int dtls_timer_cap(SSL *ssl, int wait_ms)
{
    struct timeval tv;

    if (DTLSv1_get_timeout(ssl, &tv) > 0) {
        long long t = (long long)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
        if (t < wait_ms) {
            wait_ms = (int)t;
        }
    }
    return wait_ms;
}

/* Takes the pending socket error (e.g. ECONNREFUSED from an ICMP port
 * unreachable) that poll() flagged with POLLERR. */
static int take_socket_error(int fd)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
        return errno;
    }
    return err;
}

static void log_ssl_error(const char *what)
{
    char buf[256];
    unsigned long e = ERR_get_error();

    if (e != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        HAL_Printf("%s: %s\n", what, buf);
    } else {
        HAL_Printf("%s: %s\n", what, errno != 0 ? strerror(errno) : "unknown error");
    }
    /* The queue is per thread; stale entries would be blamed on a later,
     * unrelated call (and the next SSL_get_error would be wrong). */
    ERR_clear_error();
}

static int add_pem_certs(X509_STORE *store, BIO *bio)
{
    X509 *cert;
    int n = 0;

    while ((cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (X509_STORE_add_cert(store, cert) == 1) {
            n++;
        }
        X509_free(cert);
    }
    /* The loop always ends on a "no start line" error. */
    ERR_clear_error();
    return n;
}

static int load_trust(SSL_CTX *ctx, const unsigned char *pem)
{
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    const char *file = getenv("IOTX_DTLS_CA_FILE");
    BIO *bio;
    int n;

    if (file != NULL && file[0] != '\0') {
        bio = BIO_new_file(file, "r");
        if (bio == NULL) {
            ERR_clear_error();
            HAL_Printf("HAL_DTLSSession_create: cannot open IOTX_DTLS_CA_FILE %s\n", file);
            return -1;
        }
        n = add_pem_certs(store, bio);
        BIO_free(bio);
        if (n == 0) {
            HAL_Printf("HAL_DTLSSession_create: no certificate in IOTX_DTLS_CA_FILE %s\n", file);
            return -1;
        }
        HAL_Printf("HAL_DTLSSession_create: trusting %d CA certificate(s) from "
                   "IOTX_DTLS_CA_FILE %s (p_ca_cert_pem ignored)\n", n, file);
        return 0;
    }
    if (pem == NULL) {
        HAL_Printf("HAL_DTLSSession_create: no CA certificate (p_ca_cert_pem is NULL)\n");
        return -1;
    }
    bio = BIO_new_mem_buf(pem, -1);
    if (bio == NULL) {
        log_ssl_error("HAL_DTLSSession_create: BIO_new_mem_buf");
        return -1;
    }
    n = add_pem_certs(store, bio);
    BIO_free(bio);
    if (n == 0) {
        HAL_Printf("HAL_DTLSSession_create: no PEM certificate in p_ca_cert_pem\n");
        return -1;
    }
    HAL_Printf("HAL_DTLSSession_create: trusting %d CA certificate(s) from p_ca_cert_pem\n", n);
    return 0;
}

/* The reference UDP HAL's connected socket, switched to non-blocking. */
static int connect_udp(const char *host, unsigned short port)
{
    intptr_t sock = HAL_UDP_create((char *)host, port);
    int fd = (int)sock;
    int flags;

    if (sock < 0) {
        return -1;
    }
    /* Every wait goes through poll() with a deadline, never a blocking recv. */
    flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        HAL_Printf("HAL_DTLSSession_create: fcntl: %s\n", strerror(errno));
        HAL_UDP_close(sock);
        return -1;
    }
    return fd;
}

static int is_ip_literal(const char *host)
{
    unsigned char addr[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

static uint64_t handshake_timeout_ms(void)
{
    const char *s = getenv("IOTX_DTLS_HANDSHAKE_TIMEOUT_MS");
    char *end = NULL;
    unsigned long v;

    if (s == NULL || s[0] == '\0') {
        return HAL_DTLS_HANDSHAKE_TIMEOUT_MS;
    }
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v == 0) {
        return HAL_DTLS_HANDSHAKE_TIMEOUT_MS;
    }
    return v;
}

static int handshake(hal_dtls_t *c, const char *host, unsigned short port)
{
    const uint64_t deadline = now_ms() + handshake_timeout_ms();
    struct pollfd pfd;
    char what[160];
    int rc;

    snprintf(what, sizeof(what), "HAL_DTLSSession_create: handshake with %s:%u failed",
             host, (unsigned)port);
    for (;;) {
        int err;

        ERR_clear_error();
        errno = 0;
        rc = SSL_connect(c->ssl);
        if (rc == 1) {
            return 0;
        }
        err = SSL_get_error(c->ssl, rc);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
            long vr = SSL_get_verify_result(c->ssl);

            c->broken = 1;
            if (vr != X509_V_OK) {
                HAL_Printf("%s: certificate: %s\n", what, X509_verify_cert_error_string(vr));
                ERR_clear_error();
            } else if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
                HAL_Printf("%s: %s\n", what, errno != 0 ? strerror(errno) : "connection closed");
            } else {
                log_ssl_error(what);
            }
            return -1;
        }
        for (;;) {
            int wait = ms_left(deadline);

            if (wait == 0) {
                HAL_Printf("%s: no answer within %llu ms\n", what,
                           (unsigned long long)handshake_timeout_ms());
                return -1;
            }
            pfd.fd = c->fd;
            pfd.events = err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
            pfd.revents = 0;
            rc = poll(&pfd, 1, dtls_timer_cap(c->ssl, wait));
            if (rc < 0 && errno == EINTR) {
                continue;
            }
            if (rc < 0) {
                HAL_Printf("%s: poll: %s\n", what, strerror(errno));
                return -1;
            }
            if (rc == 0) {
                /* Retransmits the last flight if its timer ran out. */
                if (DTLSv1_handle_timeout(c->ssl) < 0) {
                    c->broken = 1;
                    log_ssl_error(what);
                    return -1;
                }
                continue;
            }
            if (pfd.revents & POLLERR) {
                int se = take_socket_error(c->fd);
                if (se != 0) {
                    HAL_Printf("%s: %s\n", what, strerror(se));
                    return -1;
                }
            }
            break;
        }
    }
}

static void session_free(hal_dtls_t *c)
{
    if (c->ssl != NULL) {
        if (!c->broken && SSL_is_init_finished(c->ssl)) {
            /* One best-effort close_notify; the fd is non-blocking, so this
             * never waits for the peer's reply. */
            (void)SSL_shutdown(c->ssl);
        }
        SSL_free(c->ssl); /* also frees the BIO */
    }
    if (c->ctx != NULL) {
        SSL_CTX_free(c->ctx);
    }
    if (c->fd >= 0) {
        close(c->fd);
    }
    ERR_clear_error();
    free(c);
}

DTLSContext *HAL_DTLSSession_create(coap_dtls_options_t *p_options)
{
    struct sockaddr_storage peer;
    socklen_t peer_len = sizeof(peer);
    hal_dtls_t *c;
    BIO *bio;
    const char *host;

    if (p_options == NULL || p_options->p_host == NULL || p_options->p_host[0] == '\0') {
        HAL_Printf("HAL_DTLSSession_create: missing options or host\n");
        return NULL;
    }
    host = p_options->p_host;
    c = (hal_dtls_t *)calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    c->fd = -1;

    c->ctx = SSL_CTX_new(DTLS_client_method());
    if (c->ctx == NULL) {
        log_ssl_error("HAL_DTLSSession_create: SSL_CTX_new");
        goto fail;
    }
    if (SSL_CTX_set_min_proto_version(c->ctx, DTLS1_2_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(c->ctx, DTLS1_2_VERSION) != 1) {
        log_ssl_error("HAL_DTLSSession_create: DTLS 1.2 unavailable");
        goto fail;
    }
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    /* The MTU below is fixed: no IP_MTU_DISCOVER probing on the socket. */
    SSL_CTX_set_options(c->ctx, SSL_OP_NO_QUERY_MTU);
    if (load_trust(c->ctx, p_options->p_ca_cert_pem) != 0) {
        goto fail;
    }

    c->fd = connect_udp(host, p_options->port);
    if (c->fd < 0) {
        goto fail;
    }

    c->ssl = SSL_new(c->ctx);
    if (c->ssl == NULL) {
        log_ssl_error("HAL_DTLSSession_create: SSL_new");
        goto fail;
    }
    if (is_ip_literal(host)) {
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host) != 1) {
            log_ssl_error("HAL_DTLSSession_create: cannot check IP address");
            goto fail;
        }
    } else {
        SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (SSL_set1_host(c->ssl, host) != 1 || SSL_set_tlsext_host_name(c->ssl, host) != 1) {
            log_ssl_error("HAL_DTLSSession_create: cannot check host name");
            goto fail;
        }
    }

    bio = BIO_new_dgram(c->fd, BIO_NOCLOSE);
    if (bio == NULL) {
        log_ssl_error("HAL_DTLSSession_create: BIO_new_dgram");
        goto fail;
    }
    /* The socket is connect()ed; the BIO must then use send/recv, not
     * sendto/recvfrom with its own idea of the peer. */
    if (getpeername(c->fd, (struct sockaddr *)&peer, &peer_len) == 0) {
        (void)BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_CONNECTED, 0, &peer);
    }
    SSL_set_bio(c->ssl, bio, bio);
    if (SSL_set_mtu(c->ssl, HAL_DTLS_MTU) != 1) {
        /* Not fatal: OpenSSL falls back to its own default. */
        ERR_clear_error();
    }

    if (handshake(c, host, p_options->port) != 0) {
        goto fail;
    }
    ERR_clear_error();
    return (DTLSContext *)c;

fail:
    session_free(c);
    return NULL;
}

/* Maps an SSL_read/SSL_write failure that is not WANT_* to an ABI code. */
static unsigned int io_failure(hal_dtls_t *c, int err, const char *what)
{
    int saved = errno;

    switch (err) {
    case SSL_ERROR_ZERO_RETURN:
        ERR_clear_error();
        return DTLS_PEER_CLOSE_NOTIFY;
    case SSL_ERROR_SSL:
        c->broken = 1;
        log_ssl_error(what);
        return DTLS_FATAL_ALERT_MESSAGE;
    case SSL_ERROR_SYSCALL:
        ERR_clear_error();
        if (saved == ECONNREFUSED) {
            c->broken = 1;
            HAL_Printf("%s: %s\n", what, strerror(saved));
            return DTLS_FATAL_ALERT_MESSAGE;
        }
        /* DTLS over UDP has no stream to lose: a failed datagram does not
         * desynchronise the record layer, so the session stays usable. */
        return DTLS_READ_DATA_FAILED;
    default:
        ERR_clear_error();
        return DTLS_READ_DATA_FAILED;
    }
}

unsigned int HAL_DTLSSession_write(DTLSContext *context, const unsigned char *p_data,
                                   unsigned int *p_datalen)
{
    hal_dtls_t *c = (hal_dtls_t *)context;
    uint64_t deadline;
    unsigned int len;
    struct pollfd pfd;

    if (c == NULL || p_datalen == NULL || (p_data == NULL && *p_datalen != 0)) {
        if (p_datalen != NULL) {
            *p_datalen = 0;
        }
        return DTLS_INVALID_PARAM;
    }
    len = *p_datalen;
    *p_datalen = 0;
    if (len == 0) {
        return DTLS_SUCCESS;
    }
    if (len > INT_MAX) {
        return DTLS_INVALID_PARAM;
    }
    deadline = now_ms() + HAL_DTLS_WRITE_BLOCK_MS;
    for (;;) {
        int n;
        int err;
        int rc;

        ERR_clear_error();
        errno = 0;
        n = SSL_write(c->ssl, p_data, (int)len);
        if (n > 0) {
            *p_datalen = (unsigned int)n;
            return DTLS_SUCCESS;
        }
        err = SSL_get_error(c->ssl, n);
        if (err != SSL_ERROR_WANT_WRITE && err != SSL_ERROR_WANT_READ) {
            return io_failure(c, err, "HAL_DTLSSession_write");
        }
        /* Socket buffer full: wait a bounded time rather than fail at once. */
        pfd.fd = c->fd;
        pfd.events = err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
        pfd.revents = 0;
        if (ms_left(deadline) == 0) {
            return DTLS_READ_DATA_FAILED;
        }
        rc = poll(&pfd, 1, dtls_timer_cap(c->ssl, ms_left(deadline)));
        if (rc < 0 && errno != EINTR) {
            return DTLS_READ_DATA_FAILED;
        }
        if (rc == 0 && DTLSv1_handle_timeout(c->ssl) < 0) {
            return io_failure(c, SSL_ERROR_SSL, "HAL_DTLSSession_write");
        }
    }
}

/* A record larger than the caller's buffer: what did not fit is read and
 * thrown away (it must not pass for a datagram of its own), and its length
 * is added to the one reported, so the caller sees more than its buffer
 * holds and knows the datagram was cut short. */
static unsigned int discard_rest_of_record(SSL *ssl)
{
    unsigned char scrap[256];
    unsigned int discarded = 0;

    while (SSL_pending(ssl) > 0) {
        int n = SSL_read(ssl, scrap, (int)sizeof(scrap));

        if (n <= 0) {
            break;
        }
        discarded += (unsigned int)n;
    }
    return discarded;
}

unsigned int HAL_DTLSSession_read(DTLSContext *context, unsigned char *p_data,
                                  unsigned int *p_datalen, unsigned int timeout_ms)
{
    hal_dtls_t *c = (hal_dtls_t *)context;
    const uint64_t deadline = now_ms() + timeout_ms;
    unsigned int cap;
    struct pollfd pfd;

    if (p_datalen == NULL) {
        return DTLS_INVALID_PARAM;
    }
    cap = *p_datalen;
    *p_datalen = 0;
    if (c == NULL || p_data == NULL || cap == 0) {
        return DTLS_INVALID_PARAM;
    }
    if (cap > INT_MAX) {
        cap = INT_MAX;
    }
    pfd.fd = c->fd;
    pfd.events = POLLIN;

    for (;;) {
        int rc;
        int n;
        int err;

        /* A datagram may carry several records; OpenSSL keeps the rest
         * buffered, where poll() cannot see it. */
        if (!SSL_has_pending(c->ssl)) {
            int wait = ms_left(deadline);

            pfd.revents = 0;
            rc = poll(&pfd, 1, dtls_timer_cap(c->ssl, wait));
            if (rc < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return DTLS_READ_DATA_FAILED;
            }
            if (rc == 0) {
                if (DTLSv1_handle_timeout(c->ssl) < 0) {
                    return io_failure(c, SSL_ERROR_SSL, "HAL_DTLSSession_read");
                }
                if (ms_left(deadline) == 0) {
                    return DTLS_SUCCESS; /* timeout: *p_datalen is 0 */
                }
                continue;
            }
            if (pfd.revents & POLLERR) {
                int se = take_socket_error(c->fd);

                if (se == ECONNREFUSED) {
                    HAL_Printf("HAL_DTLSSession_read: %s\n", strerror(se));
                    return DTLS_FATAL_ALERT_MESSAGE;
                }
                if (se != 0) {
                    return DTLS_READ_DATA_FAILED;
                }
            }
        }

        ERR_clear_error();
        errno = 0;
        n = SSL_read(c->ssl, p_data, (int)cap);
        if (n > 0) {
            *p_datalen = (unsigned int)n + discard_rest_of_record(c->ssl);
            return DTLS_SUCCESS;
        }
        err = SSL_get_error(c->ssl, n);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
            /* The datagram held no application data (a dropped bad record,
             * a retransmitted handshake message): wait out the rest. */
            if (ms_left(deadline) == 0) {
                return DTLS_SUCCESS;
            }
            continue;
        }
        if (SSL_get_shutdown(c->ssl) & SSL_RECEIVED_SHUTDOWN) {
            ERR_clear_error();
            return DTLS_PEER_CLOSE_NOTIFY;
        }
        return io_failure(c, err, "HAL_DTLSSession_read");
    }
}

unsigned int HAL_DTLSSession_free(DTLSContext *context)
{
    if (context != NULL) {
        session_free((hal_dtls_t *)context);
    }
    return DTLS_SUCCESS;
}
