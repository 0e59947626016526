/* Heap high-water mark of the C library for a typical device session:
 * Init, auth, 10 CON uplinks of 64 bytes sent back to back (all in flight
 * at once), every answer received, Deinit. The library counts what it
 * allocates through HAL_Malloc; IOT_DumpMemoryStats prints it, and this
 * program prints those lines (the harness reads the peak from them).
 * Usage: ram_peak URL */
#include <stdio.h>
#include <string.h>

#include "test_device.h"

#define UPLINKS 10

static int answered;

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
    for (i = 0; i < UPLINKS; i++) {
        if (IOT_CoAP_SendMessage(ctx, TEST_TOPIC, &m) != IOTX_SUCCESS) {
            fprintf(stderr, "send %d failed\n", i);
            return 1;
        }
    }
    for (i = 0; i < 100 && answered < UPLINKS; i++) {
        IOT_CoAP_Yield(ctx);
    }
    printf("answered %d/%d\n", answered, UPLINKS);
    fflush(stdout);
    IOT_DumpMemoryStats(IOT_LOG_INFO);
    IOT_CoAP_Deinit(&ctx);
    IOT_DumpMemoryStats(IOT_LOG_INFO);
    return answered == UPLINKS ? 0 : 1;
}
