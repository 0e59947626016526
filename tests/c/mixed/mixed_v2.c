/*
 * The v2 object of the mixed-link test (see mixed.h). Compiled against its
 * own header set only.
 */
#include "iot_import.h"
#include "iot_export.h"
#define MIXED_TAG "v2"
#define MIXED_FN(name) mixed_v2_##name
#define MIXED_PK MIXED_V2_PK
#define MIXED_DN MIXED_V2_DN
#define MIXED_DS MIXED_V2_DS
#define MIXED_DEVINFO_T iotx_deviceinfo_t
#define MIXED_DEVINFO_PTR_T iotx_device_info_t
#define MIXED_TOPIC_FORMAT "/topic/%s/%s/update"
#include "mixed_object.inc"
