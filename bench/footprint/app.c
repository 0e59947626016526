/* A firmware-shaped application: the vendor sample's calls, nothing else.
 * Linked twice, with the library and with no-op stand-ins (baseline.c), so
 * the size difference is what the CoAP client costs. */
#include "iot_import.h"
#include "iot_export.h"

static void on_response(void *arg, void *msg)
{
    unsigned char *payload = 0;
    int len = 0;
    iotx_coap_resp_code_t code;
    (void)arg;
    IOT_CoAP_GetMessageCode(msg, &code);
    IOT_CoAP_GetMessagePayload(msg, &payload, &len);
}

int main(void)
{
    iotx_deviceinfo_t dev = {"a1TestPK001", "dev-001", "a1TestPK001.dev-001", "secret"};
    iotx_coap_config_t cfg = {0};
    iotx_message_t m = {0};
    iotx_coap_context_t *ctx;
    cfg.p_url = (char *)"coap-psk://10.0.0.1:5682";
    cfg.p_devinfo = (iotx_device_info_t *)&dev;
    IOT_SetLogLevel(IOT_LOG_WARNING);
    ctx = IOT_CoAP_Init(&cfg);
    if (ctx == 0) {
        return 1;
    }
    IOT_CoAP_DeviceNameAuth(ctx);
    m.p_payload = (unsigned char *)"{}";
    m.payload_len = 2;
    m.content_type = IOTX_CONTENT_TYPE_JSON;
    m.msg_type = IOTX_MESSAGE_CON;
    m.resp_callback = on_response;
    for (;;) {
        IOT_CoAP_SendMessage(ctx, (char *)"/topic/a1TestPK001/dev-001/update", &m);
        IOT_CoAP_Yield(ctx);
    }
}
