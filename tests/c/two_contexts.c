/*
 * Two contexts in one process, each on its own thread: device A over plain
 * CoAP, device B over PSK. The vendor SDK keeps a global "current context",
 * so two live contexts mix up keys and tokens; here each must stay its own.
 *
 * Usage: two_contexts PLAIN_URL PSK_URL [REPLY_PAYLOAD]
 *
 * The emulator must know both devices (DEVICE_A_* and DEVICE_B_* below).
 * With REPLY_PAYLOAD (the emulator's --reply-payload), every response payload
 * must equal it, which in PSK mode means it was decrypted with B's own key.
 * The caller checks the emulator's log for who sent what; this program checks
 * that all 2 x UPLINKS got 2.05 and exits 0 if so.
 */
#include "iot_import.h"
#include "iot_export.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEVICE_A_PK "a1PlainPK01"
#define DEVICE_A_DN "devPlainA"
#define DEVICE_A_DS "plainSecretAplainSecretAplainSec"
#define DEVICE_B_PK "a1PskPK0002"
#define DEVICE_B_DN "devPskB"
#define DEVICE_B_DS "pskSecretBpskSecretBpskSecretBps"

#define UPLINKS 10
#define WAIT_MS 100
/* Yield turns after the last send before giving up: bounds a hang only. */
#define MAX_TURNS 600

typedef struct {
    const char *name;
    const char *url;
    const char *pk;
    const char *dn;
    const char *ds;
    const char *want_reply;
    /* Written only by this device's own thread (its callbacks run in its
     * Yield), read by main after join. */
    int answered;
    int ok;
    int bad_payload;
    int failed_sends;
    int result;
    /* Payloads must stay valid until handed to the network; kept per slot
     * so every uplink names its device and its index. */
    unsigned char payloads[UPLINKS][96];
} device_t;

static void on_response(void *arg, void *p_message)
{
    device_t *d = (device_t *)arg;
    iotx_coap_resp_code_t code = 0;
    unsigned char *payload = NULL;
    int len = 0;

    d->answered++;
    if (IOT_CoAP_GetMessageCode(p_message, &code) == IOTX_SUCCESS &&
        code == IOTX_COAP_RESP_CODE_CONTENT) {
        d->ok++;
    } else {
        printf("%s: response code 0x%x\n", d->name, (unsigned)code);
    }
    if (d->want_reply != NULL) {
        if (IOT_CoAP_GetMessagePayload(p_message, &payload, &len) != IOTX_SUCCESS ||
            payload == NULL || len != (int)strlen(d->want_reply) ||
            memcmp(payload, d->want_reply, (size_t)len) != 0) {
            d->bad_payload++;
            printf("%s: unexpected response payload (%d bytes): %.*s\n", d->name, len,
                   payload != NULL && len > 0 ? len : 0,
                   payload != NULL ? (const char *)payload : "");
        }
    }
    fflush(stdout);
}

static void *run_device(void *arg)
{
    device_t *d = (device_t *)arg;
    iotx_deviceinfo_t info;
    iotx_coap_config_t cfg;
    iotx_coap_context_t *ctx;
    iotx_message_t msg;
    char url[128];
    char path[IOTX_URI_MAX_LEN + 1];
    int i;
    int rc;
    int turns;

    d->result = 1;
    memset(&info, 0, sizeof(info));
    snprintf(info.product_key, sizeof(info.product_key), "%s", d->pk);
    snprintf(info.device_name, sizeof(info.device_name), "%s", d->dn);
    snprintf(info.device_secret, sizeof(info.device_secret), "%s", d->ds);
    snprintf(info.device_id, sizeof(info.device_id), "%s.%s", d->pk, d->dn);
    snprintf(url, sizeof(url), "%s", d->url);
    memset(&cfg, 0, sizeof(cfg));
    cfg.p_url = url;
    cfg.wait_time_ms = WAIT_MS;
    cfg.p_devinfo = (iotx_device_info_t *)&info;

    ctx = IOT_CoAP_Init(&cfg);
    if (ctx == NULL) {
        printf("%s: IOT_CoAP_Init(%s) failed\n", d->name, d->url);
        return NULL;
    }
    rc = IOT_CoAP_DeviceNameAuth(ctx);
    if (rc != IOTX_SUCCESS) {
        printf("%s: IOT_CoAP_DeviceNameAuth: %d\n", d->name, rc);
        IOT_CoAP_Deinit(&ctx);
        return NULL;
    }
    snprintf(path, sizeof(path), "/topic/%s/%s/update", d->pk, d->dn);
    for (i = 0; i < UPLINKS; i++) {
        int n = snprintf((char *)d->payloads[i], sizeof(d->payloads[i]),
                         "{\"device\":\"%s\",\"n\":%d}", d->dn, i);

        memset(&msg, 0, sizeof(msg));
        msg.p_payload = d->payloads[i];
        msg.payload_len = (unsigned short)n;
        msg.content_type = IOTX_CONTENT_TYPE_JSON;
        msg.msg_type = IOTX_MESSAGE_CON;
        msg.user_data = d;
        msg.resp_callback = on_response;
        rc = IOT_CoAP_SendMessage(ctx, path, &msg);
        if (rc != IOTX_SUCCESS) {
            printf("%s: IOT_CoAP_SendMessage #%d: %d\n", d->name, i, rc);
            d->failed_sends++;
        }
        /* Interleave receiving with sending, as firmware loops do. */
        (void)IOT_CoAP_Yield(ctx);
    }
    for (turns = 0; turns < MAX_TURNS && d->answered < UPLINKS - d->failed_sends; turns++) {
        (void)IOT_CoAP_Yield(ctx);
    }
    IOT_CoAP_Deinit(&ctx);
    if (ctx != NULL) {
        printf("%s: IOT_CoAP_Deinit left the context pointer set\n", d->name);
        return NULL;
    }
    printf("%s: %d sent, %d answered, %d with 2.05, %d bad payloads\n", d->name,
           UPLINKS - d->failed_sends, d->answered, d->ok, d->bad_payload);
    d->result = (d->failed_sends == 0 && d->answered == UPLINKS && d->ok == UPLINKS &&
                 d->bad_payload == 0)
                    ? 0
                    : 1;
    return NULL;
}

int main(int argc, char **argv)
{
    static device_t devices[2];
    pthread_t threads[2];
    int i;
    int failed = 0;

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s coap://HOST:PORT coap-psk://HOST:PORT [REPLY_PAYLOAD]\n",
                argv[0]);
        return 2;
    }
    IOT_SetLogLevel(IOT_LOG_ERROR);
    devices[0].name = "A(plain)";
    devices[0].url = argv[1];
    devices[0].pk = DEVICE_A_PK;
    devices[0].dn = DEVICE_A_DN;
    devices[0].ds = DEVICE_A_DS;
    devices[1].name = "B(psk)";
    devices[1].url = argv[2];
    devices[1].pk = DEVICE_B_PK;
    devices[1].dn = DEVICE_B_DN;
    devices[1].ds = DEVICE_B_DS;
    for (i = 0; i < 2; i++) {
        devices[i].want_reply = argc == 4 ? argv[3] : NULL;
        if (pthread_create(&threads[i], NULL, run_device, &devices[i]) != 0) {
            fprintf(stderr, "two_contexts: pthread_create failed\n");
            return 2;
        }
    }
    for (i = 0; i < 2; i++) {
        pthread_join(threads[i], NULL);
        failed |= devices[i].result;
    }
    printf("two_contexts: %s\n", failed ? "FAIL" : "PASS");
    return failed ? 1 : 0;
}
