/* The platform layer (HAL_*) of every QEMU board here, as a firmware team
 * writes one for the vendor SDK: a fixed heap, the board's millisecond
 * clock and console, no-op mutexes (one thread), and UDP carried as SLIP
 * frames on the board's link UART to iotx-coap-relay on the host (no IP
 * stack on the device). The board layer (board.h) is all that differs. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "board.h"
#include "iot_import.h"

/* ---- heap: first-fit free list over a fixed arena ---------------------- */

#ifndef HEAP_ARENA_SIZE
#define HEAP_ARENA_SIZE (16u * 1024u)
#endif
#define BLOCK_ALIGN 8u
#define BLOCK_USED 0x55534544u /* "USED": catches double and foreign frees */

/* A block's header; the caller's bytes follow it. Free blocks are linked
 * in address order so neighbours merge on free. */
typedef struct block {
    uint32_t size; /* whole block, header included, multiple of 8 */
    union {
        struct block *next;
        uint32_t used_mark;
    } u;
} block_t;

static uint8_t g_arena[HEAP_ARENA_SIZE] __attribute__((section(".heap_arena"), aligned(8)));
static block_t *g_free_list;
static uint32_t g_heap_limit = HEAP_ARENA_SIZE;
static heap_stats_t g_heap;

static void heap_init_once(void)
{
    if (g_heap.arena_size != 0u) {
        return;
    }
    g_free_list = (block_t *)(void *)g_arena;
    g_free_list->size = HEAP_ARENA_SIZE;
    g_free_list->u.next = NULL;
    g_heap.arena_size = HEAP_ARENA_SIZE;
}

void heap_set_limit(uint32_t limit)
{
    g_heap_limit = (limit == 0u || limit > HEAP_ARENA_SIZE) ? HEAP_ARENA_SIZE : limit;
}

void heap_reset_peak(void)
{
    g_heap.peak_in_use = g_heap.in_use;
}

void heap_get_stats(heap_stats_t *out)
{
    heap_init_once();
    *out = g_heap;
}

void *HAL_Malloc(uint32_t size)
{
    block_t **link;
    uint32_t need;

    board_note_stack_depth();

    heap_init_once();
    if (size > HEAP_ARENA_SIZE) {
        g_heap.failed++;
        return NULL;
    }
    need = ((size + BLOCK_ALIGN - 1u) & ~(BLOCK_ALIGN - 1u)) + (uint32_t)sizeof(block_t);
    if (g_heap.in_use + need > g_heap_limit) {
        g_heap.failed++;
        return NULL;
    }
    for (link = &g_free_list; *link != NULL; link = &(*link)->u.next) {
        block_t *b = *link;
        uint32_t end;
        if (b->size < need) {
            continue;
        }
        if (b->size - need >= 2u * sizeof(block_t)) {
            block_t *rest = (block_t *)(void *)((uint8_t *)b + need);
            rest->size = b->size - need;
            rest->u.next = b->u.next;
            *link = rest;
            b->size = need;
        } else {
            *link = b->u.next;
        }
        b->u.used_mark = BLOCK_USED;
        g_heap.in_use += b->size;
        g_heap.live_blocks++;
        if (g_heap.in_use > g_heap.peak_in_use) {
            g_heap.peak_in_use = g_heap.in_use;
        }
        end = (uint32_t)((uint8_t *)b + b->size - g_arena);
        if (end > g_heap.extent_peak) {
            g_heap.extent_peak = end;
        }
        return b + 1;
    }
    g_heap.failed++;
    return NULL;
}

void HAL_Free(void *ptr)
{
    block_t *b;
    block_t *prev = NULL;
    block_t *next;

    if (ptr == NULL) {
        return;
    }
    b = (block_t *)ptr - 1;
    if ((uint8_t *)b < g_arena || (uint8_t *)b >= g_arena + HEAP_ARENA_SIZE ||
        b->u.used_mark != BLOCK_USED) {
        HAL_Printf("[hal] HAL_Free(%p): not a live block\r\n", ptr);
        return;
    }
    g_heap.in_use -= b->size;
    g_heap.live_blocks--;
    for (next = g_free_list; next != NULL && next < b; next = next->u.next) {
        prev = next;
    }
    b->u.next = next;
    if (next != NULL && (uint8_t *)b + b->size == (uint8_t *)next) {
        b->size += next->size;
        b->u.next = next->u.next;
    }
    if (prev == NULL) {
        g_free_list = b;
    } else if ((uint8_t *)prev + prev->size == (uint8_t *)b) {
        prev->size += b->size;
        prev->u.next = b->u.next;
    } else {
        prev->u.next = b;
    }
}

/* newlib's printf family links its malloc (for asprintf's growing
 * buffers), which asks for memory here. The boards have one heap, behind
 * HAL_Malloc; the C library gets none. */
void *_sbrk(ptrdiff_t increment);
void *_sbrk(ptrdiff_t increment)
{
    (void)increment;
    return (void *)-1;
}

/* ---- time, randomness, console, locks --------------------------------- */

uint64_t HAL_UptimeMs(void)
{
    return board_uptime_ms();
}

void HAL_SleepMs(uint32_t ms)
{
    uint64_t until = board_uptime_ms() + ms;
    while (board_uptime_ms() < until) {
        board_wait_for_interrupt();
    }
}

/* The boards have no entropy source, so HAL_Random is xorshift32 seeded
 * from a timer's low bits and the uptime at its first use (how long boot
 * and the link took). Good enough for CoAP message ids and tokens in a
 * test; a product uses its TRNG here. */
static uint32_t g_rand_state;

void HAL_Srandom(uint32_t seed)
{
    g_rand_state = seed != 0u ? seed : 0x9E3779B9u;
}

uint32_t HAL_Random(uint32_t region)
{
    uint32_t x;
    if (g_rand_state == 0u) {
        HAL_Srandom(board_entropy());
    }
    x = g_rand_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    g_rand_state = x;
    return region != 0u ? x % region : x;
}

int HAL_Vsnprintf(char *str, const int len, const char *format, va_list ap)
{
    return vsnprintf(str, (size_t)len, format, ap);
}

int HAL_Snprintf(char *str, const int len, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(str, (size_t)len, fmt, ap);
    va_end(ap);
    return n;
}

void HAL_Printf(const char *fmt, ...)
{
    static char line[256];
    va_list ap;
    int n;

    board_note_stack_depth();

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n > 0) {
        console_write(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1u);
    }
}

/* One thread: a lock has nothing to exclude, but must be a distinct,
 * non-NULL handle. */
static uint8_t g_mutexes;

void *HAL_MutexCreate(void)
{
    return &g_mutexes;
}

void HAL_MutexDestroy(void *mutex)
{
    (void)mutex;
}

void HAL_MutexLock(void *mutex)
{
    (void)mutex;
}

void HAL_MutexUnlock(void *mutex)
{
    (void)mutex;
}

/* ---- UDP over the serial link (SLIP, RFC 1055) ------------------------- */
/* Each frame starts with a kind byte (iotx-coap-relay's link format):
 * 0 = one datagram, 1 = open (port big endian, then host), 2 = close. */

#define SLIP_END 0xC0u
#define SLIP_ESC 0xDBu
#define SLIP_ESC_END 0xDCu
#define SLIP_ESC_ESC 0xDDu
#define LINK_DATAGRAM 0x00u
#define LINK_OPEN 0x01u
#define LINK_CLOSE 0x02u
#define LINK_SOCKET ((intptr_t)1)
/* How long a frame already begun may take to arrive after the caller's
 * timeout (the relay writes a frame at once, so this is generous). */
#define LINK_FRAME_GRACE_MS 200u

static int g_link_open;
/* Set when a frame was cut off: skip bytes until the next END. */
static int g_link_resync;

static void slip_put(uint8_t b)
{
    if (b == SLIP_END) {
        link_write_byte(SLIP_ESC);
        link_write_byte(SLIP_ESC_END);
    } else if (b == SLIP_ESC) {
        link_write_byte(SLIP_ESC);
        link_write_byte(SLIP_ESC_ESC);
    } else {
        link_write_byte(b);
    }
}

static void slip_send(uint8_t kind, const uint8_t *head, size_t head_len, const uint8_t *body,
                      size_t body_len)
{
    size_t i;
    link_write_byte(SLIP_END);
    slip_put(kind);
    for (i = 0; i < head_len; i++) {
        slip_put(head[i]);
    }
    for (i = 0; i < body_len; i++) {
        slip_put(body[i]);
    }
    link_write_byte(SLIP_END);
}

intptr_t HAL_UDP_create(char *host, unsigned short port)
{
    uint8_t port_be[2];

    if (host == NULL || g_link_open) {
        return (intptr_t)-1;
    }
    /* Whatever a previous session left on the line is stale now. */
    while (link_read_byte() >= 0) {
    }
    g_link_resync = 1;
    port_be[0] = (uint8_t)(port >> 8);
    port_be[1] = (uint8_t)port;
    slip_send(LINK_OPEN, port_be, sizeof(port_be), (const uint8_t *)host, strlen(host));
    g_link_open = 1;
    return LINK_SOCKET;
}

void HAL_UDP_close(intptr_t p_socket)
{
    if (p_socket != LINK_SOCKET || !g_link_open) {
        return;
    }
    slip_send(LINK_CLOSE, NULL, 0u, NULL, 0u);
    g_link_open = 0;
}

int HAL_UDP_write(intptr_t p_socket, const unsigned char *p_data, unsigned int datalen)
{
    board_note_stack_depth();
    if (p_socket != LINK_SOCKET || !g_link_open || (p_data == NULL && datalen != 0u)) {
        return -1;
    }
    slip_send(LINK_DATAGRAM, NULL, 0u, p_data, datalen);
    return (int)datalen;
}

/* Decodes frames straight into p_data (no frame buffer: RAM is the point
 * of this board). Bytes beyond datalen are dropped, as UDP truncates. */
int HAL_UDP_readTimeout(intptr_t p_socket, unsigned char *p_data, unsigned int datalen,
                        unsigned int timeout_ms)
{
    uint64_t deadline = board_uptime_ms() + timeout_ms;
    uint32_t count = 0u; /* frame bytes so far, kind byte included */
    int kind = -1;
    int escaped = 0;

    board_note_stack_depth();
    if (p_socket != LINK_SOCKET || !g_link_open || p_data == NULL) {
        return -1;
    }
    for (;;) {
        int c;
        while ((c = link_read_byte()) >= 0) {
            uint8_t b = (uint8_t)c;
            if (g_link_resync) {
                g_link_resync = b != SLIP_END;
                continue;
            }
            if (b == SLIP_END) {
                if (kind == LINK_DATAGRAM) {
                    uint32_t n = count - 1u;
                    return (int)(n < datalen ? n : datalen);
                }
                kind = -1; /* empty or unknown frame: ignore */
                count = 0u;
                continue;
            }
            if (b == SLIP_ESC) {
                escaped = 1;
                continue;
            }
            if (escaped) {
                escaped = 0;
                b = b == SLIP_ESC_END ? SLIP_END : b == SLIP_ESC_ESC ? SLIP_ESC : b;
            }
            if (count == 0u) {
                kind = b;
            } else if (kind == LINK_DATAGRAM && count - 1u < datalen) {
                p_data[count - 1u] = b;
            }
            count++;
        }
        if (board_uptime_ms() >= deadline) {
            if (count == 0u) {
                return -2;
            }
            if (board_uptime_ms() >= deadline + LINK_FRAME_GRACE_MS) {
                g_link_resync = 1;
                return -2;
            }
        }
        board_wait_for_interrupt();
    }
}

/* This board has no DTLS stack: coaps:// is refused at connect time. */
DTLSContext *HAL_DTLSSession_create(coap_dtls_options_t *p_options)
{
    (void)p_options;
    HAL_Printf("[hal] DTLS is not available on this board\r\n");
    return NULL;
}

unsigned int HAL_DTLSSession_write(DTLSContext *context, const unsigned char *p_data,
                                   unsigned int *p_datalen)
{
    (void)context;
    (void)p_data;
    (void)p_datalen;
    return DTLS_INVALID_PARAM;
}

unsigned int HAL_DTLSSession_read(DTLSContext *context, unsigned char *p_data,
                                  unsigned int *p_datalen, unsigned int timeout_ms)
{
    (void)context;
    (void)p_data;
    (void)p_datalen;
    (void)timeout_ms;
    return DTLS_INVALID_PARAM;
}

unsigned int HAL_DTLSSession_free(DTLSContext *context)
{
    (void)context;
    return DTLS_SUCCESS;
}
