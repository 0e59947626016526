/*
 * Compatibility header: DTLS session HAL (used for coaps:// URLs).
 *
 * The DTLS_* codes are returned as unsigned int by the session functions;
 * the values are the vendor's, bit for bit.
 */
#ifndef IOT_IMPORT_DTLS_H
#define IOT_IMPORT_DTLS_H

#include <stdint.h>

#if defined(__cplusplus)
extern "C" {
#endif

#define DTLS_ERROR_BASE             (1 << 24)
#define DTLS_SUCCESS                (0)
#define DTLS_INVALID_PARAM          (DTLS_ERROR_BASE | 1)
#define DTLS_INVALID_CA_CERTIFICATE (DTLS_ERROR_BASE | 2)
#define DTLS_HANDSHAKE_IN_PROGRESS  (DTLS_ERROR_BASE | 3)
#define DTLS_HANDSHAKE_FAILED       (DTLS_ERROR_BASE | 4)
#define DTLS_FATAL_ALERT_MESSAGE    (DTLS_ERROR_BASE | 5)
#define DTLS_PEER_CLOSE_NOTIFY      (DTLS_ERROR_BASE | 6)
#define DTLS_SESSION_CREATE_FAILED  (DTLS_ERROR_BASE | 7)
#define DTLS_READ_DATA_FAILED       (DTLS_ERROR_BASE | 8)

typedef void DTLSContext;

typedef struct {
    unsigned char  *p_ca_cert_pem;
    char           *p_host;
    unsigned short  port;
} coap_dtls_options_t;

/* NULL on failure. */
DTLSContext *HAL_DTLSSession_create(coap_dtls_options_t *p_options);
/* DTLS_SUCCESS with *p_datalen set to the bytes written, or a DTLS_* error. */
unsigned int HAL_DTLSSession_write(DTLSContext *context, const unsigned char *p_data,
                                   unsigned int *p_datalen);
/* DTLS_SUCCESS with *p_datalen set to the bytes read; DTLS_PEER_CLOSE_NOTIFY
 * and DTLS_FATAL_ALERT_MESSAGE mean the session is dead. */
unsigned int HAL_DTLSSession_read(DTLSContext *context, unsigned char *p_data,
                                  unsigned int *p_datalen, unsigned int timeout_ms);
unsigned int HAL_DTLSSession_free(DTLSContext *context);

#if defined(__cplusplus)
}
#endif

#endif /* IOT_IMPORT_DTLS_H */
