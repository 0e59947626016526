/*
 * udpgen: an independent CoAP-over-UDP load generator for comparing
 * iotx-coap-sim with libcoap's coap-server-notls. It shares no code with
 * the project (no library session, no coap-lite): the requests are bytes
 * built here by hand, so neither server is measured by a client that agrees
 * with it by construction.
 *
 *   udpgen -p PORT [-a ADDR] [-c CLIENTS] [-s SECONDS] [-r RATE]
 *          [-u PATH] [-A AUTH_JSON] [-T TOKEN] [-q]
 *
 * Every client is its own UDP socket (its own peer for the server). Closed
 * loop (default): each client keeps one CON outstanding and sends the next
 * as soon as the answer comes. Open loop (-r RATE): requests leave at RATE
 * per second in total, round-robin over the clients, whatever is still
 * unanswered; latency is counted from the scheduled send time, so a server
 * that falls behind shows it in p99 instead of slowing the generator down.
 *
 * Each request: CON POST, 4-byte token, Uri-Path segments of PATH,
 * Content-Format 50, Accept 50, option 2088 = the auth token when there is
 * one, a 19-byte JSON payload. With -A every client first POSTs AUTH_JSON
 * to /auth and uses the "token" of the answer (the emulator's uplinks must
 * carry a token it issued); -T gives a fixed token instead.
 *
 * Prints one line: rate, p50, p99, and the response codes seen. Exits 1
 * when an answer was not 2.xx or none came.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 1024
#define SLOTS 4096 /* outstanding requests remembered per client (open loop) */
#define RETRY_NS 1000000000LL

static const char PAYLOAD[] = "{\"n\":1,\"temp\":21.5}";

struct client {
    int fd;
    uint16_t mid;
    uint32_t tok;                 /* the 4-byte CoAP token's counter */
    int64_t sent_at[SLOTS];       /* by mid % SLOTS; 0 = free */
    uint16_t slot_mid[SLOTS];
    int outstanding;
    unsigned char req[512];       /* the request, mid and token patched */
    size_t req_len;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

/* Appends one option (number `num`, after `*last`) to `p`. */
static unsigned char *put_option(unsigned char *p, unsigned *last, unsigned num,
                                 const void *val, size_t len)
{
    unsigned delta = num - *last;
    unsigned char *head = p++;
    unsigned dn, ln;
    *last = num;
    if (delta < 13) {
        dn = delta;
    } else if (delta < 269) {
        dn = 13;
        *p++ = (unsigned char)(delta - 13);
    } else {
        dn = 14;
        *p++ = (unsigned char)((delta - 269) >> 8);
        *p++ = (unsigned char)(delta - 269);
    }
    if (len < 13) {
        ln = (unsigned)len;
    } else if (len < 269) {
        ln = 13;
        *p++ = (unsigned char)(len - 13);
    } else {
        ln = 14;
        *p++ = (unsigned char)((len - 269) >> 8);
        *p++ = (unsigned char)(len - 269);
    }
    *head = (unsigned char)(dn << 4 | ln);
    memcpy(p, val, len);
    return p + len;
}

/* A CON POST of `body` to `path` (with option 2088 = `auth` when given). */
static size_t build(unsigned char *buf, const char *path, const char *auth,
                    const char *body)
{
    unsigned char *p = buf;
    unsigned last = 0;
    const unsigned char json = 50;
    *p++ = 0x44; /* version 1, CON, token length 4 */
    *p++ = 0x02; /* POST */
    p += 2;      /* message id */
    p += 4;      /* token */
    for (const char *s = path; *s;) {
        const char *e;
        while (*s == '/')
            s++;
        if (!*s)
            break;
        e = strchr(s, '/');
        if (!e)
            e = s + strlen(s);
        p = put_option(p, &last, 11, s, (size_t)(e - s));
        s = e;
    }
    p = put_option(p, &last, 12, &json, 1);
    p = put_option(p, &last, 17, &json, 1);
    if (auth)
        p = put_option(p, &last, 2088, auth, strlen(auth));
    *p++ = 0xff;
    memcpy(p, body, strlen(body));
    return (size_t)(p - buf) + strlen(body);
}

static void stamp(struct client *c)
{
    c->mid++;
    c->tok++;
    c->req[2] = (unsigned char)(c->mid >> 8);
    c->req[3] = (unsigned char)c->mid;
    memcpy(c->req + 4, &c->tok, 4);
}

static void send_req(struct client *c, int64_t at)
{
    unsigned s;
    stamp(c);
    s = c->mid % SLOTS;
    if (c->sent_at[s])
        c->outstanding--; /* overwritten: counted as lost at the end */
    c->sent_at[s] = at;
    c->slot_mid[s] = c->mid;
    c->outstanding++;
    if (send(c->fd, c->req, c->req_len, 0) < 0 && errno != EAGAIN && errno != ECONNREFUSED)
        die("send");
}

/* The payload of a CoAP message (after the 0xff marker), or NULL. */
static const unsigned char *payload_of(const unsigned char *m, ssize_t n, ssize_t *plen)
{
    ssize_t i = 4 + (m[0] & 15);
    while (i < n && m[i] != 0xff) {
        unsigned d = m[i] >> 4, l = m[i] & 15;
        i++;
        if (d == 13)
            i += 1;
        else if (d == 14)
            i += 2;
        if (l == 13)
            l = 13 + m[i++];
        else if (l == 14) {
            l = 269 + (m[i] << 8 | m[i + 1]);
            i += 2;
        }
        i += l;
    }
    if (i >= n)
        return NULL;
    *plen = n - i - 1;
    return m + i + 1;
}

/* POSTs `auth_json` to /auth on `fd` and copies the answer's token. */
static void authenticate(int fd, const char *auth_json, char *token, size_t cap)
{
    unsigned char req[512], resp[1500];
    size_t len = build(req, "/auth", NULL, auth_json);
    for (int attempt = 0; attempt < 20; attempt++) {
        int64_t until = now_ns() + 200000000LL;
        req[2] = 0x7a;
        req[3] = (unsigned char)attempt;
        if (send(fd, req, len, 0) < 0)
            die("send /auth");
        while (now_ns() < until) {
            ssize_t n = recv(fd, resp, sizeof resp - 1, MSG_DONTWAIT), plen;
            const unsigned char *pl;
            const char *t, *e;
            if (n < 4) {
                usleep(1000);
                continue;
            }
            if (resp[3] != (unsigned char)attempt)
                continue;
            if (resp[1] != 0x45) {
                fprintf(stderr, "udpgen: /auth answered %d.%02d\n", resp[1] >> 5, resp[1] & 31);
                exit(1);
            }
            pl = payload_of(resp, n, &plen);
            if (!pl)
                break;
            resp[n] = 0;
            t = strstr((const char *)pl, "\"token\":\"");
            if (!t)
                break;
            t += 9;
            e = strchr(t, '"');
            if (!e || (size_t)(e - t) >= cap)
                break;
            memcpy(token, t, (size_t)(e - t));
            token[e - t] = 0;
            return;
        }
    }
    fprintf(stderr, "udpgen: no token from /auth\n");
    exit(1);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *addr = "127.0.0.1", *path = "/foo", *auth_json = NULL, *fixed_token = NULL;
    int port = 0, nclients = 16, opt, quiet = 0;
    double seconds = 3, rate = 0;
    static struct client clients[MAX_CLIENTS];
    struct sockaddr_in sa;
    int ep;
    uint32_t *lat;
    size_t nlat = 0, cap_lat = 1 << 20;
    uint64_t codes[256] = {0}, sent = 0, stale = 0;
    int64_t t0, end, next_at, period = 0;
    int rr = 0;

    while ((opt = getopt(argc, argv, "a:p:c:s:r:u:A:T:q")) != -1) {
        switch (opt) {
        case 'a': addr = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'c': nclients = atoi(optarg); break;
        case 's': seconds = atof(optarg); break;
        case 'r': rate = atof(optarg); break;
        case 'u': path = optarg; break;
        case 'A': auth_json = optarg; break;
        case 'T': fixed_token = optarg; break;
        case 'q': quiet = 1; break;
        default:
            fprintf(stderr, "usage: udpgen -p PORT [-a ADDR] [-c CLIENTS] [-s SECONDS] "
                            "[-r RATE] [-u PATH] [-A AUTH_JSON] [-T TOKEN] [-q]\n");
            return 2;
        }
    }
    if (port <= 0 || nclients < 1 || nclients > MAX_CLIENTS || seconds <= 0) {
        fprintf(stderr, "udpgen: bad arguments (see the usage in the source)\n");
        return 2;
    }
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        fprintf(stderr, "udpgen: bad address %s\n", addr);
        return 2;
    }
    ep = epoll_create1(0);
    if (ep < 0)
        die("epoll_create1");
    for (int i = 0; i < nclients; i++) {
        struct client *c = &clients[i];
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        char token[128];
        const char *tok = fixed_token;
        c->fd = socket(AF_INET, SOCK_DGRAM, 0);
        if (c->fd < 0)
            die("socket");
        if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0)
            die("connect");
        if (auth_json) {
            authenticate(c->fd, auth_json, token, sizeof token);
            tok = token;
        }
        c->req_len = build(c->req, path, tok, PAYLOAD);
        c->mid = (uint16_t)(i * 7919);
        c->tok = (uint32_t)i << 20;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
            die("epoll_ctl");
    }
    lat = malloc(cap_lat * sizeof *lat);
    if (!lat)
        die("malloc");

    t0 = now_ns();
    end = t0 + (int64_t)(seconds * 1e9);
    next_at = t0;
    if (rate > 0)
        period = (int64_t)(1e9 / rate);
    else
        for (int i = 0; i < nclients; i++, sent++)
            send_req(&clients[i], t0);

    for (;;) {
        struct epoll_event evs[64];
        int64_t now = now_ns(), wait_ms = 1;
        int n;
        if (now >= end)
            break;
        if (rate > 0) {
            /* Everything due by now leaves now, stamped with its due time. */
            while (next_at <= now) {
                send_req(&clients[rr], next_at);
                rr = (rr + 1) % nclients;
                next_at += period;
                sent++;
            }
            /* At least 1 ms: a generator spinning for sub-ms precision
             * would take a core from the server it measures. */
            wait_ms = (next_at - now) / 1000000;
            if (wait_ms < 1)
                wait_ms = 1;
        } else {
            /* A lost datagram would stall its client: resend after 1 s. */
            static int64_t last_check;
            if (now - last_check > 100000000LL) {
                last_check = now;
                for (int i = 0; i < nclients; i++) {
                    struct client *c = &clients[i];
                    unsigned s = c->mid % SLOTS;
                    if (c->sent_at[s] && now - c->sent_at[s] > RETRY_NS) {
                        c->sent_at[s] = 0;
                        c->outstanding--;
                        stale++;
                        send_req(c, now);
                        sent++;
                    }
                }
            }
        }
        n = epoll_wait(ep, evs, 64, (int)wait_ms);
        now = now_ns();
        for (int k = 0; k < n; k++) {
            struct client *c = &clients[evs[k].data.u32];
            unsigned char resp[1500];
            ssize_t got;
            while ((got = recv(c->fd, resp, sizeof resp, MSG_DONTWAIT)) >= 4) {
                uint16_t mid = (uint16_t)(resp[2] << 8 | resp[3]);
                unsigned s = mid % SLOTS;
                if (!c->sent_at[s] || c->slot_mid[s] != mid)
                    continue; /* a late answer to a request given up */
                if (nlat == cap_lat) {
                    cap_lat *= 2;
                    lat = realloc(lat, cap_lat * sizeof *lat);
                    if (!lat)
                        die("realloc");
                }
                lat[nlat++] = (uint32_t)((now - c->sent_at[s]) / 1000);
                c->sent_at[s] = 0;
                c->outstanding--;
                codes[resp[1]]++;
                if (rate <= 0 && now < end) {
                    send_req(c, now);
                    sent++;
                }
            }
        }
    }
    {
        double secs = (double)(now_ns() - t0) / 1e9;
        uint32_t p50 = 0, p99 = 0;
        uint64_t ok = 0, other = 0;
        if (nlat) {
            qsort(lat, nlat, sizeof *lat, cmp_u32);
            p50 = lat[nlat / 2];
            p99 = lat[(size_t)((double)nlat * 0.99)];
        }
        printf("udpgen %s clients=%d%s rate=%.0f/s p50=%.3fms p99=%.3fms answered=%zu sent=%llu",
               rate > 0 ? "open" : "closed", nclients,
               rate > 0 ? "" : " in-flight=1", (double)nlat / secs, p50 / 1000.0,
               p99 / 1000.0, nlat, (unsigned long long)sent);
        if (rate > 0)
            printf(" offered=%.0f/s", rate);
        printf(" codes:");
        for (int i = 0; i < 256; i++) {
            if (!codes[i])
                continue;
            printf(" %d.%02d=%llu", i >> 5, i & 31, (unsigned long long)codes[i]);
            if ((i >> 5) == 2)
                ok += codes[i];
            else
                other += codes[i];
        }
        printf(" resent=%llu\n", (unsigned long long)stale);
        if (!quiet && other)
            fprintf(stderr, "udpgen: %llu answers were not 2.xx\n", (unsigned long long)other);
        /* A run that measured refusals, or nothing, is no measurement. */
        return other || !ok ? 1 : 0;
    }
}
