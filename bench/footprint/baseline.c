/* The same application with the CoAP client replaced by no-ops. */
#include "iot_import.h"
#include "iot_export.h"

static int dummy;
iotx_coap_context_t *IOT_CoAP_Init(iotx_coap_config_t *c) { return c ? (void *)&dummy : 0; }
int IOT_CoAP_DeviceNameAuth(iotx_coap_context_t *c) { (void)c; return 0; }
int IOT_CoAP_SendMessage(iotx_coap_context_t *c, char *p, iotx_message_t *m) { (void)c; (void)p; (void)m; return 0; }
int IOT_CoAP_Yield(iotx_coap_context_t *c) { (void)c; return 0; }
int IOT_CoAP_GetMessagePayload(void *m, unsigned char **pp, int *l) { (void)m; (void)pp; (void)l; return 0; }
int IOT_CoAP_GetMessageCode(void *m, iotx_coap_resp_code_t *c) { (void)m; (void)c; return 0; }
void IOT_SetLogLevel(IOT_LogLevel l) { (void)l; }
