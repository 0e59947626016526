/*
 * Links the library and the reference HAL the way a downstream project
 * would. Linking proves every HAL_* the library references is provided;
 * IOT_CoAP_Init(NULL) proves the library actually runs and rejects bad input.
 */
#include "iot_import.h"
#include "iot_export.h"

#include <stdio.h>

int main(void)
{
    iotx_coap_context_t *ctx = IOT_CoAP_Init(NULL);

    if (ctx != NULL) {
        printf("FAIL: IOT_CoAP_Init(NULL) returned a context\n");
        IOT_CoAP_Deinit(&ctx);
        return 1;
    }
    printf("OK\n");
    return 0;
}
