/* End to end over the emulator's link model (bench/link.sh): N CON uplinks,
 * one at a time, through the C library with one timer setting.
 * Usage: e2e URL N rfc7252|static-15s|adaptive SCALE_PERMILLE
 * The timers are scaled with the link (SCALE_PERMILLE/1000), as the
 * emulator's --link PROFILE:SCALE scales the delays; the adaptive timer's
 * 1 s floor is not. Prints one line:
 *   e2e TIMER delivered=D send_failed=F mean_ms=M p95_ms=P */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iot_import.h"
#include "iot_export.h"
#include "iotx_coap_ext.h"

#include "test_device.h"

#define MAX_UPLINKS 1000

static int outcome; /* 0 waiting, 1 answered, 2 failed */

static void on_event(void *ctx, iotx_coap_event_t event, void *p_data)
{
    (void)ctx;
    (void)p_data;
    if (event == IOTX_COAP_EVENT_SEND_FAILED) {
        outcome = 2;
    }
}

static void on_response(void *arg, void *msg)
{
    (void)arg;
    (void)msg;
    outcome = 1;
}

static int cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    static uint64_t times[MAX_UPLINKS];
    iotx_coap_transmission_t t = IOTX_COAP_TRANSMISSION_RFC7252;
    iotx_coap_context_t *ctx;
    int n, i, delivered = 0, failed = 0;
    unsigned long scale;
    uint64_t sum = 0;
    char path[] = TEST_TOPIC;
    unsigned char payload[] = "{\"t\":21}";

    if (argc != 5 || (n = atoi(argv[2])) <= 0 || n > MAX_UPLINKS) {
        fprintf(stderr, "usage: %s URL N rfc7252|static-15s|adaptive SCALE_PERMILLE\n", argv[0]);
        return 2;
    }
    scale = strtoul(argv[4], NULL, 10);
    if (strcmp(argv[3], "static-15s") == 0) {
        t.ack_timeout_ms = 15000;
    } else if (strcmp(argv[3], "adaptive") == 0) {
        t.adaptive = 1;
    } else if (strcmp(argv[3], "rfc7252") != 0) {
        return 2;
    }
    t.ack_timeout_ms = (uint32_t)(t.ack_timeout_ms * scale / 1000);
    IOT_SetLogLevel(IOT_LOG_ERROR);
    ctx = test_device_init(argv[1], 20, on_event);
    if (ctx == NULL || IOT_CoAP_SetTransmission(ctx, &t) != IOTX_SUCCESS) {
        fprintf(stderr, "init failed\n");
        return 1;
    }
    while (IOT_CoAP_DeviceNameAuth(ctx) != IOTX_SUCCESS) {
    }
    for (i = 0; i < n; i++) {
        iotx_message_t m;
        uint64_t started = HAL_UptimeMs();
        test_message(&m, payload, (unsigned short)strlen((char *)payload), on_response, NULL);
        outcome = 0;
        if (IOT_CoAP_SendMessage(ctx, path, &m) != IOTX_SUCCESS) {
            failed++;
            continue;
        }
        while (outcome == 0) {
            IOT_CoAP_Yield(ctx);
        }
        if (outcome == 1) {
            times[delivered++] = HAL_UptimeMs() - started;
        } else {
            failed++;
        }
    }
    IOT_CoAP_Deinit(&ctx);
    for (i = 0; i < delivered; i++) {
        sum += times[i];
    }
    qsort(times, (size_t)delivered, sizeof(times[0]), cmp);
    printf("e2e %s delivered=%d send_failed=%d mean_ms=%lu p95_ms=%lu\n", argv[3], delivered, failed,
           (unsigned long)(delivered ? sum / (uint64_t)delivered : 0),
           (unsigned long)(delivered ? times[(delivered * 95 + 99) / 100 - 1] : 0));
    return 0;
}
