/*
 * Mixed-link test: objects compiled against the 2.x, 3.0.x and 3.1/3.2
 * header sets, linked into one program with one library. All three
 * authenticate, then each publishes and must get its own 2.05 response
 * (matched by token) while the others' contexts are live.
 *
 * Usage: mixed_link URL
 */
#include "mixed.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    void *v2;
    void *v30;
    void *v32;
    int turn;
    int ok;

    if (argc != 2) {
        fprintf(stderr, "usage: %s URL\n", argv[0]);
        return 2;
    }
    v2 = mixed_v2_open(argv[1]);
    v30 = mixed_v30_open(argv[1]);
    v32 = mixed_v32_open(argv[1]);
    if (v2 == NULL || v30 == NULL || v32 == NULL) {
        printf("mixed_link: authenticated v2=%d v3.0=%d v3.2=%d\n", v2 != NULL, v30 != NULL,
               v32 != NULL);
        return 1;
    }
    if (mixed_v2_publish(v2) != 0 || mixed_v30_publish(v30) != 0 || mixed_v32_publish(v32) != 0) {
        printf("mixed_link: a publish was refused\n");
        return 1;
    }
    for (turn = 0; turn < 100; turn++) {
        if (mixed_v2_answered() && mixed_v30_answered() && mixed_v32_answered()) {
            break;
        }
        mixed_v2_yield(v2);
        mixed_v30_yield(v30);
        mixed_v32_yield(v32);
    }
    ok = mixed_v2_answered() == 1 && mixed_v30_answered() == 1 && mixed_v32_answered() == 1;
    printf("mixed_link: answered v2=%d v3.0=%d v3.2=%d\n", mixed_v2_answered(),
           mixed_v30_answered(), mixed_v32_answered());
    mixed_v2_close(v2);
    mixed_v30_close(v30);
    mixed_v32_close(v32);
    if (ok) {
        printf("mixed_link OK\n");
    }
    return ok ? 0 : 1;
}
