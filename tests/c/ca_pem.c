/*
 * The CA text that IOT_CoAP_Init hands to HAL_DTLSSession_create when no
 * override is in play: linked with -Wl,--wrap=HAL_DTLSSession_create, the
 * wrapper below sees every create call before the reference HAL would, keeps
 * a copy of p_ca_cert_pem and fails the session.
 *
 * Usage: ca_pem PEMFILE
 * Runs IOT_CoAP_Init on a coaps:// URL twice and checks that each create
 * call got PEMFILE's bytes exactly, NUL-terminated. Prints "ca_pem OK".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iot_import.h"
#include "iot_export.h"

#include "test_device.h"

void *__wrap_HAL_DTLSSession_create(coap_dtls_options_t *p_options);

static char g_seen[4096];
static int g_calls, g_bad;

void *__wrap_HAL_DTLSSession_create(coap_dtls_options_t *p_options)
{
    const char *pem = (const char *)p_options->p_ca_cert_pem;
    g_calls++;
    if (pem == NULL || strlen(pem) >= sizeof(g_seen)) {
        g_bad++;
    } else if (g_calls == 1) {
        strcpy(g_seen, pem);
    } else if (strcmp(g_seen, pem) != 0) {
        g_bad++;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    char want[4096];
    size_t n;
    FILE *f;
    int i;

    if (argc != 2 || (f = fopen(argv[1], "rb")) == NULL) {
        fprintf(stderr, "usage: ca_pem PEMFILE\n");
        return 2;
    }
    n = fread(want, 1, sizeof(want) - 1, f);
    fclose(f);
    want[n] = '\0';
    for (i = 0; i < 2; i++) {
        if (test_device_init((char *)"coaps://127.0.0.1:5684", 100, NULL) != NULL) {
            printf("FAIL: Init succeeded with no DTLS session\n");
            return 1;
        }
    }
    if (g_calls < 2 || g_bad != 0) {
        printf("FAIL: %d create calls, %d without the text\n", g_calls, g_bad);
        return 1;
    }
    if (strlen(g_seen) != n || memcmp(g_seen, want, n) != 0) {
        printf("FAIL: p_ca_cert_pem (%zu bytes) is not %s (%zu bytes):\n%s", strlen(g_seen), argv[1], n, g_seen);
        return 1;
    }
    printf("ca_pem OK (%d create calls, %zu bytes each)\n", g_calls, n);
    return 0;
}
