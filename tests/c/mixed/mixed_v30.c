/*
 * The v30 object of the mixed-link test (see mixed.h). Compiled against its
 * own header set only.
 */
#include "coap_api.h"
#include "coap_wrapper.h"
#define MIXED_TAG "v30"
#define MIXED_FN(name) mixed_v30_##name
#define MIXED_PK MIXED_V30_PK
#define MIXED_DN MIXED_V30_DN
#define MIXED_DS MIXED_V30_DS
#define MIXED_DEVINFO_T iotx_deviceinfo_t
#define MIXED_DEVINFO_PTR_T iotx_device_info_t
#define MIXED_TOPIC_FORMAT "/topic/%s/%s/update/"
#include "mixed_object.inc"
