/*
 * Compatibility header (3.0.x surface): the CoAP client API. Use with
 * -I include/v3.0.
 *
 * 3.0.x sized device_id as IOTX_PRODUCT_KEY_LEN + IOTX_DEVICE_NAME_LEN + 2,
 * which moves device_secret (offset 108 instead of 2.x's 119). IOT_CoAP_Init
 * is therefore a distinct library entry point here, iotx_coap_init_v30, which
 * reads this layout; every other call is shared with 2.x and 3.1+.
 */
#ifndef IOTX_V30_COAP_API_H
#define IOTX_V30_COAP_API_H

#include "infra_defs.h"

#if defined(__cplusplus)
extern "C" {
#endif

typedef struct {
    char product_key[IOTX_PRODUCT_KEY_LEN + 1];
    char device_name[IOTX_DEVICE_NAME_LEN + 1];
    char device_id[IOTX_PRODUCT_KEY_LEN + IOTX_DEVICE_NAME_LEN + 2];
    char device_secret[IOTX_DEVICE_SECRET_LEN + 1];
} iotx_deviceinfo_t;

/* The library reads only the first four fields (iotx_deviceinfo_t's), so
 * applications may pass an iotx_deviceinfo_t cast to this type. */
typedef struct {
    char product_key[IOTX_PRODUCT_KEY_LEN + 1];
    char device_name[IOTX_DEVICE_NAME_LEN + 1];
    char device_id[IOTX_PRODUCT_KEY_LEN + IOTX_DEVICE_NAME_LEN + 2];
    char device_secret[IOTX_DEVICE_SECRET_LEN + 1];
    char module_vendor_id[IOTX_PARTNER_ID_LEN + 1];
} iotx_device_info_t;

#if defined(__cplusplus)
}
#endif

#define IOT_CoAP_Init iotx_coap_init_v30
#define IOTX_V3_COAP_DEVINFO_T iotx_device_info_t
#include "../v3/iotx_coap_v3.h"

#endif /* IOTX_V30_COAP_API_H */
