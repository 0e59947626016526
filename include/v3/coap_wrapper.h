/*
 * Compatibility header (3.x header set): the platform functions the 3.0.x
 * CoAP client names. Everything is declared once, in wrappers.h.
 */
#ifndef IOTX_V3_COAP_WRAPPER_H
#define IOTX_V3_COAP_WRAPPER_H

#include "infra_types.h"
#include "infra_defs.h"
#include "wrappers_defs.h"
#include "wrappers.h"

#endif /* IOTX_V3_COAP_WRAPPER_H */
