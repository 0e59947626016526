/*
 * A coaps:// device through a server outage (tests/e2e/dtls_e2e.sh kills
 * the emulator and restarts it on the same port while this runs).
 *
 * Usage: dtls_outage URL SECONDS
 * Sends one CON uplink a second and Yields (100 ms) in between, for
 * SECONDS; then Yields until every uplink has its outcome (at most 60 s
 * more). Prints "t=MS EVENT" for each event and, at the end,
 * "summary: sent=N answered=N send_failed=N recv_failed=N". With stdout
 * line-buffered, the harness timestamps the library's log lines too (a
 * failed attempt at a new session is logged at warning level).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iot_import.h"
#include "iot_export.h"

#include "test_device.h"

static int g_sent, g_answered, g_send_failed, g_recv_failed;

static void on_event(void *ctx, iotx_coap_event_t event, void *p_data)
{
    (void)ctx;
    (void)p_data;
    if (event == IOTX_COAP_EVENT_RECV_FAILED) {
        g_recv_failed++;
        printf("t=%llu RECV_FAILED\n", (unsigned long long)HAL_UptimeMs());
    } else if (event == IOTX_COAP_EVENT_SEND_FAILED) {
        g_send_failed++;
        printf("t=%llu SEND_FAILED\n", (unsigned long long)HAL_UptimeMs());
    } else if (event == IOTX_COAP_EVENT_AUTH_FAILED) {
        printf("t=%llu AUTH_FAILED\n", (unsigned long long)HAL_UptimeMs());
    }
}

int main(int argc, char **argv)
{
    iotx_coap_context_t *ctx;
    iotx_message_t m;
    unsigned char payload[16];
    uint64_t start, end, next_send;

    if (argc != 3) {
        fprintf(stderr, "usage: dtls_outage URL SECONDS\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    IOT_SetLogLevel(IOT_LOG_WARNING);
    ctx = test_device_init(argv[1], 100, on_event);
    if (ctx == NULL || IOT_CoAP_DeviceNameAuth(ctx) != IOTX_SUCCESS) {
        printf("init or auth failed\n");
        return 1;
    }
    start = HAL_UptimeMs();
    end = start + 1000 * (uint64_t)atoi(argv[2]);
    next_send = start;
    while (HAL_UptimeMs() < end) {
        if (HAL_UptimeMs() >= next_send) {
            test_uplink(&m, payload, sizeof(payload), &g_answered);
            if (IOT_CoAP_SendMessage(ctx, (char *)TEST_TOPIC, &m) == IOTX_SUCCESS) {
                g_sent++;
            } else {
                printf("t=%llu send refused\n", (unsigned long long)HAL_UptimeMs());
            }
            next_send += 1000;
        }
        IOT_CoAP_Yield(ctx);
    }
    end = HAL_UptimeMs() + 60000;
    while (g_answered + g_send_failed < g_sent && HAL_UptimeMs() < end) {
        IOT_CoAP_Yield(ctx);
    }
    IOT_CoAP_Deinit(&ctx);
    printf("summary: sent=%d answered=%d send_failed=%d recv_failed=%d\n", g_sent, g_answered, g_send_failed,
           g_recv_failed);
    return 0;
}
