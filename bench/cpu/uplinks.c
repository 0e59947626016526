/* CPU per uplink: Init, auth, then N CON uplinks of 64 bytes, each sent
 * once its predecessor is answered, Deinit. bench/cpu.sh runs it under
 * callgrind for two values of N; the difference divided by the difference
 * in N is what one uplink costs the whole process (library, HAL, libc).
 * Usage: uplinks URL N */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tests/c/test_device.h"

static int answered;

int main(int argc, char **argv)
{
    iotx_message_t m;
    iotx_coap_context_t *ctx;
    unsigned char payload[64];
    int n, i, tries;

    if (argc != 3 || (n = atoi(argv[2])) <= 0) {
        fprintf(stderr, "usage: %s URL N\n", argv[0]);
        return 2;
    }
    IOT_SetLogLevel(IOT_LOG_WARNING);
    ctx = test_device_init(argv[1], 1000, NULL);
    if (ctx == NULL || IOT_CoAP_DeviceNameAuth(ctx) != IOTX_SUCCESS) {
        fprintf(stderr, "init/auth failed\n");
        return 1;
    }
    test_uplink(&m, payload, sizeof(payload), &answered);
    for (i = 0; i < n; i++) {
        if (IOT_CoAP_SendMessage(ctx, "/topic/a1TestPK001/dev-001/update", &m) != IOTX_SUCCESS) {
            fprintf(stderr, "send %d failed\n", i);
            return 1;
        }
        for (tries = 0; answered <= i && tries < 50; tries++) {
            IOT_CoAP_Yield(ctx);
        }
    }
    IOT_CoAP_Deinit(&ctx);
    printf("answered %d/%d\n", answered, n);
    return answered == n ? 0 : 1;
}
