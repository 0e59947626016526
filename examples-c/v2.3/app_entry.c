/* main() for the 2.3-style sample: forwards argc/argv to linkkit_main(). */
#include "app_entry.h"

int main(int argc, char **argv)
{
    app_main_paras_t paras;

    paras.argc = argc;
    paras.argv = argv;
    return linkkit_main((void *)&paras);
}
