/* IOT_CoAP_SetTransmission / GetTransmission through the C ABI
 * (include/iotx_coap_ext.h). Usage: transmission URL, where URL is a plain
 * coap:// endpoint that never answers (tests/transmission.rs binds it and
 * times the datagrams that reach it).
 *
 * 1. A new context has RFC 7252's defaults.
 * 2. Invalid values (0, out of range, too wide for the field, NULL) are
 *    refused with IOTX_ERR_INVALID_PARAM and change nothing.
 * 3. Three valid settings, each followed by an auth that the silence
 *    makes time out: ACK_TIMEOUT 300 ms, factor 1.0, MAX_RETRANSMIT 3
 *    (datagrams at 0, 300, 900, 2100 ms, given up at 4500 ms); then 500 ms
 *    and 1 (0, 500; 1500); then the adaptive timer from 400 ms, 2 (0, 400,
 *    1200; 2800). Prints "auth N rc=... elapsed_ms=..." for each and a
 *    summary "transmission: P passed, F failed". */
#include <stdio.h>
#include <string.h>

#include "test_device.h"
#include "iotx_coap_ext.h"

static int passed, failed;

static void check(int ok, const char *what)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAILED: %s\n", what);
    }
}

static int same(const iotx_coap_transmission_t *a, const iotx_coap_transmission_t *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

static void timed_auth(iotx_coap_context_t *ctx, int n, const iotx_coap_transmission_t *t, uint64_t min_ms,
                       uint64_t max_ms)
{
    iotx_coap_transmission_t now;
    uint64_t started, elapsed;
    int rc;
    check(IOT_CoAP_SetTransmission(ctx, t) == IOTX_SUCCESS, "a valid setting is taken");
    check(IOT_CoAP_GetTransmission(ctx, &now) == IOTX_SUCCESS && same(&now, t), "and read back");
    started = HAL_UptimeMs();
    rc = IOT_CoAP_DeviceNameAuth(ctx);
    elapsed = HAL_UptimeMs() - started;
    printf("auth %d rc=%d elapsed_ms=%lu\n", n, rc, (unsigned long)elapsed);
    fflush(stdout);
    check(rc == IOTX_ERR_AUTH_FAILED, "the silent endpoint fails the auth");
    check(elapsed >= min_ms && elapsed <= max_ms, "given up on the schedule the setting gives");
}

int main(int argc, char **argv)
{
    static const iotx_coap_transmission_t rfc = IOTX_COAP_TRANSMISSION_RFC7252;
    iotx_coap_transmission_t got, bad;
    iotx_coap_context_t *ctx;
    size_t i;
    /* field index, value: each alone makes a setting invalid */
    static const struct {
        int field;
        uint32_t value;
    } invalid[] = {
        {0, 0}, {0, 99}, {0, 300001}, {0, 0xffffffffu},
        {1, 0}, {1, 999}, {1, 4001}, {1, 65536u + 1500u},
        {2, 0}, {2, 11}, {2, 256u + 4u}, {2, 0xffffffffu},
        {3, 2}, {3, 0xffffffffu},
        {4, 0}, {4, 999}, {4, 600001},
        {5, 0}, {5, 0xffffffffu},
    };

    if (argc != 2) {
        fprintf(stderr, "usage: %s URL\n", argv[0]);
        return 2;
    }
    IOT_SetLogLevel(IOT_LOG_ERROR);
    ctx = test_device_init(argv[1], 100, NULL);
    if (ctx == NULL) {
        fprintf(stderr, "init failed\n");
        return 1;
    }
    check(sizeof(iotx_coap_transmission_t) == 24, "the struct is six uint32_t");
    check(IOT_CoAP_GetTransmission(ctx, &got) == IOTX_SUCCESS && same(&got, &rfc), "RFC 7252 defaults");

    check(IOT_CoAP_SetTransmission(NULL, &rfc) == IOTX_ERR_INVALID_PARAM, "NULL context");
    check(IOT_CoAP_SetTransmission(ctx, NULL) == IOTX_ERR_INVALID_PARAM, "NULL parameters");
    check(IOT_CoAP_GetTransmission(ctx, NULL) == IOTX_ERR_INVALID_PARAM, "NULL output");
    check(IOT_CoAP_GetTransmission(NULL, &got) == IOTX_ERR_INVALID_PARAM, "NULL context (get)");
    for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        uint32_t *fields = (uint32_t *)&bad;
        char what[64];
        bad = rfc;
        fields[invalid[i].field] = invalid[i].value;
        snprintf(what, sizeof(what), "field %d = %lu refused", invalid[i].field, (unsigned long)invalid[i].value);
        check(IOT_CoAP_SetTransmission(ctx, &bad) == IOTX_ERR_INVALID_PARAM, what);
        check(IOT_CoAP_GetTransmission(ctx, &got) == IOTX_SUCCESS && same(&got, &rfc), "nothing changed");
    }

    {
        const iotx_coap_transmission_t a = {300, 1000, 3, 0, 1000, 1000};
        const iotx_coap_transmission_t b = {500, 1000, 1, 0, 1000, 1000};
        const iotx_coap_transmission_t c = {400, 1000, 2, 1, 1000, 1000};
        timed_auth(ctx, 1, &a, 4500, 5500);
        timed_auth(ctx, 2, &b, 1500, 2300);
        timed_auth(ctx, 3, &c, 2800, 3600);
    }
    IOT_CoAP_Deinit(&ctx);
    printf("transmission: %d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
