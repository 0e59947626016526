/* HAL_Printf of the fuzz targets' fake platform: formats every line (so a
 * bad format/argument pair from the library shows up under the sanitizer)
 * and prints it only when IOTX_FUZZ_LOG is set. In C because Rust has no
 * stable variadic functions. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void HAL_Printf(const char *fmt, ...)
{
    static int show = -1;
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (show < 0) {
        show = getenv("IOTX_FUZZ_LOG") != NULL;
    }
    if (show) {
        fputs(line, stderr);
    }
}
