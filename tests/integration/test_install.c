/* SPDX-License-Identifier: MIT */
/*
 * make install / uninstall, and the example program built against the
 * installed library through pkg-config, downloading from nginx.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static srv S;
static const char *dir;
static char prefix[256], destdir[256];

static void up(void)
{
    srv_start(&S, "");
    dir = tmp_dir();
    snprintf(prefix, sizeof prefix, "%s/../prefix", dir);
    snprintf(destdir, sizeof destdir, "%s/../destdir", dir);
}

static void down(void)
{
    srv_stop(&S);
    tmp_cleanup();
}

TestSuite(install, .init = up, .fini = down, .timeout = 300);

/* Run a shell command from the source tree; the outer make's variables
 * (SANITIZE in the sanitizer pass) must not leak into the inner one. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[2048] = "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SANITIZE ";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), fmt, ap);
    va_end(ap);
    return system(cmd);
}

static const char *const files[] = {
    "bin/segget", "lib/libsegget.a", "include/segget.h",
    "lib/pkgconfig/segget.pc", "share/man/man1/segget.1",
    "share/bash-completion/completions/segget",
    "share/zsh/site-functions/_segget",
    "share/segget/segget-events.schema.json"};
#define NFILES (int)(sizeof files / sizeof files[0])

Test(install, example_builds_against_installed_pkg_config_and_downloads)
{
    cr_assert_eq(sh("make -s SANITIZE= install PREFIX=%s >/dev/null", prefix), 0);
    for (int i = 0; i < NFILES; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", prefix, files[i]);
        cr_assert(exists(p), "%s not installed", files[i]);
    }
    cr_assert_eq(sh("cc -std=c11 -Wall -Werror tests/example/example.c "
                    "$(PKG_CONFIG_PATH=%s/lib/pkgconfig pkg-config --cflags "
                    "--libs segget) -o %s/example",
                    prefix, prefix),
                 0, "the example does not build against the installed copy");
    const char *src = srv_file(&S, "f", 3 << 20, 80);
    cr_assert_eq(sh("%s/example %s %s >/dev/null 2>&1", prefix,
                    srv_url(&S, "f"), dir),
                 0);
    char got[600];
    snprintf(got, sizeof got, "%s/f", dir);
    cr_assert(same_file(got, src));
    cr_assert_eq(sh("%s/bin/segget --version | grep -q 'segget 0'", prefix), 0);
    cr_assert_eq(sh("cmp -s doc/segget-events.schema.json "
                    "%s/share/segget/segget-events.schema.json",
                    prefix),
                 0, "the installed event schema is not the source's");
    cr_assert_eq(sh("make -s SANITIZE= uninstall PREFIX=%s", prefix), 0);
    for (int i = 0; i < NFILES; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", prefix, files[i]);
        cr_assert(!exists(p), "%s left by uninstall", files[i]);
    }
}

Test(install, destdir_stages_under_prefix)
{
    cr_assert_eq(sh("make -s SANITIZE= install DESTDIR=%s PREFIX=/usr/local >/dev/null",
                    destdir),
                 0);
    char p[512];
    for (int i = 0; i < NFILES; i++) {
        snprintf(p, sizeof p, "%s/usr/local/%s", destdir, files[i]);
        cr_assert(exists(p), "%s not staged", files[i]);
    }
    cr_assert_eq(sh("grep -q '^prefix=/usr/local$' "
                    "%s/usr/local/lib/pkgconfig/segget.pc",
                    destdir),
                 0, "the .pc must name the final prefix, not DESTDIR");
    cr_assert_eq(sh("make -s SANITIZE= uninstall DESTDIR=%s PREFIX=/usr/local", destdir),
                 0);
    snprintf(p, sizeof p, "%s/usr/local/bin/segget", destdir);
    cr_assert(!exists(p));
}

Test(install, man_page_documents_every_option_of_help)
{
    /* Every long option --help lists appears in the man page, and its
     * EXIT STATUS section lists the same codes as --help. */
    cr_assert_eq(sh("tests/check-man %s man/segget.1", getenv("SEGGET_BIN")), 0);
}

Test(install, the_library_exports_its_api_alone)
{
    /* Internal functions are hidden: an installed libsegget.a defines no
     * global symbol outside the sg_ API of segget.h. */
    cr_assert_eq(sh("make -s SANITIZE= install PREFIX=%s >/dev/null", prefix), 0);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "nm -g --defined-only %s/lib/libsegget.a | "
             "awk 'NF == 3 && $3 !~ /^sg_/ {print $3}'",
             prefix);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char line[256], stray[4096] = "";
    int n = 0;
    while (fgets(line, sizeof line, p)) {
        n++;
        if (strlen(stray) + strlen(line) < sizeof stray)
            strcat(stray, line);
    }
    cr_assert_eq(pclose(p), 0);
    cr_expect_eq(n, 0, "%d symbols exported beyond sg_*:\n%s", n, stray);
    snprintf(cmd, sizeof cmd,
             "nm -g --defined-only %s/lib/libsegget.a | grep -c ' T sg_'",
             prefix);
    p = popen(cmd, "r");
    cr_assert_not_null(p);
    int api = fgets(line, sizeof line, p) ? atoi(line) : 0;
    pclose(p);
    cr_expect_geq(api, 20, "only %d sg_ functions exported", api);
}

Test(install, the_layout_keeps_curl_and_sqlite_at_their_edges)
{
    /* libcurl only in the engine, SQLite only in the journal, and the
     * command line sees nothing of the library but segget.h. */
    cr_expect_eq(sh("test -z \"$(grep -l 'include <curl/' lib/*.c lib/*.h "
                    "cli/*.c cli/*.h | grep -v '^lib/engine')\""),
                 0, "curl.h outside the engine");
    cr_expect_eq(sh("test -z \"$(grep -l 'include <sqlite3.h>' lib/*.c "
                    "lib/*.h cli/*.c cli/*.h | grep -v '^lib/journal')\""),
                 0, "sqlite3.h outside the journal");
    cr_expect_eq(sh("test -z \"$(grep -h '#include \"' cli/*.c cli/*.h | "
                    "grep -v -e cli.h -e events.h -e keys.h -e "
                    "progress.h)\""),
                 0, "the command line includes a library header");
    cr_expect_eq(sh("test -z \"$(wc -l lib/*.c lib/*.h cli/*.c cli/*.h | "
                    "awk '$2 != \"total\" && $1 > 700')\""),
                 0, "a source file over 700 lines");
}
