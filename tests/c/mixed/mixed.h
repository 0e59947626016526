/*
 * One program, three objects: mixed_v2.c compiled with -I include (2.x
 * headers), mixed_v30.c with -I include/v3.0 and mixed_v32.c with
 * -I include/v3 (3.1/3.2). Each drives its own CoAP context, with its own
 * device, through the headers it was compiled against; main.c sees only
 * these SDK-free declarations.
 */
#ifndef IOTX_MIXED_H
#define IOTX_MIXED_H

/* Each object's device, known to the emulator through --device. */
#define MIXED_V2_PK  "a1MixedV2xx"
#define MIXED_V2_DN  "dev-v2"
#define MIXED_V2_DS  "v2SecretV2SecretV2SecretV2Secret"
#define MIXED_V30_PK "a1MixedV30x"
#define MIXED_V30_DN "dev-v30"
#define MIXED_V30_DS "v30SecretV30SecretV30SecretV30Se"
#define MIXED_V32_PK "a1MixedV32x"
#define MIXED_V32_DN "dev-v32"
#define MIXED_V32_DS "v32SecretV32SecretV32SecretV32Se"

/* NULL when init or authentication failed. */
void *mixed_v2_open(const char *url);
int mixed_v2_publish(void *ctx);
void mixed_v2_yield(void *ctx);
int mixed_v2_answered(void);
void mixed_v2_close(void *ctx);

void *mixed_v30_open(const char *url);
int mixed_v30_publish(void *ctx);
void mixed_v30_yield(void *ctx);
int mixed_v30_answered(void);
void mixed_v30_close(void *ctx);

void *mixed_v32_open(const char *url);
int mixed_v32_publish(void *ctx);
void mixed_v32_yield(void *ctx);
int mixed_v32_answered(void);
void mixed_v32_close(void *ctx);

#endif /* IOTX_MIXED_H */
