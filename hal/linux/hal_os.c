/*
 * Reference platform layer for Linux: memory, time, randomness, printing,
 * mutexes and device identity storage.
 *
 * Built as its own static library (libiotx_hal_linux.a), never inside the
 * Rust staticlib: firmware supplies its own HAL_* and must be able to link
 * the library without this file.
 */
#include "iot_import.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- memory ------------------------------------------------------------- */

void *HAL_Malloc(uint32_t size)
{
    return malloc(size);
}

void HAL_Free(void *ptr)
{
    free(ptr);
}

/* ---- time --------------------------------------------------------------- */

uint64_t HAL_UptimeMs(void)
{
    struct timespec ts;

    /* MONOTONIC, not REALTIME: retransmission timers must not jump when NTP
     * or the user sets the wall clock. */
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return 0;
    }
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void HAL_SleepMs(uint32_t ms)
{
    struct timespec req;
    struct timespec rem;

    req.tv_sec = (time_t)(ms / 1000u);
    req.tv_nsec = (long)(ms % 1000u) * 1000000L;
    /* A signal must not cut the sleep short: callers use it for pacing. */
    while (nanosleep(&req, &rem) != 0 && errno == EINTR) {
        req = rem;
    }
}

/* ---- randomness --------------------------------------------------------- */

/*
 * splitmix64 under a mutex: the library calls HAL_Random from its Yield
 * thread and from application threads at once, and libc's random() state is
 * not documented as thread-safe. The state starts from /dev/urandom so that
 * CoAP tokens and message ids differ between runs even if nobody seeds.
 */
static pthread_mutex_t g_rand_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t g_rand_state;
static int g_rand_ready;

static uint64_t splitmix64_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void rand_init_locked(void)
{
    uint64_t seed = 0;
    int fd;

    if (g_rand_ready) {
        return;
    }
    fd = open("/dev/urandom", O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, &seed, sizeof(seed));
        (void)n; /* a short read still leaves usable bits; the clock is mixed in below */
        close(fd);
    }
    {
        struct timespec ts;
        if (clock_gettime(CLOCK_REALTIME, &ts) == 0) {
            seed ^= ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec;
        }
    }
    seed ^= (uint64_t)getpid() << 16;
    g_rand_state = seed;
    g_rand_ready = 1;
}

void HAL_Srandom(uint32_t seed)
{
    pthread_mutex_lock(&g_rand_lock);
    rand_init_locked();
    /* Mix rather than replace: callers typically seed with the uptime, and
     * replacing the urandom state with that would make tokens guessable. */
    g_rand_state ^= (uint64_t)seed * 0x9E3779B97F4A7C15ull;
    pthread_mutex_unlock(&g_rand_lock);
}

uint32_t HAL_Random(uint32_t region)
{
    uint32_t r;

    pthread_mutex_lock(&g_rand_lock);
    rand_init_locked();
    if (region == 0) {
        /* [0, 0) is empty; the full 32-bit range is the useful reading. */
        r = (uint32_t)(splitmix64_next(&g_rand_state) >> 32);
    } else {
        /* Reject the top partial interval so every value is equally likely. */
        uint64_t limit = (UINT64_C(1) << 32) - ((UINT64_C(1) << 32) % region);
        uint64_t x;
        do {
            x = splitmix64_next(&g_rand_state) >> 32;
        } while (x >= limit);
        r = (uint32_t)(x % region);
    }
    pthread_mutex_unlock(&g_rand_lock);
    return r;
}

/* ---- printing ----------------------------------------------------------- */

/* With IOTX_HAL_LOG_UPTIME set (to anything), each line starts with
 * "[HAL_UptimeMs] ": when things happened, measured where they happened
 * (a reader of the output may be late). Lines may be printed in pieces. */
static int g_log_at_line_start = 1;

void HAL_Printf(const char *fmt, ...)
{
    static int stamp = -1;
    char line[512];
    va_list ap;

    if (stamp < 0) {
        stamp = getenv("IOTX_HAL_LOG_UPTIME") != NULL;
    }
    va_start(ap, fmt);
    if (stamp) {
        int n = vsnprintf(line, sizeof(line), fmt, ap);
        if (g_log_at_line_start) {
            printf("[%llu] ", (unsigned long long)HAL_UptimeMs());
        }
        fputs(line, stdout);
        g_log_at_line_start = n > 0 && (size_t)n < sizeof(line) && line[n - 1] == '\n';
    } else {
        vprintf(fmt, ap);
    }
    va_end(ap);
    /* Log lines must reach a pipe promptly (tests read them while we run). */
    fflush(stdout);
}

int HAL_Vsnprintf(char *str, const int len, const char *format, va_list ap)
{
    if (len < 0 || (str == NULL && len != 0) || format == NULL) {
        return -1;
    }
    return vsnprintf(str, (size_t)len, format, ap);
}

int HAL_Snprintf(char *str, const int len, const char *fmt, ...)
{
    va_list ap;
    int ret;

    va_start(ap, fmt);
    ret = HAL_Vsnprintf(str, len, fmt, ap);
    va_end(ap);
    return ret;
}

/* ---- mutexes ------------------------------------------------------------ */

void *HAL_MutexCreate(void)
{
    pthread_mutex_t *m = (pthread_mutex_t *)malloc(sizeof(*m));

    if (m == NULL) {
        return NULL;
    }
    if (pthread_mutex_init(m, NULL) != 0) {
        free(m);
        return NULL;
    }
    return m;
}

void HAL_MutexDestroy(void *mutex)
{
    if (mutex == NULL) {
        return;
    }
    pthread_mutex_destroy((pthread_mutex_t *)mutex);
    free(mutex);
}

void HAL_MutexLock(void *mutex)
{
    if (mutex != NULL) {
        pthread_mutex_lock((pthread_mutex_t *)mutex);
    }
}

void HAL_MutexUnlock(void *mutex)
{
    if (mutex != NULL) {
        pthread_mutex_unlock((pthread_mutex_t *)mutex);
    }
}

/* ---- device identity ---------------------------------------------------- */

/*
 * Process-wide storage, as in the vendor's reference HAL. Guarded because
 * the application may set credentials on one thread while the library's
 * Yield thread reads them.
 */
static pthread_mutex_t g_dev_lock = PTHREAD_MUTEX_INITIALIZER;
static char g_product_key[PRODUCT_KEY_LEN + 1];
static char g_device_name[DEVICE_NAME_LEN + 1];
static char g_device_secret[DEVICE_SECRET_LEN + 1];
static char g_product_secret[PRODUCT_SECRET_LEN + 1];

/* Copies at most cap-1 bytes and always terminates; returns the length. */
static int copy_bounded(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);

    if (n > cap - 1) {
        n = cap - 1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
    return (int)n;
}

static int dev_set(char *dst, size_t cap, const char *src)
{
    int n;

    if (src == NULL) {
        return -1;
    }
    pthread_mutex_lock(&g_dev_lock);
    n = copy_bounded(dst, cap, src);
    pthread_mutex_unlock(&g_dev_lock);
    return n;
}

/*
 * What was set, or else the environment variable `env_name` (or ""): 3.x
 * vendor programs read their identity through HAL_Get* and never set it,
 * so a reference platform needs some other source. Call with g_dev_lock.
 */
static const char *dev_value(const char *stored, const char *env_name)
{
    const char *v;

    if (stored[0] != '\0') {
        return stored;
    }
    v = getenv(env_name);
    return v != NULL ? v : "";
}

static int dev_get(char *out, size_t cap, const char *stored, const char *env_name)
{
    int n;

    if (out == NULL) {
        return -1;
    }
    pthread_mutex_lock(&g_dev_lock);
    n = copy_bounded(out, cap, dev_value(stored, env_name));
    pthread_mutex_unlock(&g_dev_lock);
    return n;
}

int HAL_SetProductKey(char *product_key)
{
    return dev_set(g_product_key, sizeof(g_product_key), product_key);
}

int HAL_SetDeviceName(char *device_name)
{
    return dev_set(g_device_name, sizeof(g_device_name), device_name);
}

int HAL_SetDeviceSecret(char *device_secret)
{
    return dev_set(g_device_secret, sizeof(g_device_secret), device_secret);
}

int HAL_SetProductSecret(char *product_secret)
{
    return dev_set(g_product_secret, sizeof(g_product_secret), product_secret);
}

int HAL_GetProductKey(char product_key[PRODUCT_KEY_LEN + 1])
{
    return dev_get(product_key, PRODUCT_KEY_LEN + 1, g_product_key, "IOTX_PRODUCT_KEY");
}

int HAL_GetDeviceName(char device_name[DEVICE_NAME_LEN + 1])
{
    return dev_get(device_name, DEVICE_NAME_LEN + 1, g_device_name, "IOTX_DEVICE_NAME");
}

int HAL_GetDeviceSecret(char device_secret[DEVICE_SECRET_LEN + 1])
{
    return dev_get(device_secret, DEVICE_SECRET_LEN + 1, g_device_secret, "IOTX_DEVICE_SECRET");
}

int HAL_GetProductSecret(char product_secret[PRODUCT_SECRET_LEN + 1])
{
    return dev_get(product_secret, PRODUCT_SECRET_LEN + 1, g_product_secret, "IOTX_PRODUCT_SECRET");
}

int HAL_GetDeviceID(char device_id[DEVICE_ID_LEN + 1])
{
    const char *pk;
    const char *dn;
    size_t pk_len;
    size_t dn_len;
    size_t n;

    if (device_id == NULL) {
        return -1;
    }
    pthread_mutex_lock(&g_dev_lock);
    pk = dev_value(g_product_key, "IOTX_PRODUCT_KEY");
    dn = dev_value(g_device_name, "IOTX_DEVICE_NAME");
    /* Values from the environment are unbounded: keep within the lengths
     * HAL_GetProductKey/HAL_GetDeviceName would return. */
    pk_len = strlen(pk);
    if (pk_len > PRODUCT_KEY_LEN) {
        pk_len = PRODUCT_KEY_LEN;
    }
    dn_len = strlen(dn);
    n = 0;
    memcpy(device_id + n, pk, pk_len);
    n += pk_len;
    device_id[n++] = '.';
    if (n + dn_len > DEVICE_ID_LEN) {
        dn_len = DEVICE_ID_LEN - n;
    }
    memcpy(device_id + n, dn, dn_len);
    n += dn_len;
    device_id[n] = '\0';
    pthread_mutex_unlock(&g_dev_lock);
    return (int)n;
}

/* No partner or module id on this platform: empty strings, as the vendor's
 * reference HAL returns. Callers size these buffers with PID/MID_STRLEN_MAX. */
int HAL_GetPartnerID(char *pid_str)
{
    if (pid_str == NULL) {
        return -1;
    }
    pid_str[0] = '\0';
    return 0;
}

int HAL_GetModuleID(char *mid_str)
{
    if (mid_str == NULL) {
        return -1;
    }
    mid_str[0] = '\0';
    return 0;
}
