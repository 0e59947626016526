/* Heap allocations per steady-state uplink: after auth and a warm-up, 100
 * CON uplinks of 64 bytes, each sent and answered (piggybacked 2.05)
 * before the next. IOT_DumpMemoryStats prints the library's own HAL_Malloc
 * counters before and after, and once more right after (what the dump
 * itself allocates, for its log line); the harness (tests/ram.rs) takes
 * the difference. Usage: allocs URL */
#include <stdio.h>

#include "test_device.h"

#define WARM_UP 5
#define UPLINKS 100

static int answered;

static int one_uplink(iotx_coap_context_t *ctx, iotx_message_t *m)
{
    int before = answered;
    int i;

    if (IOT_CoAP_SendMessage(ctx, TEST_TOPIC, m) != IOTX_SUCCESS) {
        return -1;
    }
    for (i = 0; i < 50 && answered == before; i++) {
        IOT_CoAP_Yield(ctx);
    }
    return answered == before + 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
    iotx_message_t m;
    iotx_coap_context_t *ctx;
    unsigned char payload[64];
    int i;

    if (argc != 2) {
        fprintf(stderr, "usage: %s URL\n", argv[0]);
        return 2;
    }
    IOT_SetLogLevel(IOT_LOG_INFO);
    ctx = test_device_init(argv[1], 100, NULL);
    if (ctx == NULL || IOT_CoAP_DeviceNameAuth(ctx) != IOTX_SUCCESS) {
        fprintf(stderr, "init/auth failed\n");
        return 1;
    }
    test_uplink(&m, payload, sizeof(payload), &answered);
    for (i = 0; i < WARM_UP; i++) {
        if (one_uplink(ctx, &m) != 0) {
            fprintf(stderr, "warm-up uplink %d unanswered\n", i);
            return 1;
        }
    }
    fflush(stdout);
    IOT_DumpMemoryStats(IOT_LOG_INFO);
    for (i = 0; i < UPLINKS; i++) {
        if (one_uplink(ctx, &m) != 0) {
            fprintf(stderr, "uplink %d unanswered\n", i);
            return 1;
        }
    }
    fflush(stdout);
    IOT_DumpMemoryStats(IOT_LOG_INFO);
    /* Once more at once: what a dump itself allocates (its log line). */
    IOT_DumpMemoryStats(IOT_LOG_INFO);
    printf("uplinks %d\n", UPLINKS);
    IOT_CoAP_Deinit(&ctx);
    return 0;
}
