/*
 * The v2 object of the mixed-link test (see mixed.h). Compiled against its
 * own header set only.
 */
#include "iot_import.h"
#include "iot_export.h"
#include "mixed.h"

#include <stdio.h>
#include <string.h>

static int g_answered;
static unsigned int g_token;
static char g_url[256];

static void on_response(void *arg, void *p_message)
{
    iotx_coap_resp_code_t code = IOTX_COAP_RESP_CODE_BAD_REQUEST;

    (void)arg;
    if (IOT_CoAP_GetMessageCode(p_message, &code) != IOTX_SUCCESS
        || code != IOTX_COAP_RESP_CODE_CONTENT) {
        printf("[v2] response code 0x%x\n", (unsigned int)code);
        return;
    }
    {
        unsigned int token = 0;

        if (IOT_CoAP_GetMessageToken(p_message, &token) != 0 || token != g_token) {
            printf("[v2] token %u, sent %u\n", token, g_token);
            return;
        }
    }
    g_answered++;
}

void *mixed_v2_open(const char *url)
{
    static iotx_deviceinfo_t dev;
    iotx_coap_config_t config;
    iotx_coap_context_t *ctx;

    memset(&dev, 0, sizeof(dev));
    strcpy(dev.product_key, MIXED_V2_PK);
    strcpy(dev.device_name, MIXED_V2_DN);
    strcpy(dev.device_secret, MIXED_V2_DS);
    snprintf(dev.device_id, sizeof(dev.device_id), "%s.%s", MIXED_V2_PK, MIXED_V2_DN);
    snprintf(g_url, sizeof(g_url), "%s", url);

    memset(&config, 0, sizeof(config));
    config.p_url = g_url;
    config.wait_time_ms = 100;
    config.p_devinfo = (iotx_device_info_t *)&dev;
    ctx = IOT_CoAP_Init(&config);
    if (ctx == NULL) {
        printf("[v2] IOT_CoAP_Init failed\n");
        return NULL;
    }
    if (IOT_CoAP_DeviceNameAuth(ctx) != IOTX_SUCCESS) {
        printf("[v2] authentication failed\n");
        IOT_CoAP_Deinit(&ctx);
        return NULL;
    }
    return ctx;
}

int mixed_v2_publish(void *ctx)
{
    static unsigned char payload[] = "{\"from\":\"v2\"}";
    char path[IOTX_URI_MAX_LEN + 1];
    iotx_message_t message;
    int ret;

    snprintf(path, sizeof(path), "/topic/%s/%s/update", MIXED_V2_PK, MIXED_V2_DN);
    memset(&message, 0, sizeof(message));
    message.p_payload = payload;
    message.payload_len = (unsigned short)(sizeof(payload) - 1);
    message.content_type = IOTX_CONTENT_TYPE_JSON;
    message.msg_type = IOTX_MESSAGE_CON;
    message.resp_callback = on_response;
    ret = IOT_CoAP_SendMessage(ctx, path, &message);
    g_token = (unsigned int)IOT_CoAP_GetCurToken(ctx);
    return ret;
}

void mixed_v2_yield(void *ctx)
{
    IOT_CoAP_Yield(ctx);
}

int mixed_v2_answered(void)
{
    return g_answered;
}

void mixed_v2_close(void *ctx)
{
    IOT_CoAP_Deinit(&ctx);
}
