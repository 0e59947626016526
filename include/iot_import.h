/*
 * Compatibility header: the vendor SDK's platform ("HAL") interface.
 *
 * These are the functions the firmware's platform layer implements and the
 * library calls. The prototypes must stay exactly as the vendor SDK wrote
 * them: existing platform layers include this header when compiling their
 * definitions, so any difference would be a conflicting-types error there.
 */
#ifndef IOT_IMPORT_H
#define IOT_IMPORT_H

#include <stdint.h>
#include <stddef.h>
#include <stdarg.h>     /* va_list for HAL_Vsnprintf */

/* Parameter direction annotations used throughout vendor code; empty on purpose. */
#ifndef _IN_
#define _IN_
#endif
#ifndef _OU_
#define _OU_
#endif
#ifndef _IN_OPT_
#define _IN_OPT_
#endif
#ifndef _OU_OPT_
#define _OU_OPT_
#endif
#ifndef _INOU_
#define _INOU_
#endif

#ifndef PLATFORM_WAIT_INFINITE
#define PLATFORM_WAIT_INFINITE (~0)
#endif

#if defined(__GNUC__)
#define IOTX_HAL_PRINTF_LIKE(fmt_idx, arg_idx) __attribute__((format(printf, fmt_idx, arg_idx)))
#else
#define IOTX_HAL_PRINTF_LIKE(fmt_idx, arg_idx)
#endif

#include "iot_export.h"
#include "imports/iot_import_config.h"
#include "imports/iot_import_product.h"
#include "imports/iot_import_udp.h"
#include "imports/iot_import_dtls.h"

#if defined(__cplusplus)
extern "C" {
#endif

void *HAL_Malloc(_IN_ uint32_t size);
void HAL_Free(_IN_ void *ptr);

/* Milliseconds since an arbitrary fixed point; must never go backwards. */
uint64_t HAL_UptimeMs(void);
void HAL_SleepMs(_IN_ uint32_t ms);

void HAL_Srandom(_IN_ uint32_t seed);
/* A value in [0, region). */
uint32_t HAL_Random(_IN_ uint32_t region);

void HAL_Printf(_IN_ const char *fmt, ...) IOTX_HAL_PRINTF_LIKE(1, 2);
int HAL_Snprintf(_IN_ char *str, _IN_ const int len, _IN_ const char *fmt, ...) IOTX_HAL_PRINTF_LIKE(3, 4);
int HAL_Vsnprintf(_IN_ char *str, _IN_ const int len, _IN_ const char *format, _IN_ va_list ap);

/* HAL_MutexCreate returns NULL on failure. */
void *HAL_MutexCreate(void);
void HAL_MutexDestroy(_IN_ void *mutex);
void HAL_MutexLock(_IN_ void *mutex);
void HAL_MutexUnlock(_IN_ void *mutex);

#if defined(__cplusplus)
}
#endif

#endif /* IOT_IMPORT_H */
