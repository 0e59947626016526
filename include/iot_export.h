/*
 * Compatibility header: the vendor SDK's public "export" header.
 *
 * Firmware written for the vendor SDK includes this file unchanged; the real
 * definitions live in iotx_coap.h (generated from the Rust sources), so this
 * header only adds the vendor's historical names on top of them.
 */
#ifndef IOT_EXPORT_H
#define IOT_EXPORT_H

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

#if defined(__cplusplus)
}
#endif

#endif /* IOT_EXPORT_H */
