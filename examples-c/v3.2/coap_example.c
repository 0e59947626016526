/*
 * CoAP sample in the style of the vendor SDK's 3.1/3.2 line
 * (src/coap/examples/coap_example.c): coap_api.h + wrappers.h, the identity
 * kept in the application's globals and handed to the SDK with
 * IOT_Ioctl(IOTX_IOCTL_SET_PRODUCT_KEY, ...), iotx_coap_device_info_t,
 * topics under /user/, and the 3.x token calls to pair each response with
 * its request.
 *
 * Compiled against the 3.1/3.2 header set only (-I include/v3), unchanged.
 *
 * Usage: coap_example [-e online|pre] [-s dtls|psk] [-l] [-h] [-u URL]
 *                     [-p PK] [-d DN] [-k DS] [-n COUNT] [-w WAIT_MS]
 *   -u URL   server URL (overrides -e; how the tests reach the emulator)
 *   -n COUNT without -l, stop after COUNT responses (default 1)
 */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "coap_api.h"
#include "wrappers.h"

/* The emulator's default test device; -p/-d/-k replace it. */
char g_product_key[IOTX_PRODUCT_KEY_LEN + 1]       = "a1TestPK001";
char g_product_secret[IOTX_PRODUCT_SECRET_LEN + 1] = "";
char g_device_name[IOTX_DEVICE_NAME_LEN + 1]       = "dev-001";
char g_device_secret[IOTX_DEVICE_SECRET_LEN + 1]   = "s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAB";

#define IOTX_PRE_DTLS_SERVER_URI        "coaps://pre.coap.cn-shanghai.link.aliyuncs.com:5684"
#define IOTX_PRE_PSK_SERVER_URI         "coap-psk://pre.coap.cn-shanghai.link.aliyuncs.com:5682"
#define IOTX_ONLINE_DTLS_SERVER_URL     "coaps://%s.coap.cn-shanghai.link.aliyuncs.com:5684"
#define IOTX_ONLINE_PSK_SERVER_URL      "coap-psk://%s.coap.cn-shanghai.link.aliyuncs.com:5682"

#define EXAMPLE_PAYLOAD "{\"name\":\"hello world\"}"

static int g_responses;
static int g_bad_responses;
static unsigned int g_sent_token;

static void iotx_response_handler(void *arg, void *p_response)
{
    int len = 0;
    unsigned char *p_payload = NULL;
    unsigned int token = 0;
    iotx_coap_resp_code_t resp_code = IOTX_COAP_RESP_CODE_CONTENT;

    (void)arg;
    IOT_CoAP_GetMessageCode(p_response, &resp_code);
    IOT_CoAP_GetMessagePayload(p_response, &p_payload, &len);
    IOT_CoAP_GetMessageToken(p_response, &token);
    HAL_Printf("[APPL]: Message response code: 0x%x\r\n", (unsigned int)resp_code);
    HAL_Printf("[APPL]: Len: %d, Payload: %s\r\n", len, p_payload != NULL ? (char *)p_payload : "");
    HAL_Printf("[APPL]: token %u, %s\r\n", token,
               token == g_sent_token ? "matches the request" : "MISMATCH");
    g_responses++;
    if (resp_code != IOTX_COAP_RESP_CODE_CONTENT || token != g_sent_token) {
        g_bad_responses++;
    }
}

static void iotx_post_data_to_server(void *param)
{
    static unsigned char payload[] = EXAMPLE_PAYLOAD;
    char path[IOTX_URI_MAX_LEN + 1] = {0};
    iotx_coap_context_t *p_ctx = (iotx_coap_context_t *)param;
    iotx_message_t message;

    HAL_Snprintf(path, IOTX_URI_MAX_LEN, "/topic/%s/%s/user/update/", g_product_key, g_device_name);

    memset(&message, 0, sizeof(iotx_message_t));
    message.p_payload = payload;
    message.payload_len = (unsigned short)strlen(EXAMPLE_PAYLOAD);
    message.resp_callback = iotx_response_handler;
    message.msg_type = IOTX_MESSAGE_CON;
    message.content_type = IOTX_CONTENT_TYPE_JSON;

    if (IOT_CoAP_SendMessage(p_ctx, path, &message) != IOTX_SUCCESS) {
        HAL_Printf("[APPL]: send to %s failed\r\n", path);
        return;
    }
    g_sent_token = IOT_CoAP_GetCurToken(p_ctx);
}

static int iotx_get_devinfo(iotx_coap_device_info_t *p_devinfo)
{
    if (NULL == p_devinfo) {
        return IOTX_ERR_INVALID_PARAM;
    }
    memset(p_devinfo, 0x00, sizeof(iotx_coap_device_info_t));
    /* Read back what IOT_Ioctl stored: the SDK is the identity's owner. */
    IOT_Ioctl(IOTX_IOCTL_GET_PRODUCT_KEY, p_devinfo->product_key);
    IOT_Ioctl(IOTX_IOCTL_GET_DEVICE_NAME, p_devinfo->device_name);
    IOT_Ioctl(IOTX_IOCTL_GET_DEVICE_SECRET, p_devinfo->device_secret);
    HAL_Snprintf(p_devinfo->device_id, IOTX_PRODUCT_KEY_LEN + IOTX_DEVICE_NAME_LEN + 2,
                 "%s.%s", p_devinfo->product_key, p_devinfo->device_name);
    HAL_Printf("[APPL]: device %s (%s)\r\n", p_devinfo->device_id, p_devinfo->product_key);
    return IOTX_SUCCESS;
}

static void show_usage(void)
{
    HAL_Printf("\r\nusage: coap_example [OPTION]...\r\n");
    HAL_Printf("\t-e pre|online      \tSet the cloud environment.\r\n");
    HAL_Printf("\t-s dtls|psk        \tSet the security setting.\r\n");
    HAL_Printf("\t-l                 \tRun the loop forever.\r\n");
    HAL_Printf("\t-u URL             \tServer URL (overrides -e).\r\n");
    HAL_Printf("\t-p/-d/-k           \tProductKey / DeviceName / DeviceSecret.\r\n");
    HAL_Printf("\t-n COUNT           \tWithout -l, stop after COUNT responses.\r\n");
    HAL_Printf("\t-w WAIT_MS         \twait_time_ms (default 3000).\r\n");
}

static void copy_arg(char *dst, size_t cap, const char *src)
{
    HAL_Snprintf(dst, (int)cap, "%s", src);
}

int main(int argc, char **argv)
{
    int count = 0;
    int turns = 0;
    int running = 0;
    int want = 1;
    int wait_ms = 3000;
    char secur[32] = "psk";
    char env[32] = "online";
    char url[256] = {0};
    int opt;
    int ret;
    iotx_coap_config_t config;
    iotx_coap_device_info_t deviceinfo;
    iotx_coap_context_t *p_ctx = NULL;

    while ((opt = getopt(argc, argv, "e:s:lhru:p:d:k:n:w:")) != -1) {
        switch (opt) {
        case 'e': copy_arg(env, sizeof(env), optarg); break;
        case 's': copy_arg(secur, sizeof(secur), optarg); break;
        case 'l': running = 1; break;
        case 'r': break; /* DTLS session-ticket test of the vendor's; nothing to do here */
        case 'u': copy_arg(url, sizeof(url), optarg); break;
        case 'p': copy_arg(g_product_key, sizeof(g_product_key), optarg); break;
        case 'd': copy_arg(g_device_name, sizeof(g_device_name), optarg); break;
        case 'k': copy_arg(g_device_secret, sizeof(g_device_secret), optarg); break;
        case 'n': want = atoi(optarg); break;
        case 'w': wait_ms = atoi(optarg); break;
        case 'h': show_usage(); return 0;
        default: show_usage(); return 2;
        }
    }

    if (IOT_Ioctl(IOTX_IOCTL_SET_PRODUCT_KEY, g_product_key) != SUCCESS_RETURN
        || IOT_Ioctl(IOTX_IOCTL_SET_DEVICE_NAME, g_device_name) != SUCCESS_RETURN
        || IOT_Ioctl(IOTX_IOCTL_SET_DEVICE_SECRET, g_device_secret) != SUCCESS_RETURN) {
        HAL_Printf("[APPL]: IOT_Ioctl refused the device identity\r\n");
        return 1;
    }
    IOT_SetLogLevel(IOT_LOG_DEBUG);

    HAL_Printf("[COAP-Client]: Enter Coap Client\r\n");
    memset(&config, 0x00, sizeof(iotx_coap_config_t));
    if (url[0] != '\0') {
        config.p_url = url;
    } else if (0 == strcmp(env, "pre")) {
        copy_arg(url, sizeof(url), 0 == strcmp(secur, "dtls") ? IOTX_PRE_DTLS_SERVER_URI
                                                               : IOTX_PRE_PSK_SERVER_URI);
        config.p_url = url;
    } else if (0 == strcmp(env, "online")) {
        if (0 == strcmp(secur, "dtls")) {
            HAL_Snprintf(url, sizeof(url), IOTX_ONLINE_DTLS_SERVER_URL, g_product_key);
        } else if (0 == strcmp(secur, "psk")) {
            HAL_Snprintf(url, sizeof(url), IOTX_ONLINE_PSK_SERVER_URL, g_product_key);
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
    config.p_devinfo = (iotx_coap_device_info_t *)&deviceinfo;
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
        /* The 3.2 cadence: a post every 4 turns, the first on turn 5. */
        if (count == 5) {
            iotx_post_data_to_server((void *)p_ctx);
            count = 1;
        }
        count++;
        turns++;
        IOT_CoAP_Yield(p_ctx);
    } while (running || (g_responses < want && turns < 10 * want + 50));
    IOT_CoAP_Deinit(&p_ctx);

    IOT_SetLogLevel(IOT_LOG_NONE);
    HAL_Printf("[COAP-Client]: Exit Coap Client, %d responses\r\n", g_responses);
    return (g_responses >= want && g_bad_responses == 0) ? 0 : 1;
}
