/*
 * Compatibility header: the vendor SDK's CoAP client API.
 *
 * Everything (types, constants, IOT_CoAP_* and IOT_*Log* prototypes) comes
 * from the cbindgen-generated iotx_coap.h so that the C view can never drift
 * from the Rust definitions. The "../" keeps the include working with only
 * `-I include` on the command line: quoted includes are looked up relative to
 * this file's directory first.
 */
#ifndef IOT_EXPORT_COAP_H
#define IOT_EXPORT_COAP_H

#include "../iotx_coap.h"

#endif /* IOT_EXPORT_COAP_H */
