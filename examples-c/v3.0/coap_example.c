/*
 * CoAP sample in the style of the vendor SDK's 3.0.x line
 * (src/coap/examples/coap_example.c): coap_api.h + coap_wrapper.h, the
 * device identity read from the platform layer (HAL_Get*, never set here),
 * device_id built as "ProductKey.DeviceName" in the 3.0.x-sized field.
 *
 * Compiled against the 3.0.x header set only (-I include/v3.0), unchanged.
 * With the reference HAL the identity comes from the environment:
 * IOTX_PRODUCT_KEY, IOTX_DEVICE_NAME, IOTX_DEVICE_SECRET.
 *
 * Usage: coap_example [-e online|pre] [-s dtls|psk|nosec] [-l] [-h]
 *                     [-u URL] [-n COUNT] [-w WAIT_MS]
 *   -u URL   server URL (overrides -e; how the tests reach the emulator)
 *   -n COUNT without -l, stop after COUNT responses (default 1)
 */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "coap_api.h"
#include "coap_wrapper.h"

#define IOTX_PRE_DTLS_SERVER_URI        "coaps://pre.coap.cn-shanghai.link.aliyuncs.com:5684"
#define IOTX_PRE_NOSEC_SERVER_URI       "coap://pre.coap.cn-shanghai.link.aliyuncs.com:5683"
#define IOTX_PRE_PSK_SERVER_URI         "coap-psk://pre.coap.cn-shanghai.link.aliyuncs.com:5682"
#define IOTX_ONLINE_DTLS_SERVER_URL     "coaps://%s.coap.cn-shanghai.link.aliyuncs.com:5684"
#define IOTX_ONLINE_PSK_SERVER_URL      "coap-psk://%s.coap.cn-shanghai.link.aliyuncs.com:5682"

#define EXAMPLE_PAYLOAD "{\"name\":\"hello world\"}"

static char IOTX_PRODUCT_KEY[IOTX_PRODUCT_KEY_LEN + 1];
static char IOTX_DEVICE_NAME[IOTX_DEVICE_NAME_LEN + 1];
static char IOTX_DEVICE_SECRET[IOTX_DEVICE_SECRET_LEN + 1];

static int g_responses;
static int g_bad_responses;

static void iotx_response_handler(void *arg, void *p_response)
{
    int len = 0;
    unsigned char *p_payload = NULL;
    iotx_coap_resp_code_t resp_code = IOTX_COAP_RESP_CODE_CONTENT;

    (void)arg;
    IOT_CoAP_GetMessageCode(p_response, &resp_code);
    IOT_CoAP_GetMessagePayload(p_response, &p_payload, &len);
    HAL_Printf("[APPL]: Message response code: 0x%x\r\n", (unsigned int)resp_code);
    HAL_Printf("[APPL]: Len: %d, Payload: %s\r\n", len, p_payload != NULL ? (char *)p_payload : "");
    g_responses++;
    if (resp_code != IOTX_COAP_RESP_CODE_CONTENT) {
        g_bad_responses++;
    }
}

static int iotx_get_devinfo(iotx_deviceinfo_t *p_devinfo)
{
    if (NULL == p_devinfo) {
        return IOTX_ERR_INVALID_PARAM;
    }
    memset(p_devinfo, 0x00, sizeof(iotx_deviceinfo_t));
    HAL_GetProductKey(p_devinfo->product_key);
    HAL_GetDeviceName(p_devinfo->device_name);
    HAL_GetDeviceSecret(p_devinfo->device_secret);
    HAL_Snprintf(p_devinfo->device_id, IOTX_PRODUCT_KEY_LEN + IOTX_DEVICE_NAME_LEN + 2,
                 "%s.%s", p_devinfo->product_key, p_devinfo->device_name);
    HAL_Printf("[APPL]: device %s (%s)\r\n", p_devinfo->device_id, p_devinfo->product_key);
    return IOTX_SUCCESS;
}

static void iotx_post_data_to_server(void *param)
{
    static unsigned char payload[] = EXAMPLE_PAYLOAD;
    char path[IOTX_URI_MAX_LEN + 1] = {0};
    iotx_message_t message;
    iotx_deviceinfo_t devinfo;
    iotx_coap_context_t *p_ctx = (iotx_coap_context_t *)param;

    memset(&message, 0, sizeof(iotx_message_t));
    message.p_payload = payload;
    message.payload_len = (unsigned short)strlen(EXAMPLE_PAYLOAD);
    message.resp_callback = iotx_response_handler;
    message.msg_type = IOTX_MESSAGE_CON;
    message.content_type = IOTX_CONTENT_TYPE_JSON;

    iotx_get_devinfo(&devinfo);
    snprintf(path, IOTX_URI_MAX_LEN, "/topic/%s/%s/update/", devinfo.product_key,
             devinfo.device_name);
    if (IOT_CoAP_SendMessage(p_ctx, path, &message) != IOTX_SUCCESS) {
        HAL_Printf("[APPL]: send to %s failed\r\n", path);
    }
}

static void show_usage(void)
{
    HAL_Printf("\r\nusage: coap_example [OPTION]...\r\n");
    HAL_Printf("\t-e pre|online      \tSet the cloud environment.\r\n");
    HAL_Printf("\t-s nosec|dtls|psk  \tSet the security setting.\r\n");
    HAL_Printf("\t-l                 \tRun the loop forever.\r\n");
    HAL_Printf("\t-u URL             \tServer URL (overrides -e).\r\n");
    HAL_Printf("\t-n COUNT           \tWithout -l, stop after COUNT responses.\r\n");
    HAL_Printf("\t-w WAIT_MS         \twait_time_ms (default 3000).\r\n");
}

int main(int argc, char **argv)
{
    int count = 0;
    int turns = 0;
    int running = 0;
    int want = 1;
    int wait_ms = 3000;
    char secur[32] = "dtls";
    char env[32] = "online";
    char url[256] = {0};
    int opt;
    int ret;
    iotx_coap_config_t config;
    iotx_deviceinfo_t deviceinfo;
    iotx_coap_context_t *p_ctx = NULL;

    /* The identity is the platform's: read, never set. */
    HAL_GetProductKey(IOTX_PRODUCT_KEY);
    HAL_GetDeviceName(IOTX_DEVICE_NAME);
    HAL_GetDeviceSecret(IOTX_DEVICE_SECRET);

    IOT_SetLogLevel(IOT_LOG_DEBUG);

    while ((opt = getopt(argc, argv, "e:s:lhru:n:w:")) != -1) {
        switch (opt) {
        case 'e': snprintf(env, sizeof(env), "%s", optarg); break;
        case 's': snprintf(secur, sizeof(secur), "%s", optarg); break;
        case 'l': running = 1; break;
        case 'r': break; /* DTLS session-ticket test of the vendor's; nothing to do here */
        case 'u': snprintf(url, sizeof(url), "%s", optarg); break;
        case 'n': want = atoi(optarg); break;
        case 'w': wait_ms = atoi(optarg); break;
        case 'h': show_usage(); return 0;
        default: show_usage(); return 2;
        }
    }

    HAL_Printf("[COAP-Client]: Enter Coap Client\r\n");
    memset(&config, 0x00, sizeof(iotx_coap_config_t));
    if (url[0] != '\0') {
        config.p_url = url;
    } else if (0 == strcmp(env, "pre")) {
        if (0 == strcmp(secur, "dtls")) {
            snprintf(url, sizeof(url), "%s", IOTX_PRE_DTLS_SERVER_URI);
        } else if (0 == strcmp(secur, "psk")) {
            snprintf(url, sizeof(url), "%s", IOTX_PRE_PSK_SERVER_URI);
        } else {
            snprintf(url, sizeof(url), "%s", IOTX_PRE_NOSEC_SERVER_URI);
        }
        config.p_url = url;
    } else if (0 == strcmp(env, "online")) {
        if (0 == strcmp(secur, "dtls")) {
            snprintf(url, sizeof(url), IOTX_ONLINE_DTLS_SERVER_URL, IOTX_PRODUCT_KEY);
        } else if (0 == strcmp(secur, "psk")) {
            snprintf(url, sizeof(url), IOTX_ONLINE_PSK_SERVER_URL, IOTX_PRODUCT_KEY);
        } else {
            HAL_Printf("Online environment must access with DTLS/PSK\r\n");
            IOT_SetLogLevel(IOT_LOG_NONE);
            return 1;
        }
        config.p_url = url;
    } else {
        HAL_Printf("[APPL]: unsupported environment %s\r\n", env);
        return 2;
    }

    iotx_get_devinfo(&deviceinfo);
    config.p_devinfo = (iotx_device_info_t *)&deviceinfo;
    config.wait_time_ms = wait_ms;

    p_ctx = IOT_CoAP_Init(&config);
    if (NULL == p_ctx) {
        HAL_Printf("IoTx CoAP init failed\r\n");
        return 1;
    }
    ret = IOT_CoAP_DeviceNameAuth(p_ctx);
    if (ret != IOTX_SUCCESS) {
        HAL_Printf("[APPL]: device name auth failed: %d\r\n", ret);
        IOT_CoAP_Deinit(&p_ctx);
        return 1;
    }
    do {
        if (count == 11 || 0 == count) {
            iotx_post_data_to_server((void *)p_ctx);
            count = 1;
        }
        count++;
        turns++;
        IOT_CoAP_Yield(p_ctx);
    } while (running || (g_responses < want && turns < 10 * want + 50));
    IOT_CoAP_Deinit(&p_ctx);

    IOT_DumpMemoryStats(IOT_LOG_DEBUG);
    IOT_SetLogLevel(IOT_LOG_NONE);
    HAL_Printf("[COAP-Client]: Exit Coap Client, %d responses\r\n", g_responses);
    return (g_responses >= want && g_bad_responses == 0) ? 0 : 1;
}
