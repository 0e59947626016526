/*
 * Reference platform layer for Linux: DTLS sessions (coaps:// URLs).
 *
 * Placeholder until the OpenSSL-backed implementation lands in this file:
 * every entry point fails cleanly so that a coaps:// URL makes IOT_CoAP_Init
 * return NULL instead of crashing. Plain and PSK (coap://, coap-psk://) do not
 * use DTLS and work without it.
 */
#include "iot_import.h"

#include <stddef.h>

DTLSContext *HAL_DTLSSession_create(coap_dtls_options_t *p_options)
{
    (void)p_options;
    HAL_Printf("HAL_DTLSSession_create: DTLS not built into this HAL\n");
    return NULL;
}

unsigned int HAL_DTLSSession_write(DTLSContext *context, const unsigned char *p_data,
                                   unsigned int *p_datalen)
{
    (void)context;
    (void)p_data;
    if (p_datalen != NULL) {
        *p_datalen = 0;
    }
    return DTLS_INVALID_PARAM;
}

unsigned int HAL_DTLSSession_read(DTLSContext *context, unsigned char *p_data,
                                  unsigned int *p_datalen, unsigned int timeout_ms)
{
    (void)context;
    (void)p_data;
    (void)timeout_ms;
    if (p_datalen != NULL) {
        *p_datalen = 0;
    }
    return DTLS_INVALID_PARAM;
}

unsigned int HAL_DTLSSession_free(DTLSContext *context)
{
    (void)context;
    return DTLS_SUCCESS;
}
