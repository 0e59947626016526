/* event_handle through the C ABI, as firmware sees it:
 *   - AUTH_FAILED when the platform refuses the device (wrong secret);
 *   - RECV_FAILED and SEND_FAILED (with the message's user_data) once the
 *     platform has gone away after a successful exchange.
 * Usage: events URL  (the harness prints READY/GO on stdio to stop the
 * emulator between the two phases). */
#include <stdio.h>
#include <string.h>

#include "iot_import.h"
#include "iot_export.h"
#include "test_device.h"

static int auth_failed, recv_failed, send_failed, answered;
static void *send_failed_data;

static void on_event(void *ctx, iotx_coap_event_t event, void *p_data)
{
    (void)ctx;
    if (event == IOTX_COAP_EVENT_AUTH_FAILED) {
        auth_failed++;
    } else if (event == IOTX_COAP_EVENT_RECV_FAILED) {
        recv_failed++;
    } else if (event == IOTX_COAP_EVENT_SEND_FAILED) {
        send_failed++;
        send_failed_data = p_data;
    }
}

static void on_response(void *arg, void *msg)
{
    iotx_coap_resp_code_t code = 0;
    (void)arg;
    if (IOT_CoAP_GetMessageCode(msg, &code) == IOTX_SUCCESS && code == IOTX_COAP_RESP_CODE_CONTENT) {
        answered++;
    }
}

static iotx_coap_context_t *open_ctx(char *url, const char *secret)
{
    static iotx_deviceinfo_t dev;
    iotx_coap_config_t cfg;
    memset(&dev, 0, sizeof(dev));
    strcpy(dev.product_key, TEST_PK);
    strcpy(dev.device_name, TEST_DN);
    strcpy(dev.device_id, TEST_DEVICE_ID);
    strncpy(dev.device_secret, secret, sizeof(dev.device_secret) - 1);
    memset(&cfg, 0, sizeof(cfg));
    cfg.p_url = url;
    cfg.wait_time_ms = 200;
    cfg.p_devinfo = (iotx_device_info_t *)&dev;
    cfg.event_handle = on_event;
    return IOT_CoAP_Init(&cfg);
}

static int send_one(iotx_coap_context_t *ctx, void *user)
{
    iotx_message_t m;
    test_message(&m, (unsigned char *)"{\"e\":1}", 7, on_response, user);
    return IOT_CoAP_SendMessage(ctx, (char *)TEST_TOPIC, &m);
}

int main(int argc, char **argv)
{
    static int marker;
    iotx_coap_context_t *ctx;
    char line[16];
    int rc, turns;

    if (argc != 2) {
        fprintf(stderr, "usage: events URL\n");
        return 2;
    }
    /* Phase 1: refused device. */
    ctx = open_ctx(argv[1], "not-the-secret");
    if (ctx == NULL) {
        printf("FAIL: Init\n");
        return 1;
    }
    rc = IOT_CoAP_DeviceNameAuth(ctx);
    IOT_CoAP_Deinit(&ctx);
    if (rc != IOTX_ERR_AUTH_FAILED || auth_failed != 1) {
        printf("FAIL: wrong secret: rc %d, AUTH_FAILED events %d\n", rc, auth_failed);
        return 1;
    }
    printf("AUTH_FAILED ok\n");

    /* Phase 2: a working session, then the platform disappears. */
    ctx = open_ctx(argv[1], TEST_DS);
    if (ctx == NULL || IOT_CoAP_DeviceNameAuth(ctx) != IOTX_SUCCESS || send_one(ctx, NULL) != IOTX_SUCCESS) {
        printf("FAIL: good device\n");
        return 1;
    }
    for (turns = 0; answered == 0 && turns < 100; turns++) {
        IOT_CoAP_Yield(ctx);
    }
    if (answered != 1) {
        printf("FAIL: first uplink not answered\n");
        return 1;
    }
    printf("READY\n");
    fflush(stdout);
    if (fgets(line, sizeof(line), stdin) == NULL || strncmp(line, "GO", 2) != 0) {
        printf("FAIL: no GO from the harness\n");
        return 1;
    }
    if (send_one(ctx, &marker) != IOTX_SUCCESS) {
        printf("FAIL: send after the platform left\n");
        return 1;
    }
    /* RFC 7252: 4 retransmissions from a 2-3 s timeout, doubling: <= 93 s. */
    for (turns = 0; send_failed == 0 && turns < 1000; turns++) {
        IOT_CoAP_Yield(ctx);
    }
    IOT_CoAP_Deinit(&ctx);
    if (send_failed != 1 || send_failed_data != &marker) {
        printf("FAIL: SEND_FAILED events %d, user_data %s\n", send_failed,
               send_failed_data == &marker ? "right" : "wrong");
        return 1;
    }
    printf("SEND_FAILED ok (user_data is the message's)\n");
    if (recv_failed < 1) {
        printf("FAIL: no RECV_FAILED while the port was closed\n");
        return 1;
    }
    printf("RECV_FAILED ok (%d)\n", recv_failed);
    printf("events: all passed\n");
    return 0;
}
