/* One wake cycle of a battery device: Init, DeviceNameAuth, one 64-byte
 * CON uplink waiting for its answer, Deinit, exit. Run once per simulated
 * boot; with the session store the token survives in the KV store
 * (IOTX_KV_DIR for the reference HAL).
 *
 *   wake URL [DEVICE_NAME DEVICE_SECRET]
 * Prints the answer's code; exits 0 when it was 2.05. The device is the
 * emulator's test device unless another name and secret are given. */
#include <stdio.h>
#include <string.h>

#include "iot_import.h"
#include "iot_export.h"
#include "test_device.h"

/* resp_callback: keeps the answer's code in the int behind arg. */
static void keep_code(void *arg, void *msg)
{
    iotx_coap_resp_code_t code = IOTX_COAP_RESP_CODE_BAD_REQUEST;
    if (IOT_CoAP_GetMessageCode(msg, &code) == IOTX_SUCCESS) {
        *(int *)arg = (int)code;
    }
}

int main(int argc, char **argv)
{
    static unsigned char payload[64];
    static iotx_deviceinfo_t dev;
    char path[128];
    iotx_coap_config_t cfg;
    iotx_coap_context_t *ctx;
    iotx_message_t msg;
    int code = -1, rc, i;

    if (argc != 2 && argc != 4) {
        fprintf(stderr, "usage: %s URL [DEVICE_NAME DEVICE_SECRET]\n", argv[0]);
        return 2;
    }
    strcpy(dev.product_key, TEST_PK);
    strcpy(dev.device_name, TEST_DN);
    strcpy(dev.device_secret, TEST_DS);
    if (argc == 4) {
        snprintf(dev.device_name, sizeof(dev.device_name), "%s", argv[2]);
        snprintf(dev.device_secret, sizeof(dev.device_secret), "%s", argv[3]);
    }
    snprintf(dev.device_id, sizeof(dev.device_id), "%s.%s", dev.product_key, dev.device_name);
    snprintf(path, sizeof(path), "/topic/%s/%s/update", dev.product_key, dev.device_name);
    memset(&cfg, 0, sizeof(cfg));
    cfg.p_url = argv[1];
    cfg.wait_time_ms = 100;
    cfg.p_devinfo = (iotx_device_info_t *)&dev;
    ctx = IOT_CoAP_Init(&cfg);
    if (ctx == NULL) {
        fprintf(stderr, "IOT_CoAP_Init failed\n");
        return 1;
    }
    rc = IOT_CoAP_DeviceNameAuth(ctx);
    if (rc != IOTX_SUCCESS) {
        fprintf(stderr, "IOT_CoAP_DeviceNameAuth: %d\n", rc);
        IOT_CoAP_Deinit(&ctx);
        return 1;
    }
    memset(payload, 'x', sizeof(payload));
    memset(&msg, 0, sizeof(msg));
    msg.p_payload = payload;
    msg.payload_len = sizeof(payload);
    msg.content_type = IOTX_CONTENT_TYPE_JSON;
    msg.msg_type = IOTX_MESSAGE_CON;
    msg.resp_callback = keep_code;
    msg.user_data = &code;
    rc = IOT_CoAP_SendMessage(ctx, path, &msg);
    /* 100 ms a turn, 15 s at most: past the RFC 7252 retransmissions of
     * one CON message plus a re-authentication. */
    for (i = 0; rc == IOTX_SUCCESS && code < 0 && i < 150; i++) {
        IOT_CoAP_Yield(ctx);
    }
    IOT_CoAP_Deinit(&ctx);
    printf("send=%d code=0x%02x\n", rc, code < 0 ? 0 : code);
    return code == IOTX_COAP_RESP_CODE_CONTENT ? 0 : 1;
}
