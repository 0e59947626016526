/*
 * One context shared by threads: YIELDERS threads calling Yield (the vendor
 * guide says to call it wherever the firmware needs to receive data, so
 * several receivers on one context are a normal case), SENDERS sender
 * threads, and a response callback that itself sends. Checks that all of
 * it is safe (no deadlock, no lost or duplicated response) by counting
 * exactly TOTAL 2.05 responses.
 *
 * Usage: threads URL [YIELDERS SENDERS PER_SENDER]   (default 1 2 200)
 *        URL: a listener of an emulator that knows the test device of
 *        docs/protocol.md, a1TestPK001/dev-001; coaps:// takes the CA from
 *        IOTX_DTLS_CA_FILE, as the reference HAL does.
 *
 * Counts: SENDERS x PER_SENDER messages from the sender threads; the
 * callback sends once for the 1st, 6th, 11th, ... response (every 5th,
 * counting from the first) up to CALLBACK_SENDS = 100. With at least 400
 * sender messages, response n = 496 triggers the 100th such send, which can
 * be answered, so the total is exactly SENDERS x PER_SENDER + 100.
 * (Counting from the 5th response instead would need the last response to
 * trigger the last message: impossible.)
 */
#include "iot_import.h"
#include "iot_export.h"
#include "test_device.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_PATH "/topic/" TEST_PK "/" TEST_DN "/update"

#define MAX_THREADS 16
#define CALLBACK_EVERY 5
#define CALLBACK_SENDS 100
#define WAIT_MS 50
/* A give-up time, not a performance assertion: per 1,000 messages. A
 * deadlock does not end here (joining the threads hangs): the test's hard
 * timeout catches it. */
#define DEADLINE_MS_PER_1000 60000

static int g_yielders = 1;
static int g_senders = 2;
static int g_per_sender = 200;
static int g_total;

static iotx_coap_context_t *g_ctx;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
/* All counters below are under g_lock. */
static int g_stop;
static int g_responses;
static int g_ok;
static int g_bad_code;
static int g_triggers;
static int g_callback_sent;
/* Callback sends refused with NO_MEM: blocking in the callback would stall
 * the Yield thread that frees the window, so main re-sends these. */
static int g_deferred;
static int g_main_resent;
static int g_send_errors;
static int g_send_failed_events;

static char g_path[] = TEST_PATH;
static unsigned char g_payload_sender[] = "{\"from\":\"sender\"}";
static unsigned char g_payload_callback[] = "{\"from\":\"callback\"}";
static unsigned char g_payload_resent[] = "{\"from\":\"main\"}";

static void on_response(void *arg, void *p_message);

static int send_one(unsigned char *payload)
{
    iotx_message_t msg;

    memset(&msg, 0, sizeof(msg));
    msg.p_payload = payload;
    msg.payload_len = (unsigned short)strlen((const char *)payload);
    msg.content_type = IOTX_CONTENT_TYPE_JSON;
    msg.msg_type = IOTX_MESSAGE_CON;
    msg.user_data = NULL;
    msg.resp_callback = on_response;
    return IOT_CoAP_SendMessage(g_ctx, g_path, &msg);
}

static void on_response(void *arg, void *p_message)
{
    iotx_coap_resp_code_t code = 0;
    int trigger = 0;
    int rc;

    (void)arg;
    rc = IOT_CoAP_GetMessageCode(p_message, &code);
    pthread_mutex_lock(&g_lock);
    g_responses++;
    if (rc == IOTX_SUCCESS && code == IOTX_COAP_RESP_CODE_CONTENT) {
        g_ok++;
    } else {
        g_bad_code++;
    }
    if (g_responses % CALLBACK_EVERY == 1 && g_triggers < CALLBACK_SENDS) {
        g_triggers++;
        trigger = 1;
    }
    pthread_mutex_unlock(&g_lock);

    if (!trigger) {
        return;
    }
    /* Our own lock is not held here: the library may call back into us. */
    rc = send_one(g_payload_callback);
    pthread_mutex_lock(&g_lock);
    if (rc == IOTX_SUCCESS) {
        g_callback_sent++;
    } else if (rc == IOTX_ERR_NO_MEM) {
        g_deferred++;
    } else {
        g_send_errors++;
        printf("threads: SendMessage from callback: %d\n", rc);
    }
    pthread_mutex_unlock(&g_lock);
}

static void on_event(void *context, iotx_coap_event_t event, void *p_data)
{
    (void)context;
    (void)p_data;
    if (event == IOTX_COAP_EVENT_SEND_FAILED) {
        pthread_mutex_lock(&g_lock);
        g_send_failed_events++;
        pthread_mutex_unlock(&g_lock);
    }
}

static int stopping(void)
{
    int s;

    pthread_mutex_lock(&g_lock);
    s = g_stop;
    pthread_mutex_unlock(&g_lock);
    return s;
}

static void *yield_thread(void *arg)
{
    (void)arg;
    while (!stopping()) {
        (void)IOT_CoAP_Yield(g_ctx);
    }
    return NULL;
}

static void *sender_thread(void *arg)
{
    int i;
    int rc;

    (void)arg;
    for (i = 0; i < g_per_sender && !stopping(); i++) {
        for (;;) {
            rc = send_one(g_payload_sender);
            if (rc != IOTX_ERR_NO_MEM || stopping()) {
                break;
            }
            /* Window full: the Yield thread frees it as responses arrive. */
            HAL_SleepMs(1);
        }
        if (rc != IOTX_SUCCESS) {
            pthread_mutex_lock(&g_lock);
            g_send_errors++;
            pthread_mutex_unlock(&g_lock);
            printf("threads: SendMessage from sender: %d\n", rc);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    iotx_deviceinfo_t info;
    iotx_coap_config_t cfg;
    pthread_t yielders[MAX_THREADS];
    pthread_t senders[MAX_THREADS];
    char url[128];
    uint64_t deadline;
    uint64_t deadline_ms;
    int i;
    int ok;
    int done = 0;
    int rc;

    if (argc != 2 && argc != 5) {
        fprintf(stderr, "usage: %s URL [YIELDERS SENDERS PER_SENDER]\n", argv[0]);
        return 2;
    }
    if (argc == 5) {
        g_yielders = atoi(argv[2]);
        g_senders = atoi(argv[3]);
        g_per_sender = atoi(argv[4]);
    }
    if (g_yielders < 1 || g_yielders > MAX_THREADS || g_senders < 1 || g_senders > MAX_THREADS ||
        g_senders * g_per_sender < 400) {
        fprintf(stderr, "threads: 1..%d threads each, at least 400 sender messages\n", MAX_THREADS);
        return 2;
    }
    g_total = g_senders * g_per_sender + CALLBACK_SENDS;
    deadline_ms = (uint64_t)DEADLINE_MS_PER_1000 * (uint64_t)(g_total / 1000 + 1);
    IOT_SetLogLevel(IOT_LOG_ERROR);
    memset(&info, 0, sizeof(info));
    snprintf(info.product_key, sizeof(info.product_key), "%s", TEST_PK);
    snprintf(info.device_name, sizeof(info.device_name), "%s", TEST_DN);
    snprintf(info.device_secret, sizeof(info.device_secret), "%s", TEST_DS);
    snprintf(info.device_id, sizeof(info.device_id), "%s.%s", TEST_PK, TEST_DN);
    snprintf(url, sizeof(url), "%s", argv[1]);
    memset(&cfg, 0, sizeof(cfg));
    cfg.p_url = url;
    cfg.wait_time_ms = WAIT_MS;
    cfg.p_devinfo = (iotx_device_info_t *)&info;
    cfg.event_handle = on_event;

    g_ctx = IOT_CoAP_Init(&cfg);
    if (g_ctx == NULL) {
        printf("threads: IOT_CoAP_Init failed\n");
        return 1;
    }
    rc = IOT_CoAP_DeviceNameAuth(g_ctx);
    if (rc != IOTX_SUCCESS) {
        printf("threads: IOT_CoAP_DeviceNameAuth: %d\n", rc);
        IOT_CoAP_Deinit(&g_ctx);
        return 1;
    }

    for (i = 0; i < g_yielders; i++) {
        if (pthread_create(&yielders[i], NULL, yield_thread, NULL) != 0) {
            fprintf(stderr, "threads: pthread_create failed\n");
            return 2;
        }
    }
    for (i = 0; i < g_senders; i++) {
        if (pthread_create(&senders[i], NULL, sender_thread, NULL) != 0) {
            fprintf(stderr, "threads: pthread_create failed\n");
            return 2;
        }
    }

    deadline = HAL_UptimeMs() + deadline_ms;
    while (HAL_UptimeMs() < deadline) {
        int resend = 0;

        pthread_mutex_lock(&g_lock);
        done = g_ok >= g_total || g_send_errors > 0;
        if (g_deferred > 0) {
            g_deferred--;
            resend = 1;
        }
        pthread_mutex_unlock(&g_lock);
        if (done) {
            break;
        }
        if (resend) {
            rc = send_one(g_payload_resent);
            pthread_mutex_lock(&g_lock);
            if (rc == IOTX_SUCCESS) {
                g_main_resent++;
            } else {
                /* Still full (NO_MEM) or worse: put it back and look again. */
                g_deferred++;
                if (rc != IOTX_ERR_NO_MEM) {
                    g_send_errors++;
                }
            }
            pthread_mutex_unlock(&g_lock);
            if (rc == IOTX_SUCCESS) {
                continue;
            }
        }
        HAL_SleepMs(5);
    }

    pthread_mutex_lock(&g_lock);
    g_stop = 1;
    pthread_mutex_unlock(&g_lock);
    for (i = 0; i < g_senders; i++) {
        pthread_join(senders[i], NULL);
    }
    for (i = 0; i < g_yielders; i++) {
        pthread_join(yielders[i], NULL);
    }
    IOT_CoAP_Deinit(&g_ctx);

    pthread_mutex_lock(&g_lock);
    printf("threads: %d Yield threads, %d senders x %d; %d responses (%d with 2.05, %d other), callback triggers %d "
           "(%d sent in the callback, %d re-sent by main), send errors %d, "
           "SEND_FAILED events %d\n",
           g_yielders, g_senders, g_per_sender, g_responses, g_ok, g_bad_code, g_triggers, g_callback_sent, g_main_resent,
           g_send_errors, g_send_failed_events);
    ok = g_ok == g_total && g_responses == g_total && g_triggers == CALLBACK_SENDS &&
         g_callback_sent + g_main_resent == CALLBACK_SENDS && g_send_errors == 0 &&
         g_ctx == NULL;
    /* Every callback trigger must have run inside a callback. */
    if (g_callback_sent == 0) {
        printf("threads: no SendMessage succeeded from inside a callback\n");
        ok = 0;
    }
    pthread_mutex_unlock(&g_lock);
    if (!done) {
        printf("threads: gave up after %llu ms\n", (unsigned long long)deadline_ms);
    }
    printf("threads: %s\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
