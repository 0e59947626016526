/* The application: what a firmware team writes against the vendor SDK's
 * CoAP API (v2 headers), nothing library-specific. For each of plain CoAP
 * and the PSK mode it authenticates, sends 20 confirmable 64-byte uplinks
 * one at a time, waits out the token's lifetime and sends one more (the
 * platform answers it 4.01; the library must re-authenticate and resend),
 * then deinitialises and checks the heap is back where it started. It
 * prints the RAM it used and returns 0 (the QEMU exit status) if all went
 * well.
 *
 * Build-time settings (-D):
 *   IOTX_PLAIN_URL, IOTX_PSK_URL  "coap://127.0.0.1:N", "coap-psk://127.0.0.1:N"
 *   IOTX_TOKEN_TTL_MS             the platform's token lifetime (emulator --token-ttl)
 *   QEMU_TEST_ALLOC_FAILURE       instead, make the library's first allocation
 *                                 fail, to show how the device reports an abort
 *                                 (a fault, or the panic handler's line and then
 *                                 the watchdog)
 */
#include <string.h>

#include "board.h"
#include "iot_export.h"
#include "iot_import.h"

#ifndef IOTX_PLAIN_URL
#define IOTX_PLAIN_URL "coap://127.0.0.1:5683"
#endif
#ifndef IOTX_PSK_URL
#define IOTX_PSK_URL "coap-psk://127.0.0.1:5682"
#endif
#ifndef IOTX_TOKEN_TTL_MS
#define IOTX_TOKEN_TTL_MS 3000u
#endif

/* Info: the console shows each (re-)authentication. */
#ifndef IOTX_APP_LOG_LEVEL
#define IOTX_APP_LOG_LEVEL IOT_LOG_INFO
#endif

#define UPLINKS 20
#define PAYLOAD_LEN 64
#define RESPONSE_TIMEOUT_MS 15000u

static char g_pk[] = "a1TestPK001";
static char g_dn[] = "dev-001";
static char g_ds[] = "s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAB";

typedef struct {
    int answered;
    iotx_coap_resp_code_t code;
} response_t;

#ifndef QEMU_TEST_ALLOC_FAILURE
static char g_topic[] = "/topic/a1TestPK001/dev-001/update";

static void on_event(void *context, iotx_coap_event_t event, void *p_data)
{
    (void)context;
    (void)p_data;
    HAL_Printf("[app] event %d\r\n", (int)event);
}

static void on_response(void *arg, void *p_message)
{
    response_t *r = (response_t *)arg;
    iotx_coap_resp_code_t code = 0;

    IOT_CoAP_GetMessageCode(p_message, &code);
    r->code = code;
    r->answered = 1;
}

/* {"mode":"psk","n":7,"pad":"xxx...x"}, padded to exactly PAYLOAD_LEN. */
static void make_payload(unsigned char *out, const char *mode, int n)
{
    char *p = (char *)out;
    int len = HAL_Snprintf(p, PAYLOAD_LEN + 1, "{\"mode\":\"%s\",\"n\":%d,\"pad\":\"", mode, n);
    while (len < PAYLOAD_LEN - 2) {
        p[len++] = 'x';
    }
    p[len++] = '"';
    p[len++] = '}';
}

/* Sends one CON uplink and yields until its response; 1 if it is 2.05. */
static int send_and_wait(iotx_coap_context_t *ctx, const char *mode, int n)
{
    static unsigned char payload[PAYLOAD_LEN + 1];
    response_t resp = {0, 0};
    iotx_message_t msg;
    uint64_t deadline;
    int rc;

    make_payload(payload, mode, n);
    memset(&msg, 0, sizeof(msg));
    msg.p_payload = payload;
    msg.payload_len = PAYLOAD_LEN;
    msg.resp_callback = on_response;
    msg.msg_type = IOTX_MESSAGE_CON;
    msg.content_type = IOTX_CONTENT_TYPE_JSON;
    msg.user_data = &resp;
    rc = IOT_CoAP_SendMessage(ctx, g_topic, &msg);
    if (rc != IOTX_SUCCESS) {
        HAL_Printf("[app] %s: uplink %d not sent: %d\r\n", mode, n, rc);
        return 0;
    }
    deadline = HAL_UptimeMs() + RESPONSE_TIMEOUT_MS;
    while (!resp.answered && HAL_UptimeMs() < deadline) {
        IOT_CoAP_Yield(ctx);
    }
    if (!resp.answered || resp.code != IOTX_COAP_RESP_CODE_CONTENT) {
        HAL_Printf("[app] %s: uplink %d %s (code %d)\r\n", mode, n,
                   resp.answered ? "answered" : "unanswered", (int)resp.code);
        return 0;
    }
    return 1;
}

static void print_ram(const char *phase)
{
    heap_stats_t h;
    heap_get_stats(&h);
    HAL_Printf("[figures] phase=%s heap_peak=%lu heap_extent=%lu stack_hwm=%lu stack_at_hal=%lu\r\n",
               phase, (unsigned long)h.peak_in_use, (unsigned long)h.extent_peak,
               (unsigned long)board_stack_high_water(), (unsigned long)board_stack_depth_at_hal());
}

/* One session: auth, UPLINKS uplinks, one more after the token expired. */
static int run_mode(const char *mode, char *url)
{
    /* Static, as firmware keeps its configuration: the task's stack is
     * measured, and the device info alone is ~190 bytes. */
    static iotx_deviceinfo_t dev;
    static iotx_coap_config_t cfg;
    iotx_coap_context_t *ctx;
    char phase[24];
    int ok = 0;
    int n;

    memset(&dev, 0, sizeof(dev));
    strncpy(dev.product_key, g_pk, sizeof(dev.product_key) - 1);
    strncpy(dev.device_name, g_dn, sizeof(dev.device_name) - 1);
    strncpy(dev.device_secret, g_ds, sizeof(dev.device_secret) - 1);
    HAL_Snprintf(dev.device_id, sizeof(dev.device_id), "%s.%s", g_pk, g_dn);
    memset(&cfg, 0, sizeof(cfg));
    cfg.p_url = url;
    cfg.p_devinfo = (iotx_device_info_t *)&dev;
    cfg.wait_time_ms = 100;
    cfg.event_handle = on_event;

    ctx = IOT_CoAP_Init(&cfg);
    if (ctx == NULL) {
        HAL_Printf("[app] %s: IOT_CoAP_Init failed\r\n", mode);
        return 0;
    }
    if (IOT_CoAP_DeviceNameAuth(ctx) != IOTX_SUCCESS) {
        HAL_Printf("[app] %s: auth failed\r\n", mode);
        IOT_CoAP_Deinit(&ctx);
        return 0;
    }
    HAL_Printf("[app] %s: auth ok\r\n", mode);
    for (n = 1; n <= UPLINKS; n++) {
        ok += send_and_wait(ctx, mode, n);
    }
    HAL_Printf("[app] %s: %d/%d uplinks answered 2.05\r\n", mode, ok, UPLINKS);
    /* The RAM goal is stated for auth + 20 uplinks: figures so far. */
    HAL_Snprintf(phase, sizeof(phase), "%s-auth+%d", mode, UPLINKS);
    print_ram(phase);

    /* Outlive the token (the platform counts whole seconds). */
    HAL_SleepMs(IOTX_TOKEN_TTL_MS + 1500u);
    if (send_and_wait(ctx, mode, UPLINKS + 1)) {
        HAL_Printf("[app] %s: uplink after token expiry answered 2.05\r\n", mode);
        ok++;
    }
    IOT_CoAP_Deinit(&ctx);
    if (ctx != NULL) {
        HAL_Printf("[app] %s: IOT_CoAP_Deinit left the context pointer set\r\n", mode);
        return 0;
    }
    print_ram(mode);
    return ok == UPLINKS + 1;
}

#endif

#ifdef QEMU_TEST_ALLOC_FAILURE
/* A real abort path of the library: its allocator (over HAL_Malloc) gets
 * NULL, which Rust treats as fatal. The board's fault handler must say so. */
int main(void)
{
    iotx_deviceinfo_t dev;
    iotx_coap_config_t cfg;
    static char url[] = IOTX_PLAIN_URL;

    board_init();
    memset(&dev, 0, sizeof(dev));
    strncpy(dev.product_key, g_pk, sizeof(dev.product_key) - 1);
    strncpy(dev.device_name, g_dn, sizeof(dev.device_name) - 1);
    strncpy(dev.device_secret, g_ds, sizeof(dev.device_secret) - 1);
    memset(&cfg, 0, sizeof(cfg));
    cfg.p_url = url;
    cfg.p_devinfo = (iotx_device_info_t *)&dev;
    /* A handler that reports and then spins (other panic strategies) is
     * ended by the watchdog. */
    board_watchdog_arm(3000u);
    heap_set_limit(16u);
    HAL_Printf("[app] heap limited to 16 bytes: the library's first allocation fails\r\n");
    (void)IOT_CoAP_Init(&cfg);
    HAL_Printf("[app] IOT_CoAP_Init returned without aborting\r\n");
    return 1;
}
#else
int main(void)
{
    static char plain_url[] = IOTX_PLAIN_URL;
    static char psk_url[] = IOTX_PSK_URL;
    heap_stats_t start;
    heap_stats_t end;
    int ok = 1;

    board_init();
    heap_get_stats(&start);
    HAL_Printf("[app] " FW_BOARD_NAME " up; stack %lu bytes, heap arena %lu bytes\r\n",
               (unsigned long)board_stack_size(), (unsigned long)start.arena_size);
    IOT_SetLogLevel(IOTX_APP_LOG_LEVEL);

    /* Figures per mode: each starts from a fresh peak and a repainted stack. */
    ok &= run_mode("plain", plain_url);
    heap_reset_peak();
    board_stack_repaint();
    ok &= run_mode("psk", psk_url);

    heap_get_stats(&end);
    HAL_Printf("[app] heap after deinit: %lu bytes in %lu blocks (at start: %lu in %lu)\r\n",
               (unsigned long)end.in_use, (unsigned long)end.live_blocks,
               (unsigned long)start.in_use, (unsigned long)start.live_blocks);
    if (end.in_use != start.in_use || end.live_blocks != start.live_blocks) {
        HAL_Printf("[app] LEAK\r\n");
        ok = 0;
    }
    HAL_Printf("[app] %s\r\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
#endif
