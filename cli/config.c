/* SPDX-License-Identifier: MIT */
/*
 * config.c - defaults a user keeps: $XDG_CONFIG_HOME/segget/config (else
 * ~/.config/segget/config), one long option per line, as .curlrc and
 * aria2.conf hold them:
 *
 *     # comments and blank lines are skipped
 *     connections 16
 *     limit-rate = 20M
 *     --cacert /etc/ssl/private-ca.pem
 *     no-verify
 *
 * A name may carry its "--"; its value follows after spaces or '=' and
 * may be quoted with "...".  The options go before the command line's,
 * which therefore win.  --no-config on the command line skips the file;
 * a file that is not there is no error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The file's path, or NULL without HOME and XDG_CONFIG_HOME. */
static char *config_path(void)
{
    const char *x = getenv("XDG_CONFIG_HOME"), *h = getenv("HOME");
    char *p = NULL;
    if (x && x[0] == '/') {
        size_t n = strlen(x) + 32;
        if ((p = malloc(n)))
            snprintf(p, n, "%s/segget/config", x);
    } else if (h && h[0]) {
        size_t n = strlen(h) + 32;
        if ((p = malloc(n)))
            snprintf(p, n, "%s/.config/segget/config", h);
    }
    return p;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && strchr(" \t\r\n", s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* One line into "--name" or "--name=value" (heap), or NULL with *bad set
 * to the reason (*bad NULL: nothing on the line). */
static char *option_of(char *line, const char **bad)
{
    *bad = NULL;
    char *s = trim(line);
    if (!*s || *s == '#')
        return NULL;
    if (s[0] == '-' && s[1] == '-')
        s += 2;
    size_t nl = strcspn(s, " \t=");
    char *v = s + nl;
    int takes = 0;
    if (!cli_long_option(s, nl, &takes)) {
        *bad = "unknown option";
        return NULL;
    }
    if (*v)
        *v++ = '\0';
    v = trim(v);
    if (*v == '=')
        v = trim(v + 1);
    size_t vl = strlen(v);
    if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
        v[vl - 1] = '\0';
        v++;
    }
    if (takes && !*v) {
        *bad = "needs a value";
        return NULL;
    }
    if (!takes && *v) {
        *bad = "takes no value";
        return NULL;
    }
    size_t n = strlen(s) + strlen(v) + 4;
    char *o = malloc(n);
    if (o)
        snprintf(o, n, takes ? "--%s=%s" : "--%s", s, v);
    else
        *bad = "out of memory";
    return o;
}

int cli_config(int *argc, char ***argv)
{
    for (int i = 1; i < *argc; i++) {
        if (strcmp((*argv)[i], "--") == 0)
            break;
        if (strcmp((*argv)[i], "--no-config") == 0)
            return -1;
    }
    char *path = config_path();
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) {
        int missing = !path || errno == ENOENT || errno == ENOTDIR;
        if (!missing)
            fprintf(stderr, "segget: cannot read %s: %s\n", path,
                    strerror(errno));
        free(path);
        return missing ? -1 : 1;
    }
    /* argv[0], the file's options, then the command line's. */
    size_t cap = (size_t)*argc + 16, n = 1;
    char **v = malloc(cap * sizeof *v);
    char line[8192];
    int no = 0, rc = -1;
    if (!v) {
        fclose(f);
        free(path);
        return 6;
    }
    v[0] = (*argv)[0];
    while (fgets(line, sizeof line, f)) {
        no++;
        const char *bad;
        char *o = option_of(line, &bad);
        if (!o && bad) {
            fprintf(stderr, "segget: %s, line %d: %s\n", path, no, bad);
            rc = 1;
            break;
        }
        if (!o)
            continue;
        if (n + (size_t)*argc + 1 >= cap) {
            char **t = realloc(v, (cap *= 2) * sizeof *v);
            if (!t) {
                free(o);
                rc = 6;
                break;
            }
            v = t;
        }
        v[n++] = o;
    }
    fclose(f);
    free(path);
    if (rc >= 0) {
        free(v); /* the options are the process's until it exits */
        return rc;
    }
    for (int i = 1; i < *argc; i++)
        v[n++] = (*argv)[i];
    v[n] = NULL;
    *argc = (int)n;
    *argv = v;
    return -1;
}
