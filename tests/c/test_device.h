/* The emulator's test device (the one tests/common and with_sim.sh register)
 * and a context for it at URL: what the C test programs share. */
#ifndef IOTX_TEST_DEVICE_H
#define IOTX_TEST_DEVICE_H

#include <string.h>

#include "iot_import.h"
#include "iot_export.h"

/* NULL when IOT_CoAP_Init refuses. The device info must outlive the context
 * (the library copies it, but the vendor API never promised that). */
static iotx_coap_context_t *test_device_init(char *url, int wait_time_ms, iotx_event_handle_t on_event)
{
    static iotx_deviceinfo_t dev;
    iotx_coap_config_t cfg;
    strcpy(dev.product_key, "a1TestPK001");
    strcpy(dev.device_name, "dev-001");
    strcpy(dev.device_id, "a1TestPK001.dev-001");
    strcpy(dev.device_secret, "s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAB");
    memset(&cfg, 0, sizeof(cfg));
    cfg.p_url = url;
    cfg.wait_time_ms = wait_time_ms;
    cfg.p_devinfo = (iotx_device_info_t *)&dev;
    cfg.event_handle = on_event;
    return IOT_CoAP_Init(&cfg);
}

#endif
