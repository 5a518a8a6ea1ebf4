/* SPDX-License-Identifier: MIT */
/*
 * example.c - the smallest useful libsegget program, built by the tests
 * against an installed copy through pkg-config:
 *
 *     cc example.c $(pkg-config --static --cflags --libs segget)
 *     ./a.out URL DIR
 *
 * Downloads URL into DIR with four connections and prints the path, or
 * the reason it could not.
 */
#include <stdio.h>

#include <segget.h>

static void notice(const char *msg, void *ud)
{
    (void)ud;
    fprintf(stderr, "note: %s\n", msg);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s URL DIR  (libsegget %s)\n", argv[0],
                sg_version());
        return 1;
    }
    if (sg_global_init() != SG_OK)
        return 1;
    sg_options o;
    sg_options_init(&o);
    o.connections = 4;
    o.dir = argv[2];
    o.notice = notice;
    sg_download *dl;
    sg_code rc = sg_download_new(&dl, argv[1], &o);
    if (rc == SG_OK)
        rc = sg_download_run(dl);
    if (rc == SG_OK)
        printf("%s\n", sg_download_path(dl));
    else
        fprintf(stderr, "%s: %s\n", sg_strerror(rc),
                dl ? sg_download_error(dl) : "");
    sg_download_free(dl);
    sg_global_cleanup();
    return rc == SG_OK ? 0 : 2;
}
