/* Lossy-network soak through the C ABI (driven by scripts/soak.sh).
 *
 *   soak URL N OUTCOMES_FILE
 *
 * Sends N CON uplinks (payload "soak-<i>", at most WINDOW in flight) to the
 * test device's endpoint at URL, Yields until every one has an outcome (or
 * a generous deadline passes), and writes one line per message to
 * OUTCOMES_FILE: "<i> <answers> <send_failed> <code>". Prints the counts;
 * exits 1 when the delivery contract is broken here (a message with 0 or
 * 2+ outcomes, an outcome for a message never sent), 2 when it cannot even
 * start (Init or auth failed). The script checks the emulator's side. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iot_import.h"
#include "iot_export.h"
#include "../c/test_device.h"

#define WINDOW 32
/* RFC 7252 worst case for one CON with the defaults (ACK_TIMEOUT 2 s,
 * random factor 1.5, 4 retransmissions) is 93 s; leave room for an auth. */
#define DRAIN_MS 150000

struct slot {
    int answers;
    int send_failed;
    int code;
};

static struct slot *g_slots;
static int g_n;
static int g_sent;
static int g_unknown;

static int done(const struct slot *s)
{
    return s->answers + s->send_failed > 0;
}

static struct slot *slot_of(void *p)
{
    struct slot *s = p;
    if (s < g_slots || s >= g_slots + g_sent) {
        g_unknown++;
        return NULL;
    }
    return s;
}

static void on_response(void *arg, void *msg)
{
    struct slot *s = slot_of(arg);
    iotx_coap_resp_code_t code = 0;
    if (s == NULL) {
        return;
    }
    (void)IOT_CoAP_GetMessageCode(msg, &code);
    s->answers++;
    s->code = (int)code;
}

static void on_event(void *ctx, iotx_coap_event_t event, void *data)
{
    struct slot *s;
    (void)ctx;
    if (event != IOTX_COAP_EVENT_SEND_FAILED) {
        return;
    }
    s = slot_of(data);
    if (s != NULL) {
        s->send_failed++;
    }
}

static int in_flight(void)
{
    int i, n = 0;
    for (i = 0; i < g_sent; i++) {
        n += !done(&g_slots[i]);
    }
    return n;
}

int main(int argc, char **argv)
{
    iotx_coap_context_t *ctx;
    char path[128];
    char payload[32];
    iotx_message_t m;
    uint64_t start;
    int answered = 0, failed = 0, dup = 0, missing = 0, i, rc = -1;
    FILE *out;

    if (argc != 4) {
        fprintf(stderr, "usage: %s URL N OUTCOMES_FILE\n", argv[0]);
        return 2;
    }
    g_n = atoi(argv[2]);
    g_slots = calloc((size_t)(g_n > 0 ? g_n : 1), sizeof(*g_slots));
    ctx = test_device_init(argv[1], 200, on_event);
    if (ctx == NULL) {
        fprintf(stderr, "soak: IOT_CoAP_Init failed for %s\n", argv[1]);
        return 2;
    }
    /* The auth itself crosses the lossy link: retry a few times. */
    for (i = 0; i < 5 && (rc = IOT_CoAP_DeviceNameAuth(ctx)) != IOTX_SUCCESS; i++) {
        fprintf(stderr, "soak: auth attempt %d failed (%d)\n", i + 1, rc);
    }
    if (rc != IOTX_SUCCESS) {
        IOT_CoAP_Deinit(&ctx);
        return 2;
    }
    snprintf(path, sizeof(path), TEST_TOPIC);
    while (g_sent < g_n) {
        if (in_flight() >= WINDOW) {
            (void)IOT_CoAP_Yield(ctx);
            continue;
        }
        snprintf(payload, sizeof(payload), "soak-%d", g_sent);
        memset(&m, 0, sizeof(m));
        m.p_payload = (unsigned char *)payload;
        m.payload_len = (unsigned short)strlen(payload);
        m.content_type = IOTX_CONTENT_TYPE_JSON;
        m.msg_type = IOTX_MESSAGE_CON;
        m.user_data = &g_slots[g_sent];
        m.resp_callback = on_response;
        g_sent++;
        rc = IOT_CoAP_SendMessage(ctx, path, &m);
        if (rc != IOTX_SUCCESS) {
            /* Not sent: no outcome is owed. Try again later. */
            g_sent--;
            fprintf(stderr, "soak: SendMessage %d returned %d\n", g_sent, rc);
            (void)IOT_CoAP_Yield(ctx);
        }
    }
    start = HAL_UptimeMs();
    while (in_flight() > 0 && HAL_UptimeMs() - start < DRAIN_MS) {
        (void)IOT_CoAP_Yield(ctx);
    }
    /* Anything late would still be counted: one more quiet turn. */
    (void)IOT_CoAP_Yield(ctx);
    IOT_CoAP_Deinit(&ctx);

    out = fopen(argv[3], "w");
    if (out == NULL) {
        perror(argv[3]);
        return 2;
    }
    for (i = 0; i < g_sent; i++) {
        const struct slot *s = &g_slots[i];
        int outcomes = s->answers + s->send_failed;
        fprintf(out, "%d %d %d %d\n", i, s->answers, s->send_failed, s->code);
        answered += s->answers == 1 && s->send_failed == 0;
        failed += s->send_failed == 1 && s->answers == 0;
        dup += outcomes > 1;
        missing += outcomes == 0;
    }
    fclose(out);
    printf("sent=%d answered=%d send_failed=%d duplicates=%d missing=%d unknown=%d\n", g_sent, answered, failed, dup,
           missing, g_unknown);
    free(g_slots);
    return (dup || missing || g_unknown || answered + failed != g_n) ? 1 : 0;
}
