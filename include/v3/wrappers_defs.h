/*
 * Compatibility header (3.x header set): types used by the HAL prototypes.
 * The DTLS codes and coap_dtls_options_t are the 2.x ones, bit for bit.
 */
#ifndef IOTX_V3_WRAPPERS_DEFS_H
#define IOTX_V3_WRAPPERS_DEFS_H

#include "infra_types.h"
#include "../imports/iot_import_dtls.h"

#ifndef PLATFORM_WAIT_INFINITE
#define PLATFORM_WAIT_INFINITE (~0)
#endif

typedef struct {
    void *(*malloc)(uint32_t size);
    void (*free)(void *ptr);
} dtls_hooks_t;

#endif /* IOTX_V3_WRAPPERS_DEFS_H */
