/*
 * Compatibility header (3.x header set): lengths, generic return codes and
 * the device meta info of the vendor SDK's 3.x line.
 */
#ifndef IOTX_V3_INFRA_DEFS_H
#define IOTX_V3_INFRA_DEFS_H

#include "infra_types.h"

#if defined(__cplusplus)
extern "C" {
#endif

#define IOTX_PRODUCT_KEY_LEN            (20)
#define IOTX_DEVICE_NAME_LEN            (32)
#define IOTX_DEVICE_SECRET_LEN          (64)
#define IOTX_DEVICE_ID_LEN              (64)
#define IOTX_PRODUCT_SECRET_LEN         (64)
#define IOTX_PARTNER_ID_LEN             (64)
#define IOTX_MODULE_ID_LEN              (64)
#define IOTX_NETWORK_IF_LEN             (160)
#define IOTX_FIRMWARE_VER_LEN           (32)
#define IOTX_URI_MAX_LEN                (135)
#define IOTX_DOMAIN_MAX_LEN             (64)
#define IOTX_CUSTOMIZE_INFO_LEN         (80)

#ifndef _IN_
#define _IN_
#endif
#ifndef _OU_
#define _OU_
#endif
#ifndef _IN_OPT_
#define _IN_OPT_
#endif

#define NETWORK_ADDR_LEN                (16)

/* The generic codes of the vendor's iotx_err_t (the rest of that table
 * belongs to MQTT/HTTP/linkkit, which this library does not implement). */
typedef int iotx_err_t;
#define NULL_VALUE_ERROR                (-2)
#define FAIL_RETURN                     (-1)
#define SUCCESS_RETURN                  (0)

typedef struct _iotx_dev_meta_info {
    char product_key[IOTX_PRODUCT_KEY_LEN + 1];
    char product_secret[IOTX_PRODUCT_SECRET_LEN + 1];
    char device_name[IOTX_DEVICE_NAME_LEN + 1];
    char device_secret[IOTX_DEVICE_SECRET_LEN + 1];
} iotx_dev_meta_info_t;

/* Only IOTX_CLOUD_REGION_SHANGHAI serves CoAP; IOT_Ioctl refuses the rest. */
typedef enum {
    IOTX_CLOUD_REGION_SHANGHAI,
    IOTX_CLOUD_REGION_SINGAPORE,
    IOTX_CLOUD_REGION_JAPAN,
    IOTX_CLOUD_REGION_USA_WEST,
    IOTX_CLOUD_REGION_GERMANY,
    IOTX_CLOUD_REGION_CUSTOM,
    IOTX_CLOUD_DOMAIN_MAX
} iotx_mqtt_region_types_t;
typedef iotx_mqtt_region_types_t iotx_cloud_region_types_t;

#if defined(__cplusplus)
}
#endif

#endif /* IOTX_V3_INFRA_DEFS_H */
