/*
 * CoAP sample in the style of the vendor SDK's 2.3 line
 * (examples/coap/coap_example.c + examples/app_entry.c): identity stored with
 * HAL_Set* and registered with IOT_Ioctl/IOT_SetupConnInfo, device info read
 * back through HAL_Get*, one post every 10 turns of IOT_CoAP_Yield.
 *
 * Compiled against the 2.x headers only (-I include), unchanged.
 *
 * Usage: coap_example [-e online|pre|daily] [-s dtls|psk|plain] [-l] [-h]
 *                     [-u URL] [-p PK] [-d DN] [-k DS] [-n COUNT] [-w WAIT_MS]
 *   -u URL   server URL (overrides -e; how the tests reach the emulator)
 *   -n COUNT without -l, stop after COUNT responses (default 1)
 */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "iot_import.h"
#include "iot_export.h"
#include "app_entry.h"

#define IOTX_PRE_DTLS_SERVER_URI        "coaps://pre.iot-as-coap.cn-shanghai.aliyuncs.com:5684"
#define IOTX_PRE_NOSEC_SERVER_URI       "coap://pre.iot-as-coap.cn-shanghai.aliyuncs.com:5683"
#define IOTX_PRE_PSK_SERVER_URI         "coap-psk://pre.iot-as-coap.cn-shanghai.aliyuncs.com:5682"
#define IOTX_ONLINE_DTLS_SERVER_URL     "coaps://%s.coap.cn-shanghai.link.aliyuncs.com:5684"
#define IOTX_ONLINE_PSK_SERVER_URL      "coap-psk://%s.coap.cn-shanghai.link.aliyuncs.com:5682"

#define EXAMPLE_PAYLOAD "{\"name\":\"hello world\"}"

/* The emulator's default test device; -p/-d/-k replace it. */
static char g_product_key[PRODUCT_KEY_LEN + 1] = "a1TestPK001";
static char g_device_name[DEVICE_NAME_LEN + 1] = "dev-001";
static char g_device_secret[DEVICE_SECRET_LEN + 1] = "s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAB";

static int g_responses;
static int g_bad_responses;

static void iotx_response_handler(void *arg, void *p_response)
{
    int len = 0;
    unsigned char *p_payload = NULL;
    iotx_coap_resp_code_t resp_code = 0;

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
    HAL_GetDeviceID(p_devinfo->device_id);
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
    HAL_Printf("\t-e pre|online|daily\tSet the cloud environment.\r\n");
    HAL_Printf("\t-s dtls|psk|plain  \tSet the security setting.\r\n");
    HAL_Printf("\t-l                 \tRun the loop forever.\r\n");
    HAL_Printf("\t-u URL             \tServer URL (overrides -e).\r\n");
    HAL_Printf("\t-p/-d/-k           \tProductKey / DeviceName / DeviceSecret.\r\n");
    HAL_Printf("\t-n COUNT           \tWithout -l, stop after COUNT responses.\r\n");
    HAL_Printf("\t-w WAIT_MS         \twait_time_ms (default 3000).\r\n");
}

static void copy_arg(char *dst, size_t cap, const char *src)
{
    strncpy(dst, src, cap - 1);
    dst[cap - 1] = '\0';
}

int linkkit_main(void *paras)
{
    int count = 0;
    int turns = 0;
    int running = 0;
    int want = 1;
    int wait_ms = 3000;
    char secur[32] = "psk";
    char env[32] = "online";
    char url[256] = {0};
    const char *opt_url = NULL;
    int opt;
    int dynamic_register = 0;
    int ret;
    iotx_coap_config_t config;
    iotx_deviceinfo_t deviceinfo;
    iotx_coap_context_t *p_ctx = NULL;
    int argc = 0;
    char **argv = NULL;

    if (paras != NULL) {
        app_main_paras_t *p = (app_main_paras_t *)paras;
        argc = p->argc;
        argv = p->argv;
    }

    while ((opt = getopt(argc, argv, "e:s:lhru:p:d:k:n:w:")) != -1) {
        switch (opt) {
        case 'e': copy_arg(env, sizeof(env), optarg); break;
        case 's': copy_arg(secur, sizeof(secur), optarg); break;
        case 'l': running = 1; break;
        case 'r': break; /* DTLS session-ticket test of the vendor's; nothing to do here */
        case 'u': opt_url = optarg; break;
        case 'p': copy_arg(g_product_key, sizeof(g_product_key), optarg); break;
        case 'd': copy_arg(g_device_name, sizeof(g_device_name), optarg); break;
        case 'k': copy_arg(g_device_secret, sizeof(g_device_secret), optarg); break;
        case 'n': want = atoi(optarg); break;
        case 'w': wait_ms = atoi(optarg); break;
        case 'h': show_usage(); return 0;
        default: show_usage(); return 2;
        }
    }

    HAL_SetProductKey(g_product_key);
    HAL_SetDeviceName(g_device_name);
    HAL_SetDeviceSecret(g_device_secret);
    IOT_SetLogLevel(IOT_LOG_DEBUG);

    HAL_Printf("[COAP-Client]: Enter Coap Client\r\n");
    memset(&config, 0x00, sizeof(iotx_coap_config_t));
    if (opt_url != NULL) {
        copy_arg(url, sizeof(url), opt_url);
        config.p_url = url;
    } else if (0 == strcmp(env, "pre")) {
        if (0 == strcmp(secur, "dtls")) {
            copy_arg(url, sizeof(url), IOTX_PRE_DTLS_SERVER_URI);
        } else if (0 == strcmp(secur, "psk")) {
            copy_arg(url, sizeof(url), IOTX_PRE_PSK_SERVER_URI);
        } else {
            copy_arg(url, sizeof(url), IOTX_PRE_NOSEC_SERVER_URI);
        }
        config.p_url = url;
    } else if (0 == strcmp(env, "online")) {
        if (0 == strcmp(secur, "dtls")) {
            snprintf(url, sizeof(url), IOTX_ONLINE_DTLS_SERVER_URL, g_product_key);
        } else if (0 == strcmp(secur, "psk")) {
            snprintf(url, sizeof(url), IOTX_ONLINE_PSK_SERVER_URL, g_product_key);
        } else {
            HAL_Printf("Online environment must access with DTLS/PSK\r\n");
            return 1;
        }
        config.p_url = url;
    } else {
        HAL_Printf("[APPL]: unsupported environment %s\r\n", env);
        return 2;
    }

    /* 2.3: no dynamic registration for this device; register its identity. */
    IOT_Ioctl(IOTX_IOCTL_SET_DYNAMIC_REGISTER, (void *)&dynamic_register);
    ret = IOT_SetupConnInfo(g_product_key, g_device_name, g_device_secret, NULL);
    if (ret == FAIL_RETURN) {
        HAL_Printf("IoTx CoAP setup info failed\r\n");
        return 1;
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
