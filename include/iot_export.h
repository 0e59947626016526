/*
 * Compatibility header: the vendor SDK's public "export" header.
 *
 * Firmware written for the vendor SDK includes this file unchanged; the real
 * definitions live in iotx_coap.h (generated from the Rust sources), so this
 * header only adds the vendor's historical names on top of them.
 */
#ifndef IOT_EXPORT_H
#define IOT_EXPORT_H

#include <stdint.h>

#include "exports/iot_export_errno.h"
#include "exports/iot_export_coap.h"

#if defined(__cplusplus)
extern "C" {
#endif

/* Older vendor code sizes its buffers with these unprefixed names. */
#ifndef PRODUCT_KEY_LEN
#define PRODUCT_KEY_LEN     (20)
#endif
#ifndef DEVICE_NAME_LEN
#define DEVICE_NAME_LEN     (32)
#endif
#ifndef DEVICE_ID_LEN
#define DEVICE_ID_LEN       (64)
#endif
#ifndef DEVICE_SECRET_LEN
#define DEVICE_SECRET_LEN   (64)
#endif
#ifndef PRODUCT_SECRET_LEN
#define PRODUCT_SECRET_LEN  (64)
#endif
#ifndef MODULE_VENDOR_ID
#define MODULE_VENDOR_ID    (32)
#endif

/* ---- 2.3: connection info and IOT_Ioctl ------------------------------------
 * IOT_SetupConnInfo, IOT_Ioctl, iotx_ioctl_option_t (IOTX_IOCTL_*) and
 * iotx_cloud_region_types_t (IOTX_CLOUD_REGION_*) come from iotx_coap.h.
 * The names below complete what 2.2/2.3 applications use around them. */
#ifndef HOST_ADDRESS_LEN
#define HOST_ADDRESS_LEN    (128)
#endif
#ifndef HOST_PORT_LEN
#define HOST_PORT_LEN       (8)
#endif
#ifndef CLIENT_ID_LEN
#define CLIENT_ID_LEN       (256)
#endif
#ifndef USER_NAME_LEN
#define USER_NAME_LEN       (512)
#endif
#ifndef PASSWORD_LEN
#define PASSWORD_LEN        (256)
#endif
#ifndef AESKEY_STR_LEN
#define AESKEY_STR_LEN      (32)
#endif
#ifndef AESKEY_HEX_LEN
#define AESKEY_HEX_LEN      (128 / 8)
#endif

/* 2.2 spelled the region option and values as "domain". */
#define IOTX_IOCTL_SET_DOMAIN   IOTX_IOCTL_SET_REGION
#define IOTX_IOCTL_GET_DOMAIN   IOTX_IOCTL_GET_REGION
#define IOTX_CLOUD_DOMAIN_SH    IOTX_CLOUD_REGION_SHANGHAI
#define IOTX_CLOUD_DOMAIN_SG    IOTX_CLOUD_REGION_SINGAPORE
#define IOTX_CLOUD_DOMAIN_JP    IOTX_CLOUD_REGION_JAPAN
#define IOTX_CLOUD_DOMAIN_US    IOTX_CLOUD_REGION_USA_WEST
#define IOTX_CLOUD_DOMAIN_GER   IOTX_CLOUD_REGION_GERMANY
typedef iotx_cloud_region_types_t iotx_cloud_domain_types_t;

/* The MQTT connection parameters IOT_SetupConnInfo returns in the vendor
 * SDK. A CoAP client has none: our IOT_SetupConnInfo sets *info_ptr to NULL.
 * The type is here so that code declaring one still compiles. */
typedef struct {
    uint16_t        port;
    char            host_name[HOST_ADDRESS_LEN + 1];
    char            client_id[CLIENT_ID_LEN + 1];
    char            username[USER_NAME_LEN + 1];
    char            password[PASSWORD_LEN + 1];
    const char     *pub_key;
} iotx_conn_info_t, *iotx_conn_info_pt;

#if defined(__cplusplus)
}
#endif

#endif /* IOT_EXPORT_H */
