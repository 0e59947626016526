/*
 * Compile-time check of the 3.x header sets against the vendor's 3.x
 * layouts and values. Built twice: with -I include/v3 (3.1/3.2) and with
 * -I include/v3.0 -DIOTX_ABI_V30 (3.0.x, whose device info differs). The
 * expected numbers are written out by hand: deriving them from the headers
 * under test would check nothing.
 */
#include "coap_api.h"
#include "coap_wrapper.h"
#include "wrappers.h"

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
ABI_ASSERT(IOTX_DEVICE_SECRET_LEN == 64, "IOTX_DEVICE_SECRET_LEN");
ABI_ASSERT(IOTX_DEVICE_ID_LEN == 64, "IOTX_DEVICE_ID_LEN");
ABI_ASSERT(IOTX_PRODUCT_SECRET_LEN == 64, "IOTX_PRODUCT_SECRET_LEN");
ABI_ASSERT(IOTX_PARTNER_ID_LEN == 64, "IOTX_PARTNER_ID_LEN");
ABI_ASSERT(IOTX_URI_MAX_LEN == 135, "IOTX_URI_MAX_LEN");
ABI_ASSERT(NETWORK_ADDR_LEN == 16, "NETWORK_ADDR_LEN");

/* ---- generic return codes and enums ---------------------------------------- */
ABI_ASSERT(SUCCESS_RETURN == 0, "SUCCESS_RETURN");
ABI_ASSERT(FAIL_RETURN == -1, "FAIL_RETURN");
ABI_ASSERT(NULL_VALUE_ERROR == -2, "NULL_VALUE_ERROR");

ABI_ASSERT(sizeof(iotx_ret_code_t) == sizeof(int), "iotx_ret_code_t size");
ABI_ASSERT(sizeof(iotx_coap_resp_code_t) == sizeof(int), "iotx_coap_resp_code_t size");
ABI_ASSERT(sizeof(IOT_LogLevel) == sizeof(int), "IOT_LogLevel size");

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
ABI_ASSERT(IOTX_CONTENT_TYPE_JSON == 0 && IOTX_CONTENT_TYPE_CBOR == 1, "content types");
ABI_ASSERT(IOTX_MESSAGE_CON == 0 && IOTX_MESSAGE_NON == 1 && IOTX_MESSAGE_ACK == 2
           && IOTX_MESSAGE_RST == 3, "message types");
ABI_ASSERT(IOTX_COAP_EVENT_SEND_FAILED == 0 && IOTX_COAP_EVENT_RECV_FAILED == 1
           && IOTX_COAP_EVENT_AUTH_FAILED == 2, "events");
ABI_ASSERT(IOTX_COAP_RESP_CODE_CONTENT == 0x45, "RESP_CODE_CONTENT");
ABI_ASSERT(IOTX_COAP_RESP_CODE_BAD_REQUEST == 0x80, "RESP_CODE_BAD_REQUEST");
ABI_ASSERT(IOTX_COAP_RESP_CODE_UNAUTHORIZED == 0x81, "RESP_CODE_UNAUTHORIZED");
ABI_ASSERT(IOTX_COAP_RESP_CODE_NOT_FOUND == 0x84, "RESP_CODE_NOT_FOUND");
ABI_ASSERT(IOTX_COAP_RESP_CODE_URL_TOO_LONG == 0x8E, "RESP_CODE_URL_TOO_LONG");
ABI_ASSERT(IOTX_COAP_RESP_CODE_INTERNAL_SERVER_ERROR == 0xA0, "RESP_CODE_INTERNAL_SERVER_ERROR");

ABI_ASSERT(IOTX_CLOUD_REGION_SHANGHAI == 0, "REGION_SHANGHAI");
ABI_ASSERT(IOTX_CLOUD_REGION_SINGAPORE == 1, "REGION_SINGAPORE");
ABI_ASSERT(IOTX_CLOUD_REGION_GERMANY == 4, "REGION_GERMANY");
ABI_ASSERT(IOTX_CLOUD_REGION_CUSTOM == 5, "REGION_CUSTOM");
ABI_ASSERT(IOTX_CLOUD_DOMAIN_MAX == 6, "DOMAIN_MAX");
ABI_ASSERT(IOTX_CLOUD_DOMAIN_SH == 0, "2.3 alias DOMAIN_SH");

ABI_ASSERT(IOTX_IOCTL_SET_REGION == 0, "IOCTL_SET_REGION");
ABI_ASSERT(IOTX_IOCTL_GET_REGION == 1, "IOCTL_GET_REGION");
ABI_ASSERT(IOTX_IOCTL_SET_DOMAIN == 0, "2.3 alias IOCTL_SET_DOMAIN");
ABI_ASSERT(IOTX_IOCTL_SET_MQTT_DOMAIN == 2, "IOCTL_SET_MQTT_DOMAIN");
ABI_ASSERT(IOTX_IOCTL_SET_HTTP_DOMAIN == 3, "IOCTL_SET_HTTP_DOMAIN");
ABI_ASSERT(IOTX_IOCTL_SET_DYNAMIC_REGISTER == 4, "IOCTL_SET_DYNAMIC_REGISTER");
ABI_ASSERT(IOTX_IOCTL_GET_DYNAMIC_REGISTER == 5, "IOCTL_GET_DYNAMIC_REGISTER");
ABI_ASSERT(IOTX_IOCTL_SEND_PROP_SET_REPLY == 8, "IOCTL_SEND_PROP_SET_REPLY");
ABI_ASSERT(IOTX_IOCTL_GET_SUBDEV_LOGIN == 10, "IOCTL_GET_SUBDEV_LOGIN");
ABI_ASSERT(IOTX_IOCTL_SET_MQTT_PORT == 14, "IOCTL_SET_MQTT_PORT");
ABI_ASSERT(IOTX_IOCTL_SUB_USER_TOPIC == 19, "IOCTL_SUB_USER_TOPIC");
ABI_ASSERT(IOTX_IOCTL_SET_PRODUCT_KEY == 20, "IOCTL_SET_PRODUCT_KEY");
ABI_ASSERT(IOTX_IOCTL_GET_PRODUCT_KEY == 21, "IOCTL_GET_PRODUCT_KEY");
ABI_ASSERT(IOTX_IOCTL_SET_PRODUCT_SECRET == 22, "IOCTL_SET_PRODUCT_SECRET");
ABI_ASSERT(IOTX_IOCTL_GET_PRODUCT_SECRET == 23, "IOCTL_GET_PRODUCT_SECRET");
ABI_ASSERT(IOTX_IOCTL_SET_DEVICE_NAME == 24, "IOCTL_SET_DEVICE_NAME");
ABI_ASSERT(IOTX_IOCTL_GET_DEVICE_NAME == 25, "IOCTL_GET_DEVICE_NAME");
ABI_ASSERT(IOTX_IOCTL_SET_DEVICE_SECRET == 26, "IOCTL_SET_DEVICE_SECRET");
ABI_ASSERT(IOTX_IOCTL_GET_DEVICE_SECRET == 27, "IOCTL_GET_DEVICE_SECRET");

ABI_ASSERT(DTLS_ERROR_BASE == 0x1000000, "DTLS_ERROR_BASE");
ABI_ASSERT(DTLS_PEER_CLOSE_NOTIFY == 0x1000006, "DTLS_PEER_CLOSE_NOTIFY");
ABI_ASSERT(DTLS_READ_DATA_FAILED == 0x1000008, "DTLS_READ_DATA_FAILED");

/* ---- device info ---------------------------------------------------------- */
ABI_ASSERT(sizeof(iotx_dev_meta_info_t) == 21 + 65 + 33 + 65, "sizeof(iotx_dev_meta_info_t)");
ABI_ASSERT(offsetof(iotx_dev_meta_info_t, device_secret) == 119, "meta.device_secret");

#if defined(IOTX_ABI_V30)
/* 3.0.x: device_id is PK_LEN + DN_LEN + 2 = 54 bytes, so device_secret sits at 108. */
ABI_ASSERT(sizeof(iotx_deviceinfo_t) == 173, "sizeof(iotx_deviceinfo_t) = 21+33+54+65");
ABI_ASSERT(offsetof(iotx_deviceinfo_t, device_name) == 21, "deviceinfo.device_name");
ABI_ASSERT(offsetof(iotx_deviceinfo_t, device_id) == 54, "deviceinfo.device_id");
ABI_ASSERT(offsetof(iotx_deviceinfo_t, device_secret) == 108, "deviceinfo.device_secret");
ABI_ASSERT(FIELD_SIZE(iotx_deviceinfo_t, device_id) == 54, "deviceinfo.device_id size");
ABI_ASSERT(sizeof(iotx_device_info_t) == 238, "sizeof(iotx_device_info_t) = 173+65");
ABI_ASSERT(offsetof(iotx_device_info_t, device_secret) == 108, "device_info.device_secret");
ABI_ASSERT(offsetof(iotx_device_info_t, module_vendor_id) == 173, "device_info.module_vendor_id");
typedef iotx_device_info_t config_devinfo_t;
#else
/* 3.1/3.2: the 2.x four-field layout under a new name. */
ABI_ASSERT(sizeof(iotx_coap_device_info_t) == 184, "sizeof(iotx_coap_device_info_t)");
ABI_ASSERT(offsetof(iotx_coap_device_info_t, device_name) == 21, "coap_device_info.device_name");
ABI_ASSERT(offsetof(iotx_coap_device_info_t, device_id) == 54, "coap_device_info.device_id");
ABI_ASSERT(offsetof(iotx_coap_device_info_t, device_secret) == 119, "coap_device_info.device_secret");
typedef iotx_coap_device_info_t config_devinfo_t;
#endif

ABI_ASSERT(FIELD_SIZE(iotx_message_t, payload_len) == 2, "payload_len is unsigned short");
ABI_ASSERT(FIELD_SIZE(NetworkAddr, port) == 2, "NetworkAddr.port");
ABI_ASSERT(offsetof(NetworkAddr, port) == 16, "NetworkAddr.port offset");

#if UINTPTR_MAX == 0xffffffffffffffffu
ABI_ASSERT(offsetof(iotx_coap_config_t, wait_time_ms) == 8, "config.wait_time_ms");
ABI_ASSERT(offsetof(iotx_coap_config_t, p_devinfo) == 16, "config.p_devinfo");
ABI_ASSERT(offsetof(iotx_coap_config_t, event_handle) == 24, "config.event_handle");
ABI_ASSERT(sizeof(iotx_coap_config_t) == 32, "sizeof(iotx_coap_config_t)");
ABI_ASSERT(offsetof(iotx_message_t, content_type) == 12, "message.content_type");
ABI_ASSERT(offsetof(iotx_message_t, user_data) == 24, "message.user_data");
ABI_ASSERT(offsetof(iotx_message_t, resp_callback) == 32, "message.resp_callback");
ABI_ASSERT(sizeof(iotx_message_t) == 40, "sizeof(iotx_message_t)");
ABI_ASSERT(sizeof(coap_dtls_options_t) == 24, "sizeof(coap_dtls_options_t)");
ABI_ASSERT(sizeof(dtls_hooks_t) == 16, "sizeof(dtls_hooks_t)");
#elif UINTPTR_MAX == 0xffffffffu
ABI_ASSERT(offsetof(iotx_coap_config_t, wait_time_ms) == 4, "config.wait_time_ms");
ABI_ASSERT(offsetof(iotx_coap_config_t, p_devinfo) == 8, "config.p_devinfo");
ABI_ASSERT(offsetof(iotx_coap_config_t, event_handle) == 12, "config.event_handle");
ABI_ASSERT(sizeof(iotx_coap_config_t) == 16, "sizeof(iotx_coap_config_t)");
ABI_ASSERT(offsetof(iotx_message_t, content_type) == 8, "message.content_type");
ABI_ASSERT(offsetof(iotx_message_t, user_data) == 16, "message.user_data");
ABI_ASSERT(offsetof(iotx_message_t, resp_callback) == 20, "message.resp_callback");
ABI_ASSERT(sizeof(iotx_message_t) == 24, "sizeof(iotx_message_t)");
ABI_ASSERT(sizeof(coap_dtls_options_t) == 12, "sizeof(coap_dtls_options_t)");
ABI_ASSERT(sizeof(dtls_hooks_t) == 8, "sizeof(dtls_hooks_t)");
#else
#error "abi_layout_v3: unsupported pointer size"
#endif

/* Prototypes as the vendor's 3.x headers write them: a redeclaration with
 * another type is a hard error. (In the 3.0.x set IOT_CoAP_Init is a macro
 * for the library's 3.0 entry point; the line below pins that one.) */
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
int IOT_CoAP_GetMessageToken(void *p_message, unsigned int *token);
uint32_t IOT_CoAP_GetCurToken(iotx_coap_context_t *p_context);
int IOT_Ioctl(int option, void *data);
int IOT_SetupConnInfo(const char *product_key, const char *device_name, const char *device_secret,
                      void **info_ptr);
void IOT_SetLogLevel(IOT_LogLevel level);
void IOT_DumpMemoryStats(IOT_LogLevel level);

int HAL_SetProductKey(char *product_key);
int HAL_SetDeviceName(char *device_name);
int HAL_SetDeviceSecret(char *device_secret);
int HAL_GetProductKey(char product_key[IOTX_PRODUCT_KEY_LEN + 1]);
int HAL_GetDeviceName(char device_name[IOTX_DEVICE_NAME_LEN + 1]);
int HAL_GetDeviceSecret(char device_secret[IOTX_DEVICE_SECRET_LEN + 1]);
DLL_HAL_API int HAL_DTLSHooks_set(dtls_hooks_t *hooks);
DLL_HAL_API DTLSContext *HAL_DTLSSession_create(coap_dtls_options_t *p_options);
DLL_HAL_API unsigned int HAL_DTLSSession_write(DTLSContext *context, const unsigned char *p_data,
                                               unsigned int *p_datalen);
DLL_HAL_API unsigned int HAL_DTLSSession_read(DTLSContext *context, unsigned char *p_data,
                                              unsigned int *p_datalen, unsigned int timeout_ms);
DLL_HAL_API unsigned int HAL_DTLSSession_free(DTLSContext *context);
intptr_t HAL_UDP_create(char *host, unsigned short port);
intptr_t HAL_UDP_create_without_connect(const char *host, unsigned short port);
int HAL_UDP_write(intptr_t p_socket, const unsigned char *p_data, unsigned int datalen);
int HAL_UDP_readTimeout(intptr_t p_socket, unsigned char *p_data, unsigned int datalen,
                        unsigned int timeout);
int HAL_UDP_close_without_connect(intptr_t sockfd);
int HAL_UDP_recvfrom(intptr_t sockfd, NetworkAddr *p_remote, unsigned char *p_data,
                     unsigned int datalen, unsigned int timeout_ms);
int HAL_UDP_sendto(intptr_t sockfd, const NetworkAddr *p_remote, const unsigned char *p_data,
                   unsigned int datalen, unsigned int timeout_ms);
void *HAL_Malloc(uint32_t size);
void HAL_Free(void *ptr);
void HAL_SleepMs(uint32_t ms);
uint64_t HAL_UptimeMs(void);
void HAL_Srandom(uint32_t seed);
uint32_t HAL_Random(uint32_t region);
void *HAL_MutexCreate(void);
void HAL_MutexDestroy(void *mutex);
void HAL_MutexLock(void *mutex);
void HAL_MutexUnlock(void *mutex);
#if defined(__cplusplus)
}
#endif

/* The config must point at this set's device-info type. */
static int config_points_at_devinfo(void)
{
    static config_devinfo_t dev;
    iotx_coap_config_t config;

    config.p_devinfo = &dev;
    return config.p_devinfo == &dev;
}

int main(void)
{
    if (!config_points_at_devinfo()) {
        return 1;
    }
#if defined(IOTX_ABI_V30)
    printf("abi_layout_v3 (3.0.x) OK\n");
#else
    printf("abi_layout_v3 (3.1/3.2) OK\n");
#endif
    return 0;
}
