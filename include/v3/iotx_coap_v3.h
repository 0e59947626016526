/*
 * The part of coap_api.h that 3.0.x and 3.1/3.2 share (not a vendor header;
 * include coap_api.h). The including coap_api.h defines
 * IOTX_V3_COAP_DEVINFO_T, the device-info type iotx_coap_config_t points to.
 *
 * Values and layouts equal the 2.x ones (checked by tests/c/abi_layout_v3.c)
 * and the calls are the same exported functions, so a 3.x object and a 2.x
 * object can share one library and one program.
 */
#ifndef IOTX_V3_COAP_COMMON_H
#define IOTX_V3_COAP_COMMON_H

#ifndef IOTX_V3_COAP_DEVINFO_T
#error "include coap_api.h, not iotx_coap_v3.h"
#endif

#include "infra_defs.h"
#include "infra_compat.h"

#if defined(__cplusplus)
extern "C" {
#endif

typedef enum {
    IOTX_ERR_RECV_MSG_TIMEOUT = -9,
    IOTX_ERR_SEND_MSG_FAILED  = -8,
    IOTX_ERR_MSG_TOO_LOOG     = -7,
    IOTX_ERR_URI_TOO_LOOG     = -6,
    IOTX_ERR_NOT_AUTHED       = -5,
    IOTX_ERR_AUTH_FAILED      = -4,
    IOTX_ERR_BUFF_TOO_SHORT   = -3,
    IOTX_ERR_NO_MEM           = -2,
    IOTX_ERR_INVALID_PARAM    = -1,
    IOTX_SUCCESS              = 0
} iotx_ret_code_t;

typedef enum {
    IOTX_CONTENT_TYPE_JSON,
    IOTX_CONTENT_TYPE_CBOR
} iotx_content_type_t;

typedef enum {
    IOTX_MESSAGE_CON = 0,
    IOTX_MESSAGE_NON = 1,
    IOTX_MESSAGE_ACK = 2,
    IOTX_MESSAGE_RST = 3
} iotx_msg_type_t;

typedef enum {
    IOTX_COAP_EVENT_SEND_FAILED = 0,
    IOTX_COAP_EVENT_RECV_FAILED = 1,
    IOTX_COAP_EVENT_AUTH_FAILED = 2
} iotx_coap_event_t;

/* The raw CoAP code byte (class << 5 | detail); any code may arrive. */
typedef enum {
    IOTX_COAP_RESP_CODE_CONTENT               = 0x45,
    IOTX_COAP_RESP_CODE_BAD_REQUEST           = 0x80,
    IOTX_COAP_RESP_CODE_UNAUTHORIZED          = 0x81,
    IOTX_COAP_RESP_CODE_NOT_FOUND             = 0x84,
    IOTX_COAP_RESP_CODE_URL_TOO_LONG          = 0x8E,
    IOTX_COAP_RESP_CODE_INTERNAL_SERVER_ERROR = 0xA0
} iotx_coap_resp_code_t;

typedef void (*iotx_event_handle_t)(void *context, iotx_coap_event_t event, void *p_data);

typedef struct {
    char                    *p_url;        /* NULL: the platform's DTLS endpoint for the product key */
    int                      wait_time_ms; /* how long one IOT_CoAP_Yield waits when idle; 0 = 2000 */
    IOTX_V3_COAP_DEVINFO_T  *p_devinfo;
    iotx_event_handle_t      event_handle;
} iotx_coap_config_t;

/* p_message is valid only during the call. */
typedef void (*iotx_response_callback_t)(void *p_arg, void *p_message);

typedef struct {
    unsigned char           *p_payload;
    unsigned short           payload_len;
    iotx_content_type_t      content_type;
    iotx_msg_type_t          msg_type;
    void                    *user_data;
    iotx_response_callback_t resp_callback;
} iotx_message_t;

typedef void iotx_coap_context_t;

iotx_coap_context_t *IOT_CoAP_Init(iotx_coap_config_t *p_config);
void IOT_CoAP_Deinit(iotx_coap_context_t **p_context);
int IOT_CoAP_DeviceNameAuth(iotx_coap_context_t *p_context);
int IOT_CoAP_Yield(iotx_coap_context_t *p_context);
int IOT_CoAP_SendMessage(iotx_coap_context_t *p_context, char *p_path, iotx_message_t *p_message);
int IOT_CoAP_GetMessagePayload(void *p_message, unsigned char **pp_payload, int *p_len);
int IOT_CoAP_GetMessageCode(void *p_message, iotx_coap_resp_code_t *p_resp_code);
/* The 3.x token calls: IOT_CoAP_GetCurToken right after a send gives the
 * value IOT_CoAP_GetMessageToken reports for that request's response. */
int IOT_CoAP_GetMessageToken(void *p_message, unsigned int *token);
uint32_t IOT_CoAP_GetCurToken(iotx_coap_context_t *p_context);

#if defined(__cplusplus)
}
#endif

#endif /* IOTX_V3_COAP_COMMON_H */
