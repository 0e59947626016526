/*
 * IOT_SetupConnInfo and IOT_Ioctl through the 2.x headers, against a live
 * emulator: bad input is refused without side effects, the region is
 * limited to cn-shanghai, identity set through either call reads back and
 * fills an empty device info at IOT_CoAP_Init (the device then
 * authenticates), and the 3.x token calls refuse garbage.
 *
 * Usage: conninfo URL   (the emulator knows a1TestPK001/dev-001 and
 *                        a1ConnInfo2/dev-002)
 */
#include "iot_import.h"
#include "iot_export.h"
#include "test_device.h"

#include <stdio.h>
#include <string.h>

/* A second device (given to the emulator by the test), so the second pass
 * cannot succeed on what the first one stored. */
#define PK2 "a1ConnInfo2"
#define DN2 "dev-002"
#define DS2 "c0nnInf0c0nnInf0c0nnInf0c0nnInf0"

static int g_failures;

#define CHECK(cond)                                                     \
    do {                                                                \
        if (!(cond)) {                                                  \
            printf("conninfo: FAILED at line %d: %s\n", __LINE__, #cond); \
            g_failures++;                                               \
        }                                                               \
    } while (0)

static void check_refusals(void)
{
    char too_long[80];
    char out[IOTX_DEVICE_SECRET_LEN + 1];
    int region = IOTX_CLOUD_REGION_SINGAPORE;
    int value = 7;
    void *info = (void *)&value;

    memset(too_long, 'x', sizeof(too_long) - 1);
    too_long[sizeof(too_long) - 1] = '\0';

    CHECK(IOT_SetupConnInfo(NULL, TEST_DN, TEST_DS, NULL) == FAIL_RETURN);
    CHECK(IOT_SetupConnInfo(TEST_PK, "", TEST_DS, NULL) == FAIL_RETURN);
    CHECK(IOT_SetupConnInfo(TEST_PK, TEST_DN, too_long, &info) == FAIL_RETURN);
    CHECK(info == NULL); /* CoAP has no MQTT connection info to hand out */

    /* Nothing was stored by the refused calls. */
    CHECK(IOT_Ioctl(IOTX_IOCTL_GET_PRODUCT_KEY, out) == SUCCESS_RETURN);
    CHECK(out[0] == '\0');

    CHECK(IOT_Ioctl(IOTX_IOCTL_SET_REGION, &region) == FAIL_RETURN);
    region = -1;
    CHECK(IOT_Ioctl(IOTX_IOCTL_GET_REGION, &region) == SUCCESS_RETURN);
    CHECK(region == IOTX_CLOUD_REGION_SHANGHAI);
    region = IOTX_CLOUD_REGION_SHANGHAI;
    CHECK(IOT_Ioctl(IOTX_IOCTL_SET_REGION, &region) == SUCCESS_RETURN);

    CHECK(IOT_Ioctl(IOTX_IOCTL_SET_DYNAMIC_REGISTER, NULL) == FAIL_RETURN);
    value = 2;
    CHECK(IOT_Ioctl(IOTX_IOCTL_SET_DYNAMIC_REGISTER, &value) == FAIL_RETURN);
    value = 1;
    CHECK(IOT_Ioctl(IOTX_IOCTL_SET_DYNAMIC_REGISTER, &value) == SUCCESS_RETURN);
    value = 0;
    CHECK(IOT_Ioctl(IOTX_IOCTL_GET_DYNAMIC_REGISTER, &value) == SUCCESS_RETURN);
    CHECK(value == 1);

    CHECK(IOT_Ioctl(IOTX_IOCTL_SET_MQTT_DOMAIN, (void *)"mqtt.example") == FAIL_RETURN);
    CHECK(IOT_Ioctl(-1, &value) == FAIL_RETURN);
    CHECK(IOT_Ioctl(28, &value) == FAIL_RETURN);
    CHECK(IOT_Ioctl(IOTX_IOCTL_SET_PRODUCT_KEY, too_long) == FAIL_RETURN);
    CHECK(IOT_Ioctl(IOTX_IOCTL_GET_PRODUCT_KEY, out) == SUCCESS_RETURN);
    CHECK(out[0] == '\0');

    CHECK(IOT_CoAP_GetCurToken(NULL) == (uint32_t)IOTX_ERR_INVALID_PARAM);
    CHECK(IOT_CoAP_GetCurToken(out) == (uint32_t)IOTX_ERR_INVALID_PARAM);
    CHECK(IOT_CoAP_GetMessageToken(NULL, (unsigned int *)&value) == -1);
    CHECK(IOT_CoAP_GetMessageToken(out, (unsigned int *)&value) == -1);
}

static int g_answers;
static unsigned int g_token;

static void on_response(void *arg, void *p_message)
{
    unsigned int token = 0;

    (void)arg;
    CHECK(IOT_CoAP_GetMessageToken(p_message, NULL) == -1);
    CHECK(IOT_CoAP_GetMessageToken(p_message, &token) == 0);
    CHECK(token == g_token);
    g_answers++;
}

/* Identity only from IOT_SetupConnInfo (2.3) or IOT_Ioctl (3.x): the
 * device info handed to IOT_CoAP_Init is left empty. */
static void check_stored_identity_authenticates(char *url, int use_ioctl, const char *pk,
                                                const char *dn, const char *ds)
{
    static unsigned char payload[] = "{}";
    char out[IOTX_DEVICE_SECRET_LEN + 1];
    iotx_deviceinfo_t dev;
    iotx_coap_config_t config;
    iotx_message_t message;
    iotx_coap_context_t *ctx;
    char path[IOTX_URI_MAX_LEN + 1];
    int turn;

    snprintf(path, sizeof(path), "/topic/%s/%s/update", pk, dn);
    if (use_ioctl) {
        CHECK(IOT_Ioctl(IOTX_IOCTL_SET_PRODUCT_KEY, (void *)pk) == SUCCESS_RETURN);
        CHECK(IOT_Ioctl(IOTX_IOCTL_SET_DEVICE_NAME, (void *)dn) == SUCCESS_RETURN);
        CHECK(IOT_Ioctl(IOTX_IOCTL_SET_DEVICE_SECRET, (void *)ds) == SUCCESS_RETURN);
    } else {
        CHECK(IOT_SetupConnInfo(pk, dn, ds, NULL) == SUCCESS_RETURN);
    }
    CHECK(IOT_Ioctl(IOTX_IOCTL_GET_PRODUCT_KEY, out) == SUCCESS_RETURN && strcmp(out, pk) == 0);
    CHECK(IOT_Ioctl(IOTX_IOCTL_GET_DEVICE_NAME, out) == SUCCESS_RETURN && strcmp(out, dn) == 0);
    CHECK(IOT_Ioctl(IOTX_IOCTL_GET_DEVICE_SECRET, out) == SUCCESS_RETURN && strcmp(out, ds) == 0);

    memset(&dev, 0, sizeof(dev));
    memset(&config, 0, sizeof(config));
    config.p_url = url;
    config.wait_time_ms = 100;
    config.p_devinfo = (iotx_device_info_t *)&dev;
    ctx = IOT_CoAP_Init(&config);
    CHECK(ctx != NULL);
    if (ctx == NULL) {
        return;
    }
    CHECK(IOT_CoAP_GetCurToken(ctx) == 0);
    CHECK(IOT_CoAP_DeviceNameAuth(ctx) == IOTX_SUCCESS);

    memset(&message, 0, sizeof(message));
    message.p_payload = payload;
    message.payload_len = 2;
    message.msg_type = IOTX_MESSAGE_CON;
    message.content_type = IOTX_CONTENT_TYPE_JSON;
    message.resp_callback = on_response;
    g_answers = 0;
    CHECK(IOT_CoAP_SendMessage(ctx, path, &message) == IOTX_SUCCESS);
    g_token = IOT_CoAP_GetCurToken(ctx);
    CHECK(g_token != 0);
    for (turn = 0; turn < 50 && g_answers == 0; turn++) {
        IOT_CoAP_Yield(ctx);
    }
    CHECK(g_answers == 1);
    IOT_CoAP_Deinit(&ctx);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s URL\n", argv[0]);
        return 2;
    }
    check_refusals();
    check_stored_identity_authenticates(argv[1], 0, TEST_PK, TEST_DN, TEST_DS);
    check_stored_identity_authenticates(argv[1], 1, PK2, DN2, DS2);
    if (g_failures == 0) {
        printf("conninfo OK\n");
    }
    return g_failures == 0 ? 0 : 1;
}
