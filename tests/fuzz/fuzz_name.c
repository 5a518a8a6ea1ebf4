/* SPDX-License-Identifier: MIT */
/* libFuzzer: no URL path and no Content-Disposition yields a name that
 * leaves the output directory or that a file system would refuse. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "name.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    char *path = malloc(n + 1);
    if (!path)
        return 0;
    memcpy(path, d, n);
    path[n] = '\0';
    char *name = name_from_path(path);
    if (!name)
        abort();
    size_t len = strlen(name);
    if (len == 0 || len > NAME_MAX_LEN || strchr(name, '/') ||
        strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        abort();
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            abort();
    free(name);
    free(path);
    /* The same promises for a server's Content-Disposition proposal. */
    name = name_from_disposition((const char *)d, n);
    if (name) {
        len = strlen(name);
        if (len == 0 || len > NAME_MAX_LEN || strchr(name, '/') ||
            strchr(name, '\\') || strcmp(name, ".") == 0 ||
            strcmp(name, "..") == 0)
            abort();
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
                abort();
        free(name);
    }
    return 0;
}
