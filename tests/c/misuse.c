/*
 * C API misuse: every bad argument the vendor API can be handed must be
 * refused with the documented code, never crash, and never leave the
 * context unusable.
 *
 * Usage: misuse URL      (URL of a plain listener of the emulator, which
 *                         knows docs/protocol.md's test device a1TestPK001/dev-001)
 *
 * Run it under valgrind too: the device info is heap-allocated with exactly
 * sizeof(iotx_deviceinfo_t), so a read of module_vendor_id is an error there.
 */
#include "iot_import.h"
#include "iot_export.h"
#include "test_device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_PATH "/topic/" TEST_PK "/" TEST_DN "/update"
#define TEST_PAYLOAD "{\"misuse\":\"valid send\"}"
#define WAIT_MS 100
/* Yield turns before giving up on the response: bounds a hang, not a time. */
#define MAX_TURNS 300

static int g_passed;
static int g_failed;

static void check(int ok, const char *what)
{
    if (ok) {
        g_passed++;
        printf("ok   - %s\n", what);
    } else {
        g_failed++;
        printf("FAIL - %s\n", what);
    }
    fflush(stdout);
}

static void check_rc(int got, int want, const char *what)
{
    char line[256];

    snprintf(line, sizeof(line), "%s (got %d, want %d)", what, got, want);
    check(got == want, line);
}

/* What the response callback saw; filled in on the Yield thread (this one). */
typedef struct {
    int answered;
    int code_rc;
    iotx_coap_resp_code_t code;
    int payload_rc;
    int payload_len;
    int payload_null_pp_rc;
    int payload_null_len_rc;
    int code_null_rc;
} response_t;

static void on_response(void *arg, void *p_message)
{
    response_t *r = (response_t *)arg;
    unsigned char *payload = NULL;
    int len = -1;

    r->payload_null_pp_rc = IOT_CoAP_GetMessagePayload(p_message, NULL, &len);
    r->payload_null_len_rc = IOT_CoAP_GetMessagePayload(p_message, &payload, NULL);
    r->code_null_rc = IOT_CoAP_GetMessageCode(p_message, NULL);
    r->code_rc = IOT_CoAP_GetMessageCode(p_message, &r->code);
    r->payload_rc = IOT_CoAP_GetMessagePayload(p_message, &payload, &len);
    r->payload_len = len;
    r->answered++;
}

static iotx_deviceinfo_t *new_devinfo(const char *pk, const char *dn, const char *ds)
{
    /* Exactly the four-field struct, as vendor samples allocate it: any read
     * of module_vendor_id through the cast pointer lands outside the block. */
    iotx_deviceinfo_t *d = (iotx_deviceinfo_t *)malloc(sizeof(iotx_deviceinfo_t));

    if (d == NULL) {
        fprintf(stderr, "misuse: out of memory\n");
        exit(2);
    }
    memset(d, 0, sizeof(*d));
    strncpy(d->product_key, pk, sizeof(d->product_key) - 1);
    strncpy(d->device_name, dn, sizeof(d->device_name) - 1);
    strncpy(d->device_secret, ds, sizeof(d->device_secret) - 1);
    snprintf(d->device_id, sizeof(d->device_id), "%s.%s", pk, dn);
    return d;
}

static void init_must_fail(iotx_deviceinfo_t *dev, const char *url, const char *what)
{
    iotx_coap_config_t cfg;
    iotx_coap_context_t *ctx;
    char copy[128];

    memset(&cfg, 0, sizeof(cfg));
    /* p_url is char *, and the library must not need to write to it. */
    snprintf(copy, sizeof(copy), "%s", url);
    cfg.p_url = copy;
    cfg.wait_time_ms = WAIT_MS;
    cfg.p_devinfo = (iotx_device_info_t *)dev;
    ctx = IOT_CoAP_Init(&cfg);
    check(ctx == NULL, what);
    if (ctx != NULL) {
        IOT_CoAP_Deinit(&ctx);
    }
}

static void init_failures(const char *good_url)
{
    iotx_coap_config_t cfg;
    iotx_deviceinfo_t *good = new_devinfo(TEST_PK, TEST_DN, TEST_DS);
    iotx_deviceinfo_t *no_pk = new_devinfo("", TEST_DN, TEST_DS);
    char url[128];

    check(IOT_CoAP_Init(NULL) == NULL, "Init(NULL config) -> NULL");

    memset(&cfg, 0, sizeof(cfg));
    snprintf(url, sizeof(url), "%s", good_url);
    cfg.p_url = url;
    cfg.wait_time_ms = WAIT_MS;
    cfg.p_devinfo = NULL;
    check(IOT_CoAP_Init(&cfg) == NULL, "Init(p_devinfo NULL) -> NULL");

    init_must_fail(no_pk, good_url, "Init(empty product key) -> NULL");
    init_must_fail(good, "http://x", "Init(http://x) -> NULL");
    init_must_fail(good, "coap://", "Init(coap:// without host) -> NULL");
    init_must_fail(good, "coap://127.0.0.1:99999", "Init(port 99999) -> NULL");
    init_must_fail(good, "coap://127.0.0.1:abc", "Init(port abc) -> NULL");
    init_must_fail(good, "coap://127.0.0.1:0", "Init(port 0) -> NULL");
    init_must_fail(good, "coap://nonexistent.invalid:5683", "Init(unresolvable host) -> NULL");

    free(no_pk);
    free(good);
}

/* Sentinels, so checks on a callback that never ran fail instead of
 * passing on zeroes. */
static void reset_response(response_t *r)
{
    memset(r, 0, sizeof(*r));
    r->code_rc = r->payload_rc = r->payload_null_pp_rc = 12345;
    r->payload_null_len_rc = r->code_null_rc = 12345;
    r->code = -1;
    r->payload_len = -1;
}

static void fill_valid(iotx_message_t *m, unsigned char *payload, unsigned short len,
                       response_t *r)
{
    test_message(m, payload, len, on_response, r);
}

int main(int argc, char **argv)
{
    static unsigned char payload[] = TEST_PAYLOAD;
    static unsigned char big[1300];
    static char path[] = TEST_PATH;
    char long_path[IOTX_URI_MAX_LEN + 10 + 1];
    /* Zeroed and large enough for any message struct: a pointer that is not
     * a response message must be refused, not read as one. */
    static unsigned char not_a_message[256];
    iotx_coap_config_t cfg;
    iotx_deviceinfo_t *dev;
    iotx_coap_context_t *ctx;
    iotx_coap_context_t *null_ctx = NULL;
    iotx_message_t msg;
    response_t resp;
    unsigned char *pp = NULL;
    int len = 0;
    iotx_coap_resp_code_t code = 0;
    char url[128];
    int turns;
    size_t plen;

    if (argc != 2) {
        fprintf(stderr, "usage: %s coap://HOST:PORT\n", argv[0]);
        return 2;
    }
    IOT_SetLogLevel(IOT_LOG_ERROR);

    init_failures(argv[1]);

    dev = new_devinfo(TEST_PK, TEST_DN, TEST_DS);
    memset(&cfg, 0, sizeof(cfg));
    snprintf(url, sizeof(url), "%s", argv[1]);
    cfg.p_url = url;
    cfg.wait_time_ms = WAIT_MS;
    cfg.p_devinfo = (iotx_device_info_t *)dev;
    ctx = IOT_CoAP_Init(&cfg);
    check(ctx != NULL, "Init(valid config) -> context");
    if (ctx == NULL) {
        free(dev);
        printf("misuse: %d passed, %d failed\n", g_passed, g_failed);
        return 1;
    }
    /* The library must have copied what it needs. */
    memset(dev, 0xA5, sizeof(*dev));
    free(dev);

    reset_response(&resp);
    fill_valid(&msg, payload, (unsigned short)strlen(TEST_PAYLOAD), &resp);
    check_rc(IOT_CoAP_SendMessage(ctx, path, &msg), IOTX_ERR_NOT_AUTHED,
             "SendMessage before auth -> NOT_AUTHED");

    check_rc(IOT_CoAP_DeviceNameAuth(NULL), IOTX_ERR_INVALID_PARAM,
             "DeviceNameAuth(NULL) -> INVALID_PARAM");
    check_rc(IOT_CoAP_DeviceNameAuth(ctx), IOTX_SUCCESS, "DeviceNameAuth -> SUCCESS");
    if (g_failed != 0) {
        /* Everything below needs an authenticated context. */
        IOT_CoAP_Deinit(&ctx);
        printf("misuse: %d passed, %d failed\n", g_passed, g_failed);
        return 1;
    }

    check_rc(IOT_CoAP_SendMessage(NULL, path, &msg), IOTX_ERR_INVALID_PARAM,
             "SendMessage(NULL context) -> INVALID_PARAM");
    check_rc(IOT_CoAP_SendMessage(ctx, NULL, &msg), IOTX_ERR_INVALID_PARAM,
             "SendMessage(NULL path) -> INVALID_PARAM");
    check_rc(IOT_CoAP_SendMessage(ctx, path, NULL), IOTX_ERR_INVALID_PARAM,
             "SendMessage(NULL message) -> INVALID_PARAM");

    {
        static const int bad_types[] = { IOTX_MESSAGE_ACK, IOTX_MESSAGE_RST, 99, -1 };
        size_t i;
        char what[96];

        for (i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++) {
            fill_valid(&msg, payload, (unsigned short)strlen(TEST_PAYLOAD), &resp);
            msg.msg_type = (iotx_msg_type_t)bad_types[i];
            snprintf(what, sizeof(what), "SendMessage(msg_type %d) -> INVALID_PARAM",
                     bad_types[i]);
            check_rc(IOT_CoAP_SendMessage(ctx, path, &msg), IOTX_ERR_INVALID_PARAM, what);
        }
    }

    fill_valid(&msg, payload, (unsigned short)strlen(TEST_PAYLOAD), &resp);
    msg.content_type = (iotx_content_type_t)7;
    check_rc(IOT_CoAP_SendMessage(ctx, path, &msg), IOTX_ERR_INVALID_PARAM,
             "SendMessage(content_type 7) -> INVALID_PARAM");

    fill_valid(&msg, NULL, 10, &resp);
    check_rc(IOT_CoAP_SendMessage(ctx, path, &msg), IOTX_ERR_INVALID_PARAM,
             "SendMessage(payload NULL, len 10) -> INVALID_PARAM");

    memset(big, 'x', sizeof(big));
    fill_valid(&msg, big, (unsigned short)sizeof(big), &resp);
    check_rc(IOT_CoAP_SendMessage(ctx, path, &msg), IOTX_ERR_MSG_TOO_LOOG,
             "SendMessage(1300-byte payload) -> MSG_TOO_LOOG");

    plen = strlen("/topic/");
    memcpy(long_path, "/topic/", plen);
    memset(long_path + plen, 'a', sizeof(long_path) - 1 - plen);
    long_path[sizeof(long_path) - 1] = '\0';
    fill_valid(&msg, payload, (unsigned short)strlen(TEST_PAYLOAD), &resp);
    check_rc(IOT_CoAP_SendMessage(ctx, long_path, &msg), IOTX_ERR_URI_TOO_LOOG,
             "SendMessage(path of IOTX_URI_MAX_LEN+10 chars) -> URI_TOO_LOOG");

    /* The limit itself is allowed: IOTX_URI_MAX_LEN is a length, not a size.
     * NON without callback, since the emulator may refuse the topic. */
    long_path[IOTX_URI_MAX_LEN] = '\0';
    fill_valid(&msg, payload, (unsigned short)strlen(TEST_PAYLOAD), NULL);
    msg.msg_type = IOTX_MESSAGE_NON;
    msg.resp_callback = NULL;
    check_rc(IOT_CoAP_SendMessage(ctx, long_path, &msg), IOTX_SUCCESS,
             "SendMessage(path of exactly IOTX_URI_MAX_LEN chars) -> SUCCESS");

    {
        /* The spec does not name a code for these, only that they cannot be
         * sent (no topic; docs/protocol.md: query strings are not supported). */
        static char empty[] = "";
        static char slash[] = "/";
        static char query[] = TEST_PATH "?a=b";

        fill_valid(&msg, payload, (unsigned short)strlen(TEST_PAYLOAD), &resp);
        check(IOT_CoAP_SendMessage(ctx, empty, &msg) < 0, "SendMessage(path \"\") is refused");
        check(IOT_CoAP_SendMessage(ctx, slash, &msg) < 0, "SendMessage(path \"/\") is refused");
        check(IOT_CoAP_SendMessage(ctx, query, &msg) < 0,
              "SendMessage(path with ?query) is refused");
    }

    check_rc(IOT_CoAP_Yield(NULL), IOTX_ERR_INVALID_PARAM, "Yield(NULL) -> INVALID_PARAM");

    check_rc(IOT_CoAP_GetMessagePayload(NULL, &pp, &len), IOTX_ERR_INVALID_PARAM,
             "GetMessagePayload(NULL message) -> INVALID_PARAM");
    check_rc(IOT_CoAP_GetMessagePayload(NULL, NULL, NULL), IOTX_ERR_INVALID_PARAM,
             "GetMessagePayload(NULL, NULL, NULL) -> INVALID_PARAM");
    check_rc(IOT_CoAP_GetMessageCode(NULL, &code), IOTX_ERR_INVALID_PARAM,
             "GetMessageCode(NULL message) -> INVALID_PARAM");
    check_rc(IOT_CoAP_GetMessageCode(NULL, NULL), IOTX_ERR_INVALID_PARAM,
             "GetMessageCode(NULL, NULL) -> INVALID_PARAM");
    check_rc(IOT_CoAP_GetMessagePayload(not_a_message, &pp, &len), IOTX_ERR_INVALID_PARAM,
             "GetMessagePayload(not a message) -> INVALID_PARAM");
    check_rc(IOT_CoAP_GetMessageCode(not_a_message, &code), IOTX_ERR_INVALID_PARAM,
             "GetMessageCode(not a message) -> INVALID_PARAM");

    /* After all that, the context must still work. */
    reset_response(&resp);
    fill_valid(&msg, payload, (unsigned short)strlen(TEST_PAYLOAD), &resp);
    check_rc(IOT_CoAP_SendMessage(ctx, path, &msg), IOTX_SUCCESS,
             "valid SendMessage after misuse -> SUCCESS");
    for (turns = 0; turns < MAX_TURNS && resp.answered == 0; turns++) {
        (void)IOT_CoAP_Yield(ctx);
    }
    check(resp.answered == 1, "response to the valid send arrives (once)");
    check_rc(resp.code_rc, IOTX_SUCCESS, "GetMessageCode in callback -> SUCCESS");
    check_rc(resp.code, IOTX_COAP_RESP_CODE_CONTENT, "response code is 2.05 (0x45)");
    check_rc(resp.payload_rc, IOTX_SUCCESS, "GetMessagePayload in callback -> SUCCESS");
    check(resp.payload_len >= 0, "payload length is not negative");
    check_rc(resp.payload_null_pp_rc, IOTX_ERR_INVALID_PARAM,
             "GetMessagePayload(msg, NULL, &len) -> INVALID_PARAM");
    check_rc(resp.payload_null_len_rc, IOTX_ERR_INVALID_PARAM,
             "GetMessagePayload(msg, &p, NULL) -> INVALID_PARAM");
    check_rc(resp.code_null_rc, IOTX_ERR_INVALID_PARAM,
             "GetMessageCode(msg, NULL) -> INVALID_PARAM");

    IOT_CoAP_Deinit(&ctx);
    check(ctx == NULL, "Deinit(&ctx) sets ctx to NULL");
    IOT_CoAP_Deinit(&ctx);
    check(ctx == NULL, "second Deinit(&ctx) is a no-op");
    IOT_CoAP_Deinit(&null_ctx);
    IOT_CoAP_Deinit(NULL);
    check(1, "Deinit(&NULL) and Deinit(NULL) return");

    printf("misuse: %d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}
