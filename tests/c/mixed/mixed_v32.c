/*
 * The v32 object of the mixed-link test (see mixed.h). Compiled against its
 * own header set only.
 */
#include "coap_api.h"
#include "wrappers.h"
#define MIXED_TAG "v32"
#define MIXED_FN(name) mixed_v32_##name
#define MIXED_PK MIXED_V32_PK
#define MIXED_DN MIXED_V32_DN
#define MIXED_DS MIXED_V32_DS
#define MIXED_DEVINFO_T iotx_coap_device_info_t
#define MIXED_DEVINFO_PTR_T iotx_coap_device_info_t
#define MIXED_TOPIC_FORMAT "/topic/%s/%s/user/update/"
#include "mixed_object.inc"
