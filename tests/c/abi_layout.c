/*
 * Compile-time check of the public C ABI against the figures of the
 * vendor SDK's layouts. Firmware objects compiled against
 * the vendor headers pass these structs to our library by pointer, so every
 * size, offset and constant below is load-bearing. The expected numbers are
 * written out by hand on purpose: deriving them from the headers under test
 * would check nothing.
 *
 * Build: cc -std=c11 -Wall -Wextra -Werror -I include tests/c/abi_layout.c
 *        c++ -std=c++11 -x c++ -Wall -Wextra -Werror -I include tests/c/abi_layout.c
 * Only compiled (and linked against the HAL prototypes' declarations, not
 * their definitions), so it needs neither the Rust library nor a HAL.
 */
#include "iot_import.h"
#include "iot_export.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#if defined(__cplusplus)
#define ABI_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define ABI_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

#define FIELD_SIZE(type, field) sizeof(((type *)0)->field)

/* ---- lengths -------------------------------------------------------------- */
ABI_ASSERT(IOTX_PRODUCT_KEY_LEN == 20, "IOTX_PRODUCT_KEY_LEN");
ABI_ASSERT(IOTX_DEVICE_NAME_LEN == 32, "IOTX_DEVICE_NAME_LEN");
ABI_ASSERT(IOTX_DEVICE_ID_LEN == 64, "IOTX_DEVICE_ID_LEN");
ABI_ASSERT(IOTX_DEVICE_SECRET_LEN == 64, "IOTX_DEVICE_SECRET_LEN");
ABI_ASSERT(IOTX_URI_MAX_LEN == 135, "IOTX_URI_MAX_LEN");
ABI_ASSERT(PRODUCT_KEY_LEN == 20, "PRODUCT_KEY_LEN");
ABI_ASSERT(DEVICE_NAME_LEN == 32, "DEVICE_NAME_LEN");
ABI_ASSERT(DEVICE_ID_LEN == 64, "DEVICE_ID_LEN");
ABI_ASSERT(DEVICE_SECRET_LEN == 64, "DEVICE_SECRET_LEN");
ABI_ASSERT(PRODUCT_SECRET_LEN == 64, "PRODUCT_SECRET_LEN");
ABI_ASSERT(MODULE_VENDOR_ID == 32, "MODULE_VENDOR_ID");

/* ---- enums: C enums are int-sized, and so must our typedefs be ------------ */
ABI_ASSERT(sizeof(IOT_LogLevel) == sizeof(int), "IOT_LogLevel size");
ABI_ASSERT(sizeof(iotx_ret_code_t) == sizeof(int), "iotx_ret_code_t size");
ABI_ASSERT(sizeof(iotx_content_type_t) == sizeof(int), "iotx_content_type_t size");
ABI_ASSERT(sizeof(iotx_msg_type_t) == sizeof(int), "iotx_msg_type_t size");
ABI_ASSERT(sizeof(iotx_coap_event_t) == sizeof(int), "iotx_coap_event_t size");
ABI_ASSERT(sizeof(iotx_coap_resp_code_t) == sizeof(int), "iotx_coap_resp_code_t size");

ABI_ASSERT(IOT_LOG_NONE == 0, "IOT_LOG_NONE");
ABI_ASSERT(IOT_LOG_EMERG == 0, "IOT_LOG_EMERG");
ABI_ASSERT(IOT_LOG_CRIT == 1, "IOT_LOG_CRIT");
ABI_ASSERT(IOT_LOG_ERROR == 2, "IOT_LOG_ERROR");
ABI_ASSERT(IOT_LOG_WARNING == 3, "IOT_LOG_WARNING");
ABI_ASSERT(IOT_LOG_INFO == 4, "IOT_LOG_INFO");
ABI_ASSERT(IOT_LOG_DEBUG == 5, "IOT_LOG_DEBUG");

ABI_ASSERT(IOTX_ERR_RECV_MSG_TIMEOUT == -9, "IOTX_ERR_RECV_MSG_TIMEOUT");
ABI_ASSERT(IOTX_ERR_SEND_MSG_FAILED == -8, "IOTX_ERR_SEND_MSG_FAILED");
ABI_ASSERT(IOTX_ERR_MSG_TOO_LOOG == -7, "IOTX_ERR_MSG_TOO_LOOG");
ABI_ASSERT(IOTX_ERR_URI_TOO_LOOG == -6, "IOTX_ERR_URI_TOO_LOOG");
ABI_ASSERT(IOTX_ERR_NOT_AUTHED == -5, "IOTX_ERR_NOT_AUTHED");
ABI_ASSERT(IOTX_ERR_AUTH_FAILED == -4, "IOTX_ERR_AUTH_FAILED");
ABI_ASSERT(IOTX_ERR_BUFF_TOO_SHORT == -3, "IOTX_ERR_BUFF_TOO_SHORT");
ABI_ASSERT(IOTX_ERR_NO_MEM == -2, "IOTX_ERR_NO_MEM");
ABI_ASSERT(IOTX_ERR_INVALID_PARAM == -1, "IOTX_ERR_INVALID_PARAM");
ABI_ASSERT(IOTX_SUCCESS == 0, "IOTX_SUCCESS");

ABI_ASSERT(IOTX_CONTENT_TYPE_JSON == 0, "IOTX_CONTENT_TYPE_JSON");
ABI_ASSERT(IOTX_CONTENT_TYPE_CBOR == 1, "IOTX_CONTENT_TYPE_CBOR");

ABI_ASSERT(IOTX_MESSAGE_CON == 0, "IOTX_MESSAGE_CON");
ABI_ASSERT(IOTX_MESSAGE_NON == 1, "IOTX_MESSAGE_NON");
ABI_ASSERT(IOTX_MESSAGE_ACK == 2, "IOTX_MESSAGE_ACK");
ABI_ASSERT(IOTX_MESSAGE_RST == 3, "IOTX_MESSAGE_RST");

ABI_ASSERT(IOTX_COAP_EVENT_SEND_FAILED == 0, "IOTX_COAP_EVENT_SEND_FAILED");
ABI_ASSERT(IOTX_COAP_EVENT_RECV_FAILED == 1, "IOTX_COAP_EVENT_RECV_FAILED");
ABI_ASSERT(IOTX_COAP_EVENT_AUTH_FAILED == 2, "IOTX_COAP_EVENT_AUTH_FAILED");

ABI_ASSERT(IOTX_COAP_RESP_CODE_CONTENT == 0x45, "IOTX_COAP_RESP_CODE_CONTENT");
ABI_ASSERT(IOTX_COAP_RESP_CODE_BAD_REQUEST == 0x80, "IOTX_COAP_RESP_CODE_BAD_REQUEST");
ABI_ASSERT(IOTX_COAP_RESP_CODE_UNAUTHORIZED == 0x81, "IOTX_COAP_RESP_CODE_UNAUTHORIZED");
ABI_ASSERT(IOTX_COAP_RESP_CODE_NOT_FOUND == 0x84, "IOTX_COAP_RESP_CODE_NOT_FOUND");
ABI_ASSERT(IOTX_COAP_RESP_CODE_URL_TOO_LONG == 0x8E, "IOTX_COAP_RESP_CODE_URL_TOO_LONG");
ABI_ASSERT(IOTX_COAP_RESP_CODE_INTERNAL_SERVER_ERROR == 0xA0,
           "IOTX_COAP_RESP_CODE_INTERNAL_SERVER_ERROR");

/* ---- 2.3: IOT_Ioctl options, regions, generic codes ----------------------- */
ABI_ASSERT(SUCCESS_RETURN == 0, "SUCCESS_RETURN");
ABI_ASSERT(FAIL_RETURN == -1, "FAIL_RETURN");
ABI_ASSERT(sizeof(iotx_ioctl_option_t) == sizeof(int), "iotx_ioctl_option_t size");
ABI_ASSERT(IOTX_IOCTL_SET_REGION == 0, "IOTX_IOCTL_SET_REGION");
ABI_ASSERT(IOTX_IOCTL_GET_REGION == 1, "IOTX_IOCTL_GET_REGION");
ABI_ASSERT(IOTX_IOCTL_SET_MQTT_DOMAIN == 2, "IOTX_IOCTL_SET_MQTT_DOMAIN");
ABI_ASSERT(IOTX_IOCTL_SET_HTTP_DOMAIN == 3, "IOTX_IOCTL_SET_HTTP_DOMAIN");
ABI_ASSERT(IOTX_IOCTL_SET_DYNAMIC_REGISTER == 4, "IOTX_IOCTL_SET_DYNAMIC_REGISTER");
ABI_ASSERT(IOTX_IOCTL_GET_DYNAMIC_REGISTER == 5, "IOTX_IOCTL_GET_DYNAMIC_REGISTER");
ABI_ASSERT(IOTX_IOCTL_RECV_PROP_REPLY == 6, "IOTX_IOCTL_RECV_PROP_REPLY");
ABI_ASSERT(IOTX_IOCTL_RECV_EVENT_REPLY == 7, "IOTX_IOCTL_RECV_EVENT_REPLY");
ABI_ASSERT(IOTX_IOCTL_SEND_PROP_REPLY == 8, "IOTX_IOCTL_SEND_PROP_REPLY");
ABI_ASSERT(IOTX_IOCTL_SET_SUBDEV_SIGN == 9, "IOTX_IOCTL_SET_SUBDEV_SIGN");
ABI_ASSERT(IOTX_IOCTL_GET_SUBDEV_LOGIN == 10, "IOTX_IOCTL_GET_SUBDEV_LOGIN");
ABI_ASSERT(IOTX_IOCTL_SET_DOMAIN == 0, "2.2 alias IOTX_IOCTL_SET_DOMAIN");
ABI_ASSERT(IOTX_CLOUD_REGION_SHANGHAI == 0, "IOTX_CLOUD_REGION_SHANGHAI");
ABI_ASSERT(IOTX_CLOUD_REGION_SINGAPORE == 1, "IOTX_CLOUD_REGION_SINGAPORE");
ABI_ASSERT(IOTX_CLOUD_REGION_JAPAN == 2, "IOTX_CLOUD_REGION_JAPAN");
ABI_ASSERT(IOTX_CLOUD_REGION_USA_WEST == 3, "IOTX_CLOUD_REGION_USA_WEST");
ABI_ASSERT(IOTX_CLOUD_REGION_GERMANY == 4, "IOTX_CLOUD_REGION_GERMANY");
ABI_ASSERT(IOTX_CLOUD_REGION_CUSTOM == 5, "IOTX_CLOUD_REGION_CUSTOM");
ABI_ASSERT(IOTX_CLOUD_DOMAIN_MAX == 6, "IOTX_CLOUD_DOMAIN_MAX");
ABI_ASSERT(IOTX_CLOUD_DOMAIN_GER == 4, "2.2 alias IOTX_CLOUD_DOMAIN_GER");
ABI_ASSERT(HOST_ADDRESS_LEN == 128 && CLIENT_ID_LEN == 256 && USER_NAME_LEN == 512
           && PASSWORD_LEN == 256, "2.3 connection-info lengths");
ABI_ASSERT(offsetof(iotx_conn_info_t, host_name) == 2, "conn_info.host_name");
ABI_ASSERT(offsetof(iotx_conn_info_t, password) == 2 + 129 + 257 + 513, "conn_info.password");

/* ---- DTLS codes ----------------------------------------------------------- */
ABI_ASSERT(DTLS_ERROR_BASE == 0x1000000, "DTLS_ERROR_BASE");
ABI_ASSERT(DTLS_SUCCESS == 0, "DTLS_SUCCESS");
ABI_ASSERT(DTLS_INVALID_PARAM == 0x1000001, "DTLS_INVALID_PARAM");
ABI_ASSERT(DTLS_INVALID_CA_CERTIFICATE == 0x1000002, "DTLS_INVALID_CA_CERTIFICATE");
ABI_ASSERT(DTLS_HANDSHAKE_IN_PROGRESS == 0x1000003, "DTLS_HANDSHAKE_IN_PROGRESS");
ABI_ASSERT(DTLS_HANDSHAKE_FAILED == 0x1000004, "DTLS_HANDSHAKE_FAILED");
ABI_ASSERT(DTLS_FATAL_ALERT_MESSAGE == 0x1000005, "DTLS_FATAL_ALERT_MESSAGE");
ABI_ASSERT(DTLS_PEER_CLOSE_NOTIFY == 0x1000006, "DTLS_PEER_CLOSE_NOTIFY");
ABI_ASSERT(DTLS_SESSION_CREATE_FAILED == 0x1000007, "DTLS_SESSION_CREATE_FAILED");
ABI_ASSERT(DTLS_READ_DATA_FAILED == 0x1000008, "DTLS_READ_DATA_FAILED");

/* ---- pointer-size-independent layouts ------------------------------------- */
ABI_ASSERT(sizeof(iotx_deviceinfo_t) == 184, "sizeof(iotx_deviceinfo_t) = 21+33+65+65");
ABI_ASSERT(offsetof(iotx_deviceinfo_t, product_key) == 0, "deviceinfo.product_key");
ABI_ASSERT(offsetof(iotx_deviceinfo_t, device_name) == 21, "deviceinfo.device_name");
ABI_ASSERT(offsetof(iotx_deviceinfo_t, device_id) == 54, "deviceinfo.device_id");
ABI_ASSERT(offsetof(iotx_deviceinfo_t, device_secret) == 119, "deviceinfo.device_secret");
ABI_ASSERT(FIELD_SIZE(iotx_deviceinfo_t, product_key) == 21, "deviceinfo.product_key size");
ABI_ASSERT(FIELD_SIZE(iotx_deviceinfo_t, device_name) == 33, "deviceinfo.device_name size");
ABI_ASSERT(FIELD_SIZE(iotx_deviceinfo_t, device_id) == 65, "deviceinfo.device_id size");
ABI_ASSERT(FIELD_SIZE(iotx_deviceinfo_t, device_secret) == 65, "deviceinfo.device_secret size");

ABI_ASSERT(sizeof(iotx_device_info_t) == 217, "sizeof(iotx_device_info_t) = 184+33");
ABI_ASSERT(offsetof(iotx_device_info_t, product_key) == 0, "device_info.product_key");
ABI_ASSERT(offsetof(iotx_device_info_t, device_name) == 21, "device_info.device_name");
ABI_ASSERT(offsetof(iotx_device_info_t, device_id) == 54, "device_info.device_id");
ABI_ASSERT(offsetof(iotx_device_info_t, device_secret) == 119, "device_info.device_secret");
ABI_ASSERT(offsetof(iotx_device_info_t, module_vendor_id) == 184, "device_info.module_vendor_id");
ABI_ASSERT(FIELD_SIZE(iotx_device_info_t, module_vendor_id) == 33, "module_vendor_id size");

ABI_ASSERT(FIELD_SIZE(iotx_message_t, payload_len) == 2, "payload_len is unsigned short");
ABI_ASSERT(FIELD_SIZE(iotx_coap_config_t, wait_time_ms) == sizeof(int), "wait_time_ms is int");
ABI_ASSERT(FIELD_SIZE(coap_dtls_options_t, port) == 2, "dtls port is unsigned short");

/* ---- pointer-size-dependent layouts --------------------------------------- */
#if UINTPTR_MAX == 0xffffffffffffffffu
/* LP64 (and LLP64: the structs hold no long) */
ABI_ASSERT(offsetof(iotx_coap_config_t, p_url) == 0, "config.p_url");
ABI_ASSERT(offsetof(iotx_coap_config_t, wait_time_ms) == 8, "config.wait_time_ms");
ABI_ASSERT(offsetof(iotx_coap_config_t, p_devinfo) == 16, "config.p_devinfo");
ABI_ASSERT(offsetof(iotx_coap_config_t, event_handle) == 24, "config.event_handle");
ABI_ASSERT(sizeof(iotx_coap_config_t) == 32, "sizeof(iotx_coap_config_t)");

ABI_ASSERT(offsetof(iotx_message_t, p_payload) == 0, "message.p_payload");
ABI_ASSERT(offsetof(iotx_message_t, payload_len) == 8, "message.payload_len");
ABI_ASSERT(offsetof(iotx_message_t, content_type) == 12, "message.content_type");
ABI_ASSERT(offsetof(iotx_message_t, msg_type) == 16, "message.msg_type");
ABI_ASSERT(offsetof(iotx_message_t, user_data) == 24, "message.user_data");
ABI_ASSERT(offsetof(iotx_message_t, resp_callback) == 32, "message.resp_callback");
ABI_ASSERT(sizeof(iotx_message_t) == 40, "sizeof(iotx_message_t)");

ABI_ASSERT(offsetof(coap_dtls_options_t, p_ca_cert_pem) == 0, "dtls.p_ca_cert_pem");
ABI_ASSERT(offsetof(coap_dtls_options_t, p_host) == 8, "dtls.p_host");
ABI_ASSERT(offsetof(coap_dtls_options_t, port) == 16, "dtls.port");
ABI_ASSERT(sizeof(coap_dtls_options_t) == 24, "sizeof(coap_dtls_options_t)");
#elif UINTPTR_MAX == 0xffffffffu
/* ILP32: 32-bit MCUs, the SDK's main audience */
ABI_ASSERT(offsetof(iotx_coap_config_t, p_url) == 0, "config.p_url");
ABI_ASSERT(offsetof(iotx_coap_config_t, wait_time_ms) == 4, "config.wait_time_ms");
ABI_ASSERT(offsetof(iotx_coap_config_t, p_devinfo) == 8, "config.p_devinfo");
ABI_ASSERT(offsetof(iotx_coap_config_t, event_handle) == 12, "config.event_handle");
ABI_ASSERT(sizeof(iotx_coap_config_t) == 16, "sizeof(iotx_coap_config_t)");

ABI_ASSERT(offsetof(iotx_message_t, p_payload) == 0, "message.p_payload");
ABI_ASSERT(offsetof(iotx_message_t, payload_len) == 4, "message.payload_len");
ABI_ASSERT(offsetof(iotx_message_t, content_type) == 8, "message.content_type");
ABI_ASSERT(offsetof(iotx_message_t, msg_type) == 12, "message.msg_type");
ABI_ASSERT(offsetof(iotx_message_t, user_data) == 16, "message.user_data");
ABI_ASSERT(offsetof(iotx_message_t, resp_callback) == 20, "message.resp_callback");
ABI_ASSERT(sizeof(iotx_message_t) == 24, "sizeof(iotx_message_t)");

ABI_ASSERT(offsetof(coap_dtls_options_t, p_ca_cert_pem) == 0, "dtls.p_ca_cert_pem");
ABI_ASSERT(offsetof(coap_dtls_options_t, p_host) == 4, "dtls.p_host");
ABI_ASSERT(offsetof(coap_dtls_options_t, port) == 8, "dtls.port");
ABI_ASSERT(sizeof(coap_dtls_options_t) == 12, "sizeof(coap_dtls_options_t)");
#else
#error "abi_layout: unsupported pointer size; add the expected layout here"
#endif

/*
 * Prototypes exactly as the vendor headers write them. Redeclaring a function with a
 * different type is a hard error in both C and C++, so this pins every
 * signature the firmware's platform layer and application were built for.
 */
#if defined(__cplusplus)
extern "C" {
#endif
iotx_coap_context_t *IOT_CoAP_Init(iotx_coap_config_t *p_config);
void IOT_CoAP_Deinit(iotx_coap_context_t **p_context);
int IOT_CoAP_DeviceNameAuth(iotx_coap_context_t *p_context);
int IOT_CoAP_Yield(iotx_coap_context_t *p_context);
int IOT_CoAP_SendMessage(iotx_coap_context_t *p_context, char *p_path, iotx_message_t *p_message);
int IOT_CoAP_GetMessagePayload(void *p_message, unsigned char **pp_payload, int *p_len);
int IOT_CoAP_GetMessageCode(void *p_message, iotx_coap_resp_code_t *p_resp_code);
void IOT_OpenLog(const char *ident);
void IOT_CloseLog(void);
void IOT_SetLogLevel(IOT_LogLevel level);
void IOT_DumpMemoryStats(IOT_LogLevel level);
int IOT_SetupConnInfo(const char *product_key, const char *device_name, const char *device_secret,
                      void **info_ptr);
int IOT_Ioctl(int option, void *data);
int IOT_CoAP_GetMessageToken(void *p_message, unsigned int *token);
uint32_t IOT_CoAP_GetCurToken(iotx_coap_context_t *p_context);

void *HAL_Malloc(uint32_t size);
void HAL_Free(void *ptr);
uint64_t HAL_UptimeMs(void);
void HAL_SleepMs(uint32_t ms);
void HAL_Srandom(uint32_t seed);
uint32_t HAL_Random(uint32_t region);
void HAL_Printf(const char *fmt, ...);
int HAL_Snprintf(char *str, const int len, const char *fmt, ...);
int HAL_Vsnprintf(char *str, const int len, const char *format, va_list ap);
void *HAL_MutexCreate(void);
void HAL_MutexDestroy(void *m);
void HAL_MutexLock(void *m);
void HAL_MutexUnlock(void *m);
intptr_t HAL_UDP_create(char *host, unsigned short port);
void HAL_UDP_close(intptr_t sock);
int HAL_UDP_write(intptr_t sock, const unsigned char *p_data, unsigned int datalen);
int HAL_UDP_readTimeout(intptr_t sock, unsigned char *p_data, unsigned int datalen,
                        unsigned int timeout_ms);
DTLSContext *HAL_DTLSSession_create(coap_dtls_options_t *p_options);
unsigned int HAL_DTLSSession_write(DTLSContext *ctx, const unsigned char *p_data,
                                   unsigned int *p_datalen);
unsigned int HAL_DTLSSession_read(DTLSContext *ctx, unsigned char *p_data,
                                  unsigned int *p_datalen, unsigned int timeout_ms);
unsigned int HAL_DTLSSession_free(DTLSContext *ctx);
int HAL_SetProductKey(char *);
int HAL_SetDeviceName(char *);
int HAL_SetDeviceSecret(char *);
int HAL_SetProductSecret(char *);
int HAL_GetProductKey(char pk[21]);
int HAL_GetDeviceName(char dn[33]);
int HAL_GetDeviceSecret(char ds[65]);
int HAL_GetProductSecret(char ps[65]);
int HAL_GetDeviceID(char id[65]);
int HAL_GetPartnerID(char *);
int HAL_GetModuleID(char *);
#if defined(__cplusplus)
}
#endif

/* Callback types must accept functions written with the vendor's signatures;
 * an incompatible assignment is an error under -Werror (C) or always (C++). */
static void vendor_event_handler(void *context, iotx_coap_event_t event, void *p_data)
{
    (void)context;
    (void)event;
    (void)p_data;
}

static void vendor_response_handler(void *p_arg, void *p_message)
{
    (void)p_arg;
    (void)p_message;
}

int main(void)
{
    iotx_coap_config_t config;
    iotx_message_t message;
    iotx_device_info_pt devinfo_pt = NULL;
    DTLSContext *dtls = NULL;

    config.event_handle = vendor_event_handler;
    message.resp_callback = vendor_response_handler;
    (void)config;
    (void)message;
    (void)devinfo_pt;
    (void)dtls;

    printf("abi_layout OK\n");
    return 0;
}
