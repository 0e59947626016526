/* A URL whose scheme does not match the port it names: Init and auth must
 * fail with one error line that suggests the likely cause (the harness
 * checks the line). Usage: mismatch URL; prints "init failed" or
 * "auth rc=N". */
#include <stdio.h>
#include <string.h>

#include "test_device.h"

int main(int argc, char **argv)
{
    iotx_coap_context_t *ctx;

    if (argc != 2) {
        fprintf(stderr, "usage: %s URL\n", argv[0]);
        return 2;
    }
    IOT_SetLogLevel(IOT_LOG_ERROR);
    ctx = test_device_init(argv[1], 200, NULL);
    if (ctx == NULL) {
        printf("init failed\n");
        return 0;
    }
    printf("auth rc=%d\n", IOT_CoAP_DeviceNameAuth(ctx));
    IOT_CoAP_Deinit(&ctx);
    return 0;
}
