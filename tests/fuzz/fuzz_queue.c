/* SPDX-License-Identifier: MIT */
/* libFuzzer: the queue parser never crashes, and what it accepts keeps its
 * promises: URLs without blanks or control characters, out= names that
 * stay inside the directory, connections 1 to 64, increasing lines. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"

/* Checked here without queue.c: relative, no empty, "." or ".." part. */
static int inside(const char *out)
{
    if (out[0] == '/' || !out[0])
        return 0;
    for (const char *c = out;;) {
        size_t len = strcspn(c, "/");
        if (len == 0 || (len == 1 && c[0] == '.') ||
            (len == 2 && c[0] == '.' && c[1] == '.'))
            return 0;
        if (!c[len])
            return 1;
        c += len + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    queue q;
    sg_err e = {0};
    sg_code rc = queue_parse((const char *)d, n, &q, &e);
    if (rc != SG_OK) {
        if (rc != SG_EUSAGE && rc != SG_ENOMEM)
            abort();
        if (q.v || q.n || !err_msg(&e)[0])
            abort();
        err_reset(&e);
        return 0;
    }
    int last = 0;
    for (int i = 0; i < q.n; i++) {
        const queue_entry *en = &q.v[i];
        if (!en->url[0] || strpbrk(en->url, " \t\r\n") || en->line <= last)
            abort();
        for (const char *c = en->url; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                abort();
        if (en->out && !inside(en->out))
            abort();
        if (en->connections < 0 || en->connections > 64)
            abort();
        last = en->line;
    }
    queue_free(&q);
    return 0;
}
