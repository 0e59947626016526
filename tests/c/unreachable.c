/* A URL whose port nobody listens on: IOT_CoAP_DeviceNameAuth must fail
 * with IOTX_ERR_AUTH_FAILED within 5 s (not after the whole retransmission
 * schedule) and event_handle must see RECV_FAILED exactly once.
 * Usage: unreachable URL; prints "recv_failed=N elapsed_ms=M" and exits 0
 * when those hold. */
#include <stdio.h>
#include <string.h>

#include "test_device.h"

static int recv_failed, auth_failed;

static void on_event(void *ctx, iotx_coap_event_t event, void *p_data)
{
    (void)ctx;
    (void)p_data;
    if (event == IOTX_COAP_EVENT_RECV_FAILED) {
        recv_failed++;
    } else if (event == IOTX_COAP_EVENT_AUTH_FAILED) {
        auth_failed++;
    }
}

int main(int argc, char **argv)
{
    iotx_coap_context_t *ctx;
    uint64_t started, elapsed;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: %s URL\n", argv[0]);
        return 2;
    }
    IOT_SetLogLevel(IOT_LOG_ERROR);
    ctx = test_device_init(argv[1], 200, on_event);
    if (ctx == NULL) {
        fprintf(stderr, "init failed\n");
        return 1;
    }
    started = HAL_UptimeMs();
    rc = IOT_CoAP_DeviceNameAuth(ctx);
    elapsed = HAL_UptimeMs() - started;
    printf("rc=%d recv_failed=%d auth_failed=%d elapsed_ms=%lu\n", rc, recv_failed, auth_failed,
           (unsigned long)elapsed);
    IOT_CoAP_Deinit(&ctx);
    return rc == IOTX_ERR_AUTH_FAILED && recv_failed == 1 && auth_failed == 1 && elapsed <= 5000 ? 0 : 1;
}
