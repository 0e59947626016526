/*
 * iotx-coap extensions to the vendor SDK's CoAP API: calls the vendor's
 * headers do not have. No vendor header includes this file; include it
 * after iot_export.h (2.x), coap_api.h (3.x) or iotx_coap.h, which already
 * declares all of it.
 *
 * Transmission parameters (RFC 7252 §4.8) per context, and the
 * RTT-adaptive retransmission timer (README "On NB-IoT links"). Integers
 * only: ACK_RANDOM_FACTOR is given in thousandths.
 */
#ifndef IOTX_COAP_EXT_H
#define IOTX_COAP_EXT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* RFC 7252's defaults, what a new context has. */
#define IOTX_COAP_TRANSMISSION_RFC7252 { 2000, 1500, 4, 0, 30000, 30000 }
/* NB-IoT (coverage enhancement, eDRX): the adaptive timer, starting at 15 s. */
#define IOTX_COAP_TRANSMISSION_NBIOT { 15000, 1500, 4, 1, 60000, 60000 }

#ifndef IOTX_COAP_H /* iotx_coap.h (generated) declares the same */
typedef struct {
    uint32_t ack_timeout_ms;             /* ACK_TIMEOUT, 100..300000 (2000) */
    uint32_t ack_random_factor_permille; /* ACK_RANDOM_FACTOR x 1000, 1000..4000 (1500) */
    uint32_t max_retransmit;             /* MAX_RETRANSMIT, 1..10 (4) */
    uint32_t adaptive;                   /* 0 RFC 7252 timer, 1 RTT-adaptive (0) */
    uint32_t separate_timeout_ms;        /* wait for a separate response, 1000..600000 (30000) */
    uint32_t non_lifetime_ms;            /* wait for a NON's response, 1000..600000 (30000) */
} iotx_coap_transmission_t;

/* For requests sent from now on. IOTX_ERR_INVALID_PARAM (-1), nothing
 * changed, for a NULL pointer or any value out of its range; 0 on success.
 * p_context is the iotx_coap_context_t * of IOT_CoAP_Init. */
int IOT_CoAP_SetTransmission(void *p_context, const iotx_coap_transmission_t *p_params);
/* The context's current parameters into *p_params; 0 on success. */
int IOT_CoAP_GetTransmission(void *p_context, iotx_coap_transmission_t *p_params);
#endif

#ifdef __cplusplus
}
#endif

#endif /* IOTX_COAP_EXT_H */
