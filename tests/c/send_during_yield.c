/*
 * A sender never waits for another thread's Yield: one thread sits in
 * IOT_CoAP_Yield (wait_time_ms 2000) while the main thread sends 20 CON
 * uplinks 100 ms apart, timing each IOT_CoAP_SendMessage.
 *
 * Usage: send_during_yield URL   (any scheme; coaps:// takes the CA from
 *                                 IOTX_DTLS_CA_FILE, as the reference HAL does)
 * Prints "send_during_yield: N/20 answered, longest SendMessage X ms (Yield
 * waits 2000 ms)"; exit 0 when all 20 were answered.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "iot_import.h"
#include "iot_export.h"

#include "test_device.h"

#define MESSAGES 20
#define YIELD_WAIT_MS 2000

static iotx_coap_context_t *g_ctx;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_answered; /* under g_lock */
static int g_stop;     /* under g_lock */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void on_response(void *arg, void *msg)
{
    iotx_coap_resp_code_t code = 0;
    (void)arg;
    if (IOT_CoAP_GetMessageCode(msg, &code) == IOTX_SUCCESS && code == IOTX_COAP_RESP_CODE_CONTENT) {
        pthread_mutex_lock(&g_lock);
        g_answered++;
        pthread_mutex_unlock(&g_lock);
    }
}

static int read_locked(int *v)
{
    int x;
    pthread_mutex_lock(&g_lock);
    x = *v;
    pthread_mutex_unlock(&g_lock);
    return x;
}

static void *yield_thread(void *arg)
{
    (void)arg;
    while (!read_locked(&g_stop)) {
        IOT_CoAP_Yield(g_ctx);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    static unsigned char payload[] = "{\"t\":1}";
    pthread_t yielder;
    iotx_message_t m;
    double longest = 0, deadline;
    int i, answered;

    if (argc != 2) {
        fprintf(stderr, "usage: send_during_yield URL\n");
        return 2;
    }
    g_ctx = test_device_init(argv[1], YIELD_WAIT_MS, NULL);
    if (g_ctx == NULL || IOT_CoAP_DeviceNameAuth(g_ctx) != IOTX_SUCCESS) {
        printf("send_during_yield: init or auth failed\n");
        return 1;
    }
    pthread_create(&yielder, NULL, yield_thread, NULL);
    HAL_SleepMs(200); /* the Yield thread is waiting by now */
    for (i = 0; i < MESSAGES; i++) {
        double t0, took;
        test_message(&m, payload, (unsigned short)strlen((char *)payload), on_response, NULL);
        t0 = now_ms();
        if (IOT_CoAP_SendMessage(g_ctx, (char *)TEST_TOPIC, &m) != IOTX_SUCCESS) {
            printf("send_during_yield: send %d refused\n", i);
        }
        took = now_ms() - t0;
        if (took > longest) {
            longest = took;
        }
        HAL_SleepMs(100);
    }
    deadline = now_ms() + 30000;
    while (read_locked(&g_answered) < MESSAGES && now_ms() < deadline) {
        HAL_SleepMs(20);
    }
    pthread_mutex_lock(&g_lock);
    g_stop = 1;
    pthread_mutex_unlock(&g_lock);
    pthread_join(yielder, NULL);
    IOT_CoAP_Deinit(&g_ctx);
    answered = read_locked(&g_answered);
    printf("send_during_yield: %d/%d answered, longest SendMessage %.1f ms (Yield waits %d ms)\n", answered,
           MESSAGES, longest, YIELD_WAIT_MS);
    return answered == MESSAGES ? 0 : 1;
}
