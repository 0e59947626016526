/* The emulator's test device (the one tests/common and with_sim.sh register)
 * and a context for it at URL: what the C test programs share. */
#ifndef IOTX_TEST_DEVICE_H
#define IOTX_TEST_DEVICE_H

#include <string.h>

#include "iot_import.h"
#include "iot_export.h"

/* docs/protocol.md's test device (the Rust tests' iotx-coap-testkit). */
#define TEST_PK "a1TestPK001"
#define TEST_DN "dev-001"
#define TEST_DS "s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAB"
#define TEST_DEVICE_ID TEST_PK "." TEST_DN
#define TEST_TOPIC "/topic/" TEST_PK "/" TEST_DN "/update"

/* NULL when IOT_CoAP_Init refuses. The device info must outlive the context
 * (the library copies it, but the vendor API never promised that). */
static inline iotx_coap_context_t *test_device_init(char *url, int wait_time_ms, iotx_event_handle_t on_event)
{
    static iotx_deviceinfo_t dev;
    iotx_coap_config_t cfg;
    strcpy(dev.product_key, TEST_PK);
    strcpy(dev.device_name, TEST_DN);
    strcpy(dev.device_id, TEST_DEVICE_ID);
    strcpy(dev.device_secret, TEST_DS);
    memset(&cfg, 0, sizeof(cfg));
    cfg.p_url = url;
    cfg.wait_time_ms = wait_time_ms;
    cfg.p_devinfo = (iotx_device_info_t *)&dev;
    cfg.event_handle = on_event;
    return IOT_CoAP_Init(&cfg);
}

/* resp_callback of test_uplink: counts 2.05 answers in the int behind arg. */
static inline void test_count_content(void *arg, void *msg)
{
    iotx_coap_resp_code_t code = IOTX_COAP_RESP_CODE_BAD_REQUEST;
    if (IOT_CoAP_GetMessageCode(msg, &code) == IOTX_SUCCESS && code == IOTX_COAP_RESP_CODE_CONTENT) {
        (*(int *)arg)++;
    }
}

/* A CON JSON message of payload[0..len) whose answer goes to cb(user, msg). */
static inline void test_message(iotx_message_t *m, unsigned char *payload, unsigned short len,
                                iotx_response_callback_t cb, void *user)
{
    memset(m, 0, sizeof(*m));
    m->p_payload = payload;
    m->payload_len = len;
    m->content_type = IOTX_CONTENT_TYPE_JSON;
    m->msg_type = IOTX_MESSAGE_CON;
    m->resp_callback = cb;
    m->user_data = user;
}

/* A CON JSON uplink of payload[0..len) ('x' bytes) whose 2.05 answers are
 * counted in *answered. */
static inline void test_uplink(iotx_message_t *m, unsigned char *payload, unsigned short len, int *answered)
{
    memset(payload, 'x', len);
    test_message(m, payload, len, test_count_content, answered);
}

#endif
