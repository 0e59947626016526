/*
 * Compatibility header (3.x header set): log levels, IOT_Ioctl options and
 * the process-wide calls of the vendor SDK's 3.x line.
 */
#ifndef IOTX_V3_INFRA_COMPAT_H
#define IOTX_V3_INFRA_COMPAT_H

#include "infra_defs.h"

#if defined(__cplusplus)
extern "C" {
#endif

/* 2.3 names kept by 3.x. */
#define IOTX_CLOUD_DOMAIN_SH                    IOTX_CLOUD_REGION_SHANGHAI
#define IOTX_CLOUD_DOMAIN_SG                    IOTX_CLOUD_REGION_SINGAPORE
#define IOTX_CLOUD_DOMAIN_JP                    IOTX_CLOUD_REGION_JAPAN
#define IOTX_CLOUD_DOMAIN_US                    IOTX_CLOUD_REGION_USA_WEST
#define IOTX_CLOUD_DOMAIN_GER                   IOTX_CLOUD_REGION_GERMANY
#define IOTX_IOCTL_SET_DOMAIN                   IOTX_IOCTL_SET_REGION
#define IOTX_IOCTL_GET_DOMAIN                   IOTX_IOCTL_GET_REGION
#define IOT_LOG_EMERG                           IOT_LOG_NONE

typedef enum _IOT_LogLevel {
    IOT_LOG_NONE = 0,
    IOT_LOG_CRIT,
    IOT_LOG_ERROR,
    IOT_LOG_WARNING,
    IOT_LOG_INFO,
    IOT_LOG_DEBUG
} IOT_LogLevel;

/* The numbering is 2.3's, extended; IOT_Ioctl serves both lines. Only the
 * region, dynamic-register and identity options apply to CoAP; the others
 * return FAIL_RETURN and change nothing. */
typedef enum {
    IOTX_IOCTL_SET_REGION,
    IOTX_IOCTL_GET_REGION,
    IOTX_IOCTL_SET_MQTT_DOMAIN,
    IOTX_IOCTL_SET_HTTP_DOMAIN,
    IOTX_IOCTL_SET_DYNAMIC_REGISTER,
    IOTX_IOCTL_GET_DYNAMIC_REGISTER,
    IOTX_IOCTL_RECV_PROP_REPLY,
    IOTX_IOCTL_RECV_EVENT_REPLY,
    IOTX_IOCTL_SEND_PROP_SET_REPLY,
    IOTX_IOCTL_SET_SUBDEV_SIGN,
    IOTX_IOCTL_GET_SUBDEV_LOGIN,
    IOTX_IOCTL_SET_OTA_DEV_ID,
    IOTX_IOCTL_FOTA_TIMEOUT_MS,
    IOTX_IOCTL_SET_CUSTOMIZE_INFO,
    IOTX_IOCTL_SET_MQTT_PORT,
    IOTX_IOCTL_SET_AWSS_ENABLE_INTERVAL,
    IOTX_IOCTL_SET_AWSS_CHANNEL_SCAN_INTERVAL,
    IOTX_IOCTL_SET_PROXY_REGISTER,
    IOTX_IOCTL_QUERY_DEVID,
    IOTX_IOCTL_SUB_USER_TOPIC,
    IOTX_IOCTL_SET_PRODUCT_KEY,
    IOTX_IOCTL_GET_PRODUCT_KEY,
    IOTX_IOCTL_SET_PRODUCT_SECRET,
    IOTX_IOCTL_GET_PRODUCT_SECRET,
    IOTX_IOCTL_SET_DEVICE_NAME,
    IOTX_IOCTL_GET_DEVICE_NAME,
    IOTX_IOCTL_SET_DEVICE_SECRET,
    IOTX_IOCTL_GET_DEVICE_SECRET
} iotx_ioctl_option_t;

typedef enum {
    HAL_AES_ENCRYPTION = 0,
    HAL_AES_DECRYPTION = 1
} AES_DIR_t;
#define AES_DECRYPTION                          HAL_AES_DECRYPTION
#define AES_ENCRYPTION                          HAL_AES_ENCRYPTION
typedef void *p_Aes128_t;

typedef struct _network_addr_t {
    unsigned char   addr[NETWORK_ADDR_LEN];
    unsigned short  port;
} NetworkAddr;

/* 0 / -1. */
int IOT_Ioctl(int option, void *data);
/* Stores the identity IOT_CoAP_Init falls back on; *info_ptr gets NULL
 * (CoAP has no MQTT connection parameters). 0 / -1. */
int IOT_SetupConnInfo(const char *product_key,
                      const char *device_name,
                      const char *device_secret,
                      void **info_ptr);

void IOT_SetLogLevel(IOT_LogLevel level);
void IOT_DumpMemoryStats(IOT_LogLevel level);
/* Real functions here (3.x made them macros): firmware of both lines
 * links against the same library. */
void IOT_OpenLog(const char *ident);
void IOT_CloseLog(void);

#if defined(__cplusplus)
}
#endif

#endif /* IOTX_V3_INFRA_COMPAT_H */
