/*
 * A device facing a server that answers falsely or tears the device down at
 * awkward moments (tests/hostile.rs plays the server on loopback).
 *
 * Usage: hostile URL SCENARIO
 *   answers        send 3 CON uplinks and Yield until each has its outcome;
 *                  the server mixes bad datagrams (truncated, a request code
 *                  in an ACK, a payload marker with no payload) before the
 *                  true answers.
 *   deinit-in-callback
 *                  the first response callback calls IOT_CoAP_Deinit while
 *                  the other answers are still queued.
 *   deinit-in-flight
 *                  IOT_CoAP_Deinit with 3 CON uplinks unanswered.
 *   deinit-in-event
 *                  the server refuses the auth; the AUTH_FAILED handler
 *                  calls IOT_CoAP_Deinit.
 *
 * Prints one line per outcome ("RESPONSE i code=0x45 len=N", "SEND_FAILED
 * i") and a summary line; the harness judges them. Exit 0 unless an API
 * call misbehaved.
 */
#include <stdio.h>
#include <string.h>

#include "iot_import.h"
#include "iot_export.h"

#include "test_device.h"

#define MESSAGES 3

static iotx_coap_context_t *g_ctx;
static int g_outcomes[MESSAGES];
static int g_ids[MESSAGES] = {0, 1, 2};
static int g_deinit_in_callback;
static int g_deinit_in_event;

static int message_index(void *user)
{
    int i;
    for (i = 0; i < MESSAGES; i++) {
        if (user == &g_ids[i]) {
            return i;
        }
    }
    return -1;
}

static void on_event(void *ctx, iotx_coap_event_t event, void *p_data)
{
    (void)ctx;
    if (event == IOTX_COAP_EVENT_SEND_FAILED) {
        int i = message_index(p_data);
        printf("SEND_FAILED %d\n", i);
        if (i >= 0) {
            g_outcomes[i]++;
        }
    } else if (event == IOTX_COAP_EVENT_AUTH_FAILED) {
        printf("AUTH_FAILED\n");
        if (g_deinit_in_event && g_ctx != NULL) {
            IOT_CoAP_Deinit(&g_ctx);
            printf("deinit in event: ctx %s\n", g_ctx == NULL ? "NULL" : "kept");
        }
    } else if (event == IOTX_COAP_EVENT_RECV_FAILED) {
        printf("RECV_FAILED\n");
    }
    fflush(stdout);
}

static void on_response(void *user, void *msg)
{
    iotx_coap_resp_code_t code = 0;
    unsigned char *payload = NULL;
    int len = -1;
    int i = message_index(user);

    if (IOT_CoAP_GetMessageCode(msg, &code) != IOTX_SUCCESS ||
        IOT_CoAP_GetMessagePayload(msg, &payload, &len) != IOTX_SUCCESS) {
        printf("BAD MESSAGE %d\n", i);
        return;
    }
    printf("RESPONSE %d code=0x%02x len=%d\n", i, (unsigned)code, len);
    if (i >= 0) {
        g_outcomes[i]++;
    }
    if (g_deinit_in_callback && g_ctx != NULL) {
        iotx_coap_context_t *was = g_ctx;
        IOT_CoAP_Deinit(&g_ctx);
        /* The context takes no calls from here on. */
        printf("deinit in callback: ctx %s, Yield after it: %d\n", g_ctx == NULL ? "NULL" : "kept",
               IOT_CoAP_Yield(g_ctx));
        (void)was;
    }
    fflush(stdout);
}

static int send_uplink(int i)
{
    iotx_message_t m;
    test_message(&m, (unsigned char *)"{\"h\":1}", 7, on_response, &g_ids[i]);
    return IOT_CoAP_SendMessage(g_ctx, (char *)TEST_TOPIC, &m);
}

static int all_settled(void)
{
    int i;
    for (i = 0; i < MESSAGES; i++) {
        if (g_outcomes[i] == 0) {
            return 0;
        }
    }
    return 1;
}

static int summary(void)
{
    int i, once = 1;
    for (i = 0; i < MESSAGES; i++) {
        if (g_outcomes[i] != 1) {
            once = 0;
        }
    }
    printf("outcomes: %d %d %d (%s)\n", g_outcomes[0], g_outcomes[1], g_outcomes[2],
           once ? "each exactly once" : "NOT each exactly once");
    return 0;
}

int main(int argc, char **argv)
{
    const char *scenario;
    int i, turns;

    if (argc != 3) {
        fprintf(stderr, "usage: hostile URL SCENARIO\n");
        return 2;
    }
    scenario = argv[2];
    g_deinit_in_callback = strcmp(scenario, "deinit-in-callback") == 0;
    g_deinit_in_event = strcmp(scenario, "deinit-in-event") == 0;
    IOT_SetLogLevel(IOT_LOG_DEBUG);

    g_ctx = test_device_init(argv[1], 300, on_event);
    if (g_ctx == NULL) {
        printf("init failed\n");
        return 1;
    }
    if (IOT_CoAP_DeviceNameAuth(g_ctx) != IOTX_SUCCESS) {
        printf("auth failed, ctx %s\n", g_ctx == NULL ? "NULL" : "kept");
        IOT_CoAP_Deinit(&g_ctx); /* a no-op when the handler did it */
        return 0;
    }
    for (i = 0; i < MESSAGES; i++) {
        if (send_uplink(i) != IOTX_SUCCESS) {
            printf("send %d failed\n", i);
            return 1;
        }
    }
    if (strcmp(scenario, "deinit-in-flight") == 0) {
        IOT_CoAP_Deinit(&g_ctx);
        printf("deinit: ctx %s\n", g_ctx == NULL ? "NULL" : "kept");
        return summary();
    }
    for (turns = 0; turns < 100 && g_ctx != NULL && !all_settled(); turns++) {
        IOT_CoAP_Yield(g_ctx);
    }
    IOT_CoAP_Deinit(&g_ctx);
    return summary();
}
