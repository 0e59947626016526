/* A URL whose scheme does not match the port it names: Init and auth must
 * fail with one error line that suggests the likely cause (the harness
 * checks the line). Usage: mismatch URL; prints "init failed" or
 * "auth rc=N". */
#include <stdio.h>
#include <string.h>

#include "iot_import.h"
#include "iot_export.h"

int main(int argc, char **argv)
{
    static iotx_deviceinfo_t dev;
    iotx_coap_config_t cfg;
    iotx_coap_context_t *ctx;

    if (argc != 2) {
        fprintf(stderr, "usage: %s URL\n", argv[0]);
        return 2;
    }
    strcpy(dev.product_key, "a1TestPK001");
    strcpy(dev.device_name, "dev-001");
    strcpy(dev.device_id, "a1TestPK001.dev-001");
    strcpy(dev.device_secret, "s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAB");
    memset(&cfg, 0, sizeof(cfg));
    cfg.p_url = argv[1];
    cfg.wait_time_ms = 200;
    cfg.p_devinfo = (iotx_device_info_t *)&dev;
    IOT_SetLogLevel(IOT_LOG_ERROR);
    ctx = IOT_CoAP_Init(&cfg);
    if (ctx == NULL) {
        printf("init failed\n");
        return 0;
    }
    printf("auth rc=%d\n", IOT_CoAP_DeviceNameAuth(ctx));
    IOT_CoAP_Deinit(&ctx);
    return 0;
}
