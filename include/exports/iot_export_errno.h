/*
 * Compatibility header: the vendor SDK's error-code header.
 *
 * The CoAP client's return codes (iotx_ret_code_t, IOTX_ERR_*) are defined
 * in iotx_coap.h. Of the vendor's general table (iotx_err_t) only the
 * generic codes are here: IOT_SetupConnInfo and IOT_Ioctl return
 * SUCCESS_RETURN / FAIL_RETURN, and 2.3 applications test for them. The
 * rest belongs to modules we do not implement (MQTT, HTTP, OTA); defining it
 * would only invite clashes with firmware that carries its own copies.
 */
#ifndef IOT_EXPORT_ERRNO_H
#define IOT_EXPORT_ERRNO_H

typedef int iotx_err_t;

#ifndef NULL_VALUE_ERROR
#define NULL_VALUE_ERROR (-2)
#endif
#ifndef FAIL_RETURN
#define FAIL_RETURN      (-1)
#endif
#ifndef SUCCESS_RETURN
#define SUCCESS_RETURN   (0)
#endif

#endif /* IOT_EXPORT_ERRNO_H */
