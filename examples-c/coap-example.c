/*
 * CoAP client sample, following the vendor SDK's sample/coap/coap-example.c
 * usage pattern: device credentials go through HAL_Set*, the config carries
 * an iotx_deviceinfo_t cast to iotx_device_info_t *, and a loop calls
 * IOT_CoAP_Yield, posting a message every 10th turn.
 *
 * Only the vendor's public headers are used, so this file doubles as a check
 * that vendor applications compile unchanged against this library.
 *
 * Usage: coap-example [-e online|pre|daily] [-s dtls|psk|plain] [-l]
 *                     [-u URL] [-H HOST] [-p PK] [-d DN] [-k DS]
 *                     [-n COUNT] [-w WAIT_MS] [-t MAX_TURNS]
 */
#include "iot_import.h"
#include "iot_export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IOTX_PRE_HOST    "pre.coap.cn-shanghai.link.aliyuncs.com"
#define IOTX_ONLINE_HOST "%s.coap.cn-shanghai.link.aliyuncs.com"
/* The vendor's internal daily-build servers, kept for option parity. */
#define IOTX_DAILY_DTLS_HOST "11.239.164.238"
#define IOTX_DAILY_PSK_HOST  "10.101.83.159"

#define EXAMPLE_PAYLOAD "{\"name\":\"hello world\"}"

/* The test device of docs/protocol.md (register it with the emulator's --device). */
static char g_default_pk[] = "a1TestPK001";
static char g_default_dn[] = "dev-001";
static char g_default_ds[] = "s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAB";

typedef struct {
    int answered;       /* responses received, any code */
    int failed;         /* responses whose code is not 2.xx */
    int send_failed;    /* SEND_FAILED events */
} example_stats_t;

static example_stats_t g_stats;

static void iotx_event_handle(void *context, iotx_coap_event_t event, void *p_data)
{
    const char *name = "UNKNOWN";

    (void)context;
    switch (event) {
    case IOTX_COAP_EVENT_SEND_FAILED:
        name = "SEND_FAILED";
        g_stats.send_failed++;
        break;
    case IOTX_COAP_EVENT_RECV_FAILED:
        name = "RECV_FAILED";
        break;
    case IOTX_COAP_EVENT_AUTH_FAILED:
        name = "AUTH_FAILED";
        break;
    default:
        break;
    }
    HAL_Printf("[APPL]: event %d (%s), data %p\r\n", (int)event, name, p_data);
}

static void iotx_response_handler(void *arg, void *p_response)
{
    example_stats_t *stats = (example_stats_t *)arg;
    int len = 0;
    unsigned char *p_payload = NULL;
    iotx_coap_resp_code_t resp_code = 0;

    IOT_CoAP_GetMessageCode(p_response, &resp_code);
    IOT_CoAP_GetMessagePayload(p_response, &p_payload, &len);
    /* CoAP writes codes as class.detail (2.05); the raw byte follows. */
    HAL_Printf("[APPL]: Message response code: %u.%02u (0x%02x)\r\n", (unsigned int)resp_code >> 5,
               (unsigned int)resp_code & 0x1f, (unsigned int)resp_code);
    /* The payload is not NUL-terminated: print exactly len bytes. */
    HAL_Printf("[APPL]: Len: %d, Payload: %.*s, \r\n", len,
               (p_payload != NULL && len > 0) ? len : 0,
               p_payload != NULL ? (const char *)p_payload : "");
    if (stats != NULL) {
        stats->answered++;
        if ((resp_code >> 5) != 2) {
            stats->failed++;
        }
    }
}

static int iotx_get_devinfo(iotx_deviceinfo_t *p_devinfo)
{
    memset(p_devinfo, 0, sizeof(*p_devinfo));
    HAL_GetProductKey(p_devinfo->product_key);
    HAL_GetDeviceName(p_devinfo->device_name);
    HAL_GetDeviceSecret(p_devinfo->device_secret);
    HAL_GetDeviceID(p_devinfo->device_id);
    return 0;
}

static int iotx_post_data_to_server(iotx_coap_context_t *p_ctx)
{
    /* static: the library may keep pointing at the payload until it has been
     * handed to the network, and C++ forbids a non-const pointer to a literal. */
    static unsigned char payload[] = EXAMPLE_PAYLOAD;
    char path[IOTX_URI_MAX_LEN + 1] = {0};
    iotx_message_t message;
    iotx_deviceinfo_t devinfo;
    int ret;

    memset(&message, 0, sizeof(message));
    message.p_payload = payload;
    message.payload_len = (unsigned short)strlen(EXAMPLE_PAYLOAD);
    message.resp_callback = iotx_response_handler;
    message.msg_type = IOTX_MESSAGE_CON;
    message.content_type = IOTX_CONTENT_TYPE_JSON;
    message.user_data = &g_stats;

    iotx_get_devinfo(&devinfo);
    HAL_Snprintf(path, IOTX_URI_MAX_LEN, "/topic/%s/%s/update/",
                 devinfo.product_key, devinfo.device_name);
    ret = IOT_CoAP_SendMessage(p_ctx, path, &message);
    if (ret != IOTX_SUCCESS) {
        HAL_Printf("[APPL]: send to %s failed: %d\r\n", path, ret);
    }
    return ret;
}

static void usage(const char *prog)
{
    HAL_Printf("usage: %s [-e online|pre|daily] [-s dtls|psk|plain] [-l] [-u URL] [-H HOST]\n"
               "          [-p ProductKey] [-d DeviceName] [-k DeviceSecret]\n"
               "          [-n COUNT] [-w WAIT_MS] [-t MAX_TURNS]\n"
               "  -u URL     full server URL, e.g. coap://127.0.0.1:5683 (overrides -e/-H)\n"
               "  -H HOST    server host; URL built from -s and its default port\n"
               "  -n COUNT   stop after COUNT answered uplinks (default 3; ignored with -l)\n"
               "  -w WAIT_MS wait_time_ms for IOT_CoAP_Yield (default 0 = library default)\n"
               "  -t TURNS   give up after TURNS loop turns (default 10*COUNT+50)\n",
               prog);
}

static int parse_int(const char *s, int *out)
{
    char *end = NULL;
    long v;

    if (s == NULL || *s == '\0') {
        return -1;
    }
    v = strtol(s, &end, 10);
    if (*end != '\0' || v < 0 || v > 0x7fffffffL) {
        return -1;
    }
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv)
{
    iotx_coap_config_t config;
    iotx_deviceinfo_t *deviceinfo;
    iotx_coap_context_t *p_ctx = NULL;
    const char *env = "online";
    const char *secur = "dtls";
    char *opt_url = NULL;
    char *opt_host = NULL;
    char *pk = g_default_pk;
    char *dn = g_default_dn;
    char *ds = g_default_ds;
    int loop = 0;
    int count = 3;
    int wait_ms = 0;
    int max_turns = -1;
    char url[256];
    const char *scheme;
    unsigned port;
    int turn;
    int ret;
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *val = (i + 1 < argc) ? argv[i + 1] : NULL;
        int takes_value = 1;

        if (strcmp(a, "-l") == 0) {
            loop = 1;
            takes_value = 0;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(argv[0]);
            return 0;
        } else if (val == NULL) {
            HAL_Printf("[APPL]: option %s needs a value\n", a);
            usage(argv[0]);
            return 2;
        } else if (strcmp(a, "-e") == 0) {
            env = val;
        } else if (strcmp(a, "-s") == 0) {
            secur = val;
        } else if (strcmp(a, "-u") == 0) {
            opt_url = val;
        } else if (strcmp(a, "-H") == 0) {
            opt_host = val;
        } else if (strcmp(a, "-p") == 0) {
            pk = val;
        } else if (strcmp(a, "-d") == 0) {
            dn = val;
        } else if (strcmp(a, "-k") == 0) {
            ds = val;
        } else if (strcmp(a, "-n") == 0) {
            if (parse_int(val, &count) != 0 || count == 0) {
                HAL_Printf("[APPL]: bad -n %s\n", val);
                return 2;
            }
        } else if (strcmp(a, "-w") == 0) {
            if (parse_int(val, &wait_ms) != 0) {
                HAL_Printf("[APPL]: bad -w %s\n", val);
                return 2;
            }
        } else if (strcmp(a, "-t") == 0) {
            if (parse_int(val, &max_turns) != 0) {
                HAL_Printf("[APPL]: bad -t %s\n", val);
                return 2;
            }
        } else {
            HAL_Printf("[APPL]: unknown option %s\n", a);
            usage(argv[0]);
            return 2;
        }
        i += takes_value;
    }
    if (max_turns < 0) {
        max_turns = 10 * count + 50;
    }

    if (strcmp(secur, "dtls") == 0) {
        scheme = "coaps";
        port = 5684;
    } else if (strcmp(secur, "psk") == 0) {
        scheme = "coap-psk";
        port = 5682;
    } else if (strcmp(secur, "plain") == 0) {
        scheme = "coap";
        port = 5683;
    } else {
        HAL_Printf("[APPL]: unknown security %s (dtls|psk|plain)\n", secur);
        return 2;
    }

    HAL_SetProductKey(pk);
    HAL_SetDeviceName(dn);
    HAL_SetDeviceSecret(ds);

    IOT_OpenLog("coap");
    IOT_SetLogLevel(IOT_LOG_DEBUG);

    /* Heap-allocated at its exact size so that a library reading past the
     * four fields it may use (into iotx_device_info_t's module_vendor_id)
     * is caught by valgrind/ASan rather than silently reading stack. */
    deviceinfo = (iotx_deviceinfo_t *)HAL_Malloc(sizeof(iotx_deviceinfo_t));
    if (deviceinfo == NULL) {
        HAL_Printf("[APPL]: out of memory\r\n");
        return 1;
    }
    iotx_get_devinfo(deviceinfo);

    memset(&config, 0, sizeof(config));
    url[0] = '\0';
    if (opt_url != NULL) {
        HAL_Snprintf(url, (int)sizeof(url), "%s", opt_url);
    } else if (opt_host != NULL) {
        HAL_Snprintf(url, (int)sizeof(url), "%s://%s:%u", scheme, opt_host, port);
    } else if (strcmp(env, "pre") == 0) {
        HAL_Snprintf(url, (int)sizeof(url), "%s://%s:%u", scheme, IOTX_PRE_HOST, port);
    } else if (strcmp(env, "daily") == 0) {
        HAL_Snprintf(url, (int)sizeof(url), "%s://%s:%u", scheme,
                     port == 5682 ? IOTX_DAILY_PSK_HOST : IOTX_DAILY_DTLS_HOST, port);
    } else if (strcmp(env, "online") == 0) {
        if (port == 5684) {
            /* NULL selects the platform's default DTLS endpoint for this ProductKey. */
        } else if (port == 5682) {
            char host[128];
            HAL_Snprintf(host, (int)sizeof(host), IOTX_ONLINE_HOST, deviceinfo->product_key);
            HAL_Snprintf(url, (int)sizeof(url), "%s://%s:%u", scheme, host, port);
        } else {
            HAL_Printf("[APPL]: Online environment must access with DTLS/PSK\r\n");
            HAL_Free(deviceinfo);
            return 1;
        }
    } else {
        HAL_Printf("[APPL]: unknown environment %s (online|pre|daily)\n", env);
        HAL_Free(deviceinfo);
        return 2;
    }
    config.p_url = url[0] != '\0' ? url : NULL;
    config.wait_time_ms = wait_ms;
    config.p_devinfo = (iotx_device_info_t *)deviceinfo;
    config.event_handle = iotx_event_handle;

    HAL_Printf("[APPL]: url %s, device %s/%s\r\n",
               config.p_url != NULL ? config.p_url : "(platform default)",
               deviceinfo->product_key, deviceinfo->device_name);

    p_ctx = IOT_CoAP_Init(&config);
    if (p_ctx == NULL) {
        HAL_Printf("IoTx CoAP init failed\r\n");
        HAL_Free(deviceinfo);
        IOT_CloseLog();
        return 1;
    }

    ret = IOT_CoAP_DeviceNameAuth(p_ctx);
    if (ret != IOTX_SUCCESS) {
        HAL_Printf("[APPL]: device name auth failed: %d\r\n", ret);
        IOT_CoAP_Deinit(&p_ctx);
        HAL_Free(deviceinfo);
        IOT_CloseLog();
        return 1;
    }

    ret = 0;
    turn = 0;
    for (;;) {
        /* Post on turns 1, 11, 21, ...: the vendor sample's every-10th-turn
         * cadence, but starting at once rather than after ten idle waits. */
        if (turn % 10 == 0) {
            iotx_post_data_to_server(p_ctx);
        }
        IOT_CoAP_Yield(p_ctx);
        turn++;

        if (loop) {
            turn %= 10; /* keeps the cadence without ever overflowing */
            continue;
        }
        if (g_stats.answered >= count) {
            break;
        }
        if (turn >= max_turns) {
            HAL_Printf("[APPL]: gave up after %d turns: %d of %d responses\r\n",
                       turn, g_stats.answered, count);
            ret = 1;
            break;
        }
    }

    IOT_CoAP_Deinit(&p_ctx);
    if (p_ctx != NULL) {
        HAL_Printf("[APPL]: IOT_CoAP_Deinit did not clear the context pointer\r\n");
        ret = 1;
    }
    HAL_Free(deviceinfo);

    if (ret == 0 && g_stats.failed > 0) {
        HAL_Printf("[APPL]: %d responses had an error code\r\n", g_stats.failed);
        ret = 1;
    }
    HAL_Printf("[APPL]: done, %d responses\r\n", g_stats.answered);
    IOT_CloseLog();
    return ret;
}
