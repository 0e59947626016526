/*
 * Reference platform layer for Linux: the key-value store (HAL_Kv_*) that
 * a library built with the session store keeps its session in.
 *
 * One file per key in the directory named by IOTX_KV_DIR; without that
 * variable nothing is stored (every call fails, and the library
 * authenticates on each start as without the store). A value is replaced
 * atomically: written to a temporary file, flushed to disk when `sync` is
 * set, then renamed over the old one, so a power cut leaves the old value
 * or the new one, never a mix.
 */
#include "v3/wrappers.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Largest value kept: far above the session record (under 1 KB). */
#define KV_VALUE_MAX 4096
#define KV_KEY_MAX 64

/* dir/key into out; -1 without IOTX_KV_DIR or for a key that is not a
 * plain file name. */
static int kv_path(const char *key, const char *suffix, char *out, size_t size)
{
    const char *dir = getenv("IOTX_KV_DIR");
    size_t i, n;
    if (dir == NULL || dir[0] == '\0' || key == NULL) {
        return -1;
    }
    n = strlen(key);
    if (n == 0 || n > KV_KEY_MAX || key[0] == '.') {
        return -1;
    }
    for (i = 0; i < n; i++) {
        char c = key[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-' || c == '.')) {
            return -1;
        }
    }
    n = (size_t)snprintf(out, size, "%s/%s%s", dir, key, suffix);
    return n < size ? 0 : -1;
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int HAL_Kv_Set(const char *key, const void *val, int len, int sync)
{
    char path[PATH_MAX], tmp[PATH_MAX + 32];
    char suffix[32];
    int fd, rc;
    if (val == NULL || len < 0 || len > KV_VALUE_MAX) {
        return -1;
    }
    snprintf(suffix, sizeof(suffix), ".tmp.%ld", (long)getpid());
    if (kv_path(key, "", path, sizeof(path)) != 0 || kv_path(key, suffix, tmp, sizeof(tmp)) != 0) {
        return -1;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        return -1;
    }
    rc = write_all(fd, val, (size_t)len);
    if (rc == 0 && sync) {
        rc = fsync(fd);
    }
    if (close(fd) != 0) {
        rc = -1;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        rc = -1;
    }
    if (rc != 0) {
        unlink(tmp);
        return -1;
    }
    if (sync) {
        /* The rename itself reaches the disk with the directory. */
        int dfd = open(getenv("IOTX_KV_DIR"), O_RDONLY);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    return 0;
}

int HAL_Kv_Get(const char *key, void *val, int *buffer_len)
{
    char path[PATH_MAX];
    unsigned char buf[KV_VALUE_MAX + 1];
    size_t got = 0;
    FILE *f;
    if (val == NULL || buffer_len == NULL || *buffer_len < 0 || kv_path(key, "", path, sizeof(path)) != 0) {
        return -1;
    }
    f = fopen(path, "rb");
    if (f == NULL) {
        return -1;
    }
    got = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    if (got > KV_VALUE_MAX) {
        return -1;
    }
    if (got > (size_t)*buffer_len) {
        /* Too small a buffer: say how much is needed, copy nothing. */
        *buffer_len = (int)got;
        return -1;
    }
    memcpy(val, buf, got);
    *buffer_len = (int)got;
    return 0;
}

int HAL_Kv_Del(const char *key)
{
    char path[PATH_MAX];
    if (kv_path(key, "", path, sizeof(path)) != 0) {
        return -1;
    }
    return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}
