/*
 * Compatibility header: the vendor SDK's error-code header.
 *
 * The CoAP client's return codes (iotx_ret_code_t, IOTX_ERR_*) are defined
 * in iotx_coap.h. The vendor's other error tables belong to modules we do not
 * implement (MQTT, HTTP, OTA); defining them here would only invite clashes
 * with firmware that carries its own copies, so this header stays empty. It
 * exists because vendor code includes it by name.
 */
#ifndef IOT_EXPORT_ERRNO_H
#define IOT_EXPORT_ERRNO_H

#endif /* IOT_EXPORT_ERRNO_H */
