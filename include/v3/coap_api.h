/*
 * Compatibility header (3.x header set, 3.1/3.2 surface): the CoAP client
 * API. Use with -I include/v3. 3.0.x firmware uses include/v3.0 instead:
 * its device-info layout differs.
 */
#ifndef IOTX_V3_COAP_API_H
#define IOTX_V3_COAP_API_H

#include "infra_defs.h"

#if defined(__cplusplus)
extern "C" {
#endif

/* Same layout as 2.x iotx_deviceinfo_t. */
typedef struct {
    char product_key[IOTX_PRODUCT_KEY_LEN + 1];
    char device_name[IOTX_DEVICE_NAME_LEN + 1];
    char device_id[IOTX_DEVICE_ID_LEN + 1];
    char device_secret[IOTX_DEVICE_SECRET_LEN + 1];
} iotx_coap_device_info_t;

#if defined(__cplusplus)
}
#endif

#define IOTX_V3_COAP_DEVINFO_T iotx_coap_device_info_t
#include "iotx_coap_v3.h"

#endif /* IOTX_V3_COAP_API_H */
