/*
 * Compatibility header (3.x header set): the vendor SDK's basic types.
 *
 * The 3.x headers live in their own directory because their device-info
 * layouts differ from 2.x: compile 3.1/3.2 firmware with -I include/v3 and
 * 3.0.x firmware with -I include/v3.0, never together with -I include.
 */
#ifndef IOTX_V3_INFRA_TYPES_H
#define IOTX_V3_INFRA_TYPES_H

#include <stddef.h>
#include <stdint.h>

/* Export annotations the vendor uses on Windows DLL builds; empty here. */
#ifndef DLL_IOT_API
#define DLL_IOT_API
#endif
#ifndef DLL_HAL_API
#define DLL_HAL_API
#endif

#ifndef IOT_TRUE
#define IOT_TRUE  (1)
#endif
#ifndef IOT_FALSE
#define IOT_FALSE (0)
#endif

#endif /* IOTX_V3_INFRA_TYPES_H */
