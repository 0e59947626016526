/*
 * Compatibility header (3.x header set): the platform functions ("HAL")
 * that 3.x firmware implements and calls. Same prototypes as the 2.x
 * iot_import.h, so one platform layer serves both header sets and the
 * library calls the same functions for either.
 */
#ifndef IOTX_V3_WRAPPERS_H
#define IOTX_V3_WRAPPERS_H

#include <stdarg.h>

#include "infra_types.h"
#include "infra_defs.h"
#include "infra_compat.h"
#include "wrappers_defs.h"
#include "../imports/iot_import_udp.h"

#if defined(__GNUC__)
#define IOTX_V3_PRINTF_LIKE(fmt_idx, arg_idx) __attribute__((format(printf, fmt_idx, arg_idx)))
#else
#define IOTX_V3_PRINTF_LIKE(fmt_idx, arg_idx)
#endif

#if defined(__cplusplus)
extern "C" {
#endif

void *HAL_Malloc(uint32_t size);
void HAL_Free(void *ptr);
uint64_t HAL_UptimeMs(void);
void HAL_SleepMs(uint32_t ms);
void HAL_Srandom(uint32_t seed);
uint32_t HAL_Random(uint32_t region);

void HAL_Printf(const char *fmt, ...) IOTX_V3_PRINTF_LIKE(1, 2);
int HAL_Snprintf(char *str, const int len, const char *fmt, ...) IOTX_V3_PRINTF_LIKE(3, 4);
int HAL_Vsnprintf(char *str, const int len, const char *format, va_list ap);

void *HAL_MutexCreate(void);
void HAL_MutexDestroy(void *mutex);
void HAL_MutexLock(void *mutex);
void HAL_MutexUnlock(void *mutex);

/* Device identity. The reference HAL falls back on the environment
 * (IOTX_PRODUCT_KEY, IOTX_PRODUCT_SECRET, IOTX_DEVICE_NAME,
 * IOTX_DEVICE_SECRET) for whatever was never set. */
int HAL_SetProductKey(char *product_key);
int HAL_SetDeviceName(char *device_name);
int HAL_SetDeviceSecret(char *device_secret);
int HAL_SetProductSecret(char *product_secret);
int HAL_GetProductKey(char product_key[IOTX_PRODUCT_KEY_LEN + 1]);
int HAL_GetDeviceName(char device_name[IOTX_DEVICE_NAME_LEN + 1]);
int HAL_GetDeviceSecret(char device_secret[IOTX_DEVICE_SECRET_LEN + 1]);
int HAL_GetProductSecret(char product_secret[IOTX_PRODUCT_SECRET_LEN + 1]);

/* Unconnected UDP, for firmware's own local CoAP use; the cloud client
 * uses HAL_UDP_create and friends (iot_import_udp.h). */
intptr_t HAL_UDP_create_without_connect(const char *host, unsigned short port);
int HAL_UDP_close_without_connect(intptr_t sockfd);
int HAL_UDP_recvfrom(intptr_t sockfd, NetworkAddr *p_remote, unsigned char *p_data,
                     unsigned int datalen, unsigned int timeout_ms);
int HAL_UDP_sendto(intptr_t sockfd, const NetworkAddr *p_remote, const unsigned char *p_data,
                   unsigned int datalen, unsigned int timeout_ms);

DLL_HAL_API int HAL_DTLSHooks_set(dtls_hooks_t *hooks);

/* Key-value storage: 0 on success, negative on failure. HAL_Kv_Get takes
 * the buffer's size in *buffer_len and returns the value's length there.
 * Called only by a library built with the session store (cargo feature
 * session-store, CMake IOTX_COAP_SESSION_STORE): a 2.x firmware opting in
 * provides these with the same signatures. */
int HAL_Kv_Set(const char *key, const void *val, int len, int sync);
int HAL_Kv_Get(const char *key, void *val, int *buffer_len);
int HAL_Kv_Del(const char *key);

#if defined(__cplusplus)
}
#endif

#endif /* IOTX_V3_WRAPPERS_H */
