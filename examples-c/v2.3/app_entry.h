/*
 * The 2.3 samples' entry convention: main() (app_entry.c) hands argc/argv
 * to linkkit_main() through this struct, so the same sample body also runs
 * on RTOS targets that have no main().
 */
#ifndef APP_ENTRY_H
#define APP_ENTRY_H

typedef struct {
    int argc;
    char **argv;
} app_main_paras_t;

int linkkit_main(void *paras);

#endif /* APP_ENTRY_H */
