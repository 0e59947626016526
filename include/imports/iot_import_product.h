/*
 * Compatibility header: device identity storage ("product" HAL).
 *
 * The application, not the library, calls these: it stores the device's
 * credentials with HAL_Set* and reads them back with HAL_Get* to fill
 * iotx_deviceinfo_t. Each HAL_Get* buffer must hold the documented length
 * plus the terminating NUL; they return the string length.
 *
 * The reference HAL (hal/linux) returns, for a value never set, the
 * environment variable IOTX_PRODUCT_KEY, IOTX_PRODUCT_SECRET,
 * IOTX_DEVICE_NAME or IOTX_DEVICE_SECRET (empty when unset too):
 * 3.x-style programs read their identity from the HAL without setting it.
 */
#ifndef IOT_IMPORT_PRODUCT_H
#define IOT_IMPORT_PRODUCT_H

#include <stdint.h>

#if defined(__cplusplus)
extern "C" {
#endif

/* Longest p_path IOT_CoAP_SendMessage accepts (vendor value). */
#ifndef IOTX_URI_MAX_LEN
#define IOTX_URI_MAX_LEN (135)
#endif

#ifndef PID_STRLEN_MAX
#define PID_STRLEN_MAX (64)
#endif
#ifndef MID_STRLEN_MAX
#define MID_STRLEN_MAX (64)
#endif

int HAL_SetProductKey(char *product_key);
int HAL_SetDeviceName(char *device_name);
int HAL_SetDeviceSecret(char *device_secret);
int HAL_SetProductSecret(char *product_secret);

int HAL_GetProductKey(char product_key[20 + 1]);
int HAL_GetDeviceName(char device_name[32 + 1]);
int HAL_GetDeviceSecret(char device_secret[64 + 1]);
int HAL_GetProductSecret(char product_secret[64 + 1]);
/* "ProductKey.DeviceName" */
int HAL_GetDeviceID(char device_id[64 + 1]);
int HAL_GetPartnerID(char *pid_str);
int HAL_GetModuleID(char *mid_str);

#if defined(__cplusplus)
}
#endif

#endif /* IOT_IMPORT_PRODUCT_H */
