/* Minimal HAL for a size-only link: real malloc, inert network. */
#include <stdlib.h>
#include "iot_import.h"

void *HAL_Malloc(uint32_t size) { return malloc(size); }
void HAL_Free(void *p) { free(p); }
uint64_t HAL_UptimeMs(void) { static uint64_t t; return t += 10; }
void HAL_SleepMs(uint32_t ms) { (void)ms; }
void HAL_Srandom(uint32_t seed) { (void)seed; }
uint32_t HAL_Random(uint32_t region) { return region ? 12345u % region : 0; }
void HAL_Printf(const char *fmt, ...) { (void)fmt; }
void *HAL_MutexCreate(void) { static int m; return &m; }
void HAL_MutexDestroy(void *m) { (void)m; }
void HAL_MutexLock(void *m) { (void)m; }
void HAL_MutexUnlock(void *m) { (void)m; }
intptr_t HAL_UDP_create(char *host, unsigned short port) { (void)host; (void)port; return 3; }
void HAL_UDP_close(intptr_t s) { (void)s; }
int HAL_UDP_write(intptr_t s, const unsigned char *p, unsigned int n) { (void)s; (void)p; return (int)n; }
int HAL_UDP_readTimeout(intptr_t s, unsigned char *p, unsigned int n, unsigned int t)
{ (void)s; (void)p; (void)n; (void)t; return -2; }
DTLSContext *HAL_DTLSSession_create(coap_dtls_options_t *o) { (void)o; return 0; }
unsigned int HAL_DTLSSession_write(DTLSContext *c, const unsigned char *p, unsigned int *n)
{ (void)c; (void)p; (void)n; return 0; }
unsigned int HAL_DTLSSession_read(DTLSContext *c, unsigned char *p, unsigned int *n, unsigned int t)
{ (void)c; (void)p; (void)n; (void)t; return 0; }
unsigned int HAL_DTLSSession_free(DTLSContext *c) { (void)c; return 0; }
/* Key-value store: called only by a library built with feature session-store. */
int HAL_Kv_Set(const char *key, const void *val, int len, int sync)
{ (void)key; (void)val; (void)len; (void)sync; return 0; }
int HAL_Kv_Get(const char *key, void *val, int *buffer_len)
{ (void)key; (void)val; (void)buffer_len; return -1; }
