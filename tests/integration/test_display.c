/* SPDX-License-Identifier: MIT */
/*
 * Integration tests of what a person sees: the progress display on
 * terminals of several widths (read back through a terminal emulator,
 * tests/support/screen.h, so a wrapped or stale row is caught, not only
 * looked for), the paused display, the connection numbers the library
 * gives the map, plain lines when stderr is not a terminal, and the
 * speed of a resumed download.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <segget.h>

#include "harness.h"
#include "screen.h"
#include "wait.h"

#define MiB (INT64_C(1) << 20)

static srv S;
static const char *dir;
static pty_run T;

static void up(void)
{
    dir = tmp_dir();
}

static void down(void)
{
    pty_close(&T);
    wait_srv_ready(&S, WAIT_MS); /* a test may not have used it */
    srv_stop(&S);
    tmp_cleanup();
}

TestSuite(display, .init = up, .fini = down, .timeout = 120);

/* A map row: "[", cells and connection numbers, "]". */
static int is_map(const char *r)
{
    size_t n = strlen(r);
    return n >= 3 && r[0] == '[' && r[n - 1] == ']' &&
           strspn(r + 1, "#-.*0123456789abcdefghijklmnopqrstuvwxyz"
                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == n - 2;
}

/* A status row: it starts with a percentage ("42.0%"). */
static int is_status(const char *r)
{
    double pct;
    char c = 0;
    return sscanf(r, "%lf%c", &pct, &c) == 2 && c == '%';
}

typedef struct seen {
    int maps, statuses; /* such rows on the screen */
    int stale;          /* rows a wrap left, bar wrapped notices */
    int too_wide;       /* map or status rows reaching the last column */
    int map_len;        /* the length of the last map row */
    char status[256];   /* the last status row */
} seen;

/* What the screen shows after out: no display row may be left behind by
 * a redraw, none may reach the last column, and the only wrapped rows
 * are those of long notices ("segget: ..."), printed once. */
static seen look(screen *sc, int cols)
{
    seen w = {0};
    int notice = 0;
    for (int i = 0; i < screen_rows(sc); i++) {
        const char *r = screen_row(sc, i);
        if (screen_wrapped(sc, i)) {
            w.stale += !notice;
            continue;
        }
        notice = strncmp(r, "segget: ", 8) == 0;
        if (is_map(r)) {
            w.maps++;
            w.map_len = (int)strlen(r);
        } else if (is_status(r)) {
            w.statuses++;
            snprintf(w.status, sizeof w.status, "%s", r);
        } else {
            continue;
        }
        w.too_wide += (int)strlen(r) >= cols;
    }
    return w;
}

/* The screen of a terminal cols wide after T's output. */
static screen *screen_of(int cols)
{
    screen *sc = screen_new(cols, 24);
    screen_feed(sc, T.out, T.len);
    return sc;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

Test(display, every_width_from_20_columns_leaves_no_stale_rows)
{
    srv_start(&S, "limit_rate 1m; sendfile_max_chunk 64k;");
    /* 2 MiB a connection at 1 MiB/s (of which nginx sends a second's
     * worth at once): a second or more, several redraws. */
    const char *src = srv_file(&S, "w.bin", 8 * MiB, 90);
    char path[600], name[32];
    snprintf(path, sizeof path, "%s", src);
    const int widths[] = {20, 40, 80, 200};
    for (size_t k = 0; k < sizeof widths / sizeof *widths; k++) {
        int cols = widths[k];
        snprintf(name, sizeof name, "w%d.bin", cols);
        const char *argv[] = {"-n", "4", "-o", name, srv_url(&S, "w.bin"),
                              NULL};
        pty_spawn_size(&T, dir, argv, cols, 24);
        int st = pty_wait_exit(&T, 60000);
        cr_assert_eq(st, 0, "%d columns: exit %d: %s", cols, st, T.out);
        pty_close(&T);
        char got[700];
        snprintf(got, sizeof got, "%s/%s", dir, name);
        cr_assert(same_file(got, path), "%d columns", cols);
        /* Drawn several times, each time going back over the map. */
        cr_expect_geq(count(T.out, "\033[1A"), 2,
                      "%d columns: not redrawn in place: %s", cols, T.out);
        screen *sc = screen_of(cols);
        seen w = look(sc, cols);
        cr_expect_eq(w.stale, 0, "%d columns: %d rows left by wrapping", cols,
                     w.stale);
        cr_expect_eq(w.too_wide, 0, "%d columns: rows in the last column",
                     cols);
        cr_expect_eq(w.maps, 1, "%d columns: %d map rows on the screen", cols,
                     w.maps);
        cr_expect_eq(w.statuses, 1, "%d columns: %d status rows", cols,
                     w.statuses);
        cr_expect_eq(w.map_len, cols - 1, "%d columns: a map of %d", cols,
                     w.map_len);
        cr_expect(strstr(w.status, "100.0%"), "%d columns: %s", cols, w.status);
        /* Wide enough, the status says everything. */
        if (cols >= 80)
            cr_expect(strstr(w.status, " / 8.0 MiB") &&
                          strstr(w.status, "/s") && strstr(w.status, "ETA") &&
                          strstr(w.status, "conn"),
                      "%d columns: %s", cols, w.status);
        int saved = 0;
        for (int i = 0; i < screen_rows(sc); i++)
            saved += strncmp(screen_row(sc, i), "segget: saved w", 15) == 0;
        cr_expect_eq(saved, 1, "%d columns: the summary", cols);
        screen_free(sc);
    }
}

/* The row the cursor is on: the status line being shown. */
static int status_paused(void)
{
    screen *sc = screen_of(40);
    int y = screen_cursor_row(sc);
    char row[256], above[256] = "";
    snprintf(row, sizeof row, "%s", screen_row(sc, y));
    if (y > 0)
        snprintf(above, sizeof above, "%s", screen_row(sc, y - 1));
    screen_free(sc);
    if (!is_status(row) || !strstr(row, "paused"))
        return 0;
    cr_expect(!strstr(row, "/s") && !strstr(row, "ETA") && !strstr(row, "conn"),
              "paused, yet: %s", row);
    /* No connection is at work: the map shows no numbers. */
    cr_expect(is_map(above) && strspn(above + 1, "#-.") == strlen(above) - 2,
              "the map while paused: %s", above);
    return 1;
}

Test(display, paused_shows_paused_and_no_rate)
{
    srv_start(&S, "limit_rate 512k; sendfile_max_chunk 64k;");
    const char *src = srv_file(&S, "p.bin", 8 * MiB, 91);
    char path[600];
    snprintf(path, sizeof path, "%s", src);
    const char *argv[] = {"-n", "4", srv_url(&S, "p.bin"), NULL};
    pty_spawn_size(&T, dir, argv, 40, 24);
    /* Keys are read once the status shows (the terminal is taken before
     * the first draw). */
    cr_assert(pty_wait_output(&T, "%", 15000), "no progress: %s", T.out);
    pty_type(&T, "p", 1);
    cr_assert(pty_wait_output(&T, "paused; press c", 15000), "%s", T.out);
    int64_t until = mono_ms() + WAIT_MS;
    int shown = 0;
    while (!(shown = status_paused()) && mono_ms() < until && T.pid > 0)
        pty_drain(&T, 50);
    cr_assert(shown, "no 'paused' status: %s", T.out);
    pty_type(&T, "c", 1);
    int st = pty_wait_exit(&T, 60000);
    cr_assert_eq(st, 0, "exit %d: %s", st, T.out);
    char got[600];
    snprintf(got, sizeof got, "%s/p.bin", dir);
    cr_assert(same_file(got, path));
    screen *sc = screen_of(40);
    seen w = look(sc, 40);
    cr_expect_eq(w.stale + w.too_wide, 0, "stale or wide rows");
    cr_expect_eq(w.maps, 1, "%d map rows", w.maps);
    cr_expect_eq(w.statuses, 1, "%d status rows", w.statuses);
    cr_expect(strstr(w.status, "100.0%") && !strstr(w.status, "paused"), "%s",
              w.status);
    screen_free(sc);
}

/* --- the connection numbers of sg_segment --- */

typedef struct numbers {
    int snapshots, splits, labelled;
    int last_n;
    char bad[256];
} numbers;

static void check_numbers(const sg_progress *p, void *ud)
{
    numbers *k = ud;
    if (p->state != SG_STATE_DOWNLOADING || k->bad[0])
        return;
    k->snapshots++;
    k->splits += k->last_n && p->nsegments > k->last_n;
    k->last_n = p->nsegments;
    int used[65] = {0}, shown = 0;
    for (int i = 0; i < p->nsegments; i++) {
        const sg_segment *g = &p->segments[i];
        if ((g->active != 0) != (g->conn > 0) || g->conn < 0 || g->conn > 4)
            snprintf(k->bad, sizeof k->bad,
                     "segment %d: active %d, connection %d", i, g->active,
                     g->conn);
        else if (g->conn && used[g->conn]++)
            snprintf(k->bad, sizeof k->bad,
                     "connection %d shown on two segments", g->conn);
        shown += g->conn > 0;
    }
    if (shown > p->connections && !k->bad[0])
        snprintf(k->bad, sizeof k->bad, "%d numbers for %d connections", shown,
                 p->connections);
    k->labelled += shown > 0;
}

Test(display, each_running_segment_carries_its_connection_number)
{
    /* Every third connection crawls: ranges are split and reassigned. */
    const char *args[] = {"--size",       "12582912", "--seed",
                          "92",           "--rate",   "4000000",
                          "--slow-every", "3",        "--slow-rate",
                          "200000",       NULL};
    fsrv_start(&S, args);
    cr_assert_eq(sg_global_init(), SG_OK);
    numbers k = {0};
    sg_options o;
    sg_options_init(&o);
    o.connections = 4;
    o.dir = dir;
    o.output = "n.bin";
    o.progress = check_numbers;
    o.userdata = &k;
    sg_download *dl = NULL;
    cr_assert_eq(sg_download_new(&dl, srv_url(&S, "data"), &o), SG_OK);
    sg_code rc = sg_download_run(dl);
    cr_assert_eq(rc, SG_OK, "%s", sg_download_error(dl));
    sg_download_free(dl);
    sg_global_cleanup();
    cr_assert_str_empty(k.bad, "%s", k.bad);
    cr_expect_geq(k.labelled, 2, "numbers in %d of %d snapshots", k.labelled,
                  k.snapshots);
    cr_expect_geq(k.splits, 1, "no range was split");
    char got[600];
    snprintf(got, sizeof got, "%s/n.bin", dir);
    cr_expect(same_content(got, 92, 12 * MiB));
}

/* --- not a terminal --- */

/* Lines of last_stderr() that are neither notices nor the summary. */
static int plain_lines(const char *name, char *first, size_t len)
{
    int n = 0;
    const char *e = last_stderr();
    for (const char *l = e; *l;
         l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
        size_t ll = strcspn(l, "\n");
        if (ll == 0 || strncmp(l, "segget: ", 8) == 0)
            continue;
        cr_expect(strncmp(l, name, strlen(name)) == 0 && l[strlen(name)] == ':',
                  "a line without the file's name: %.*s", (int)ll, l);
        char one[512];
        snprintf(one, sizeof one, "%.*s", (int)ll, l);
        cr_expect(strstr(one, " elapsed"), "a line without the time: %s", one);
        if (n++ == 0)
            snprintf(first, len, "%s", one);
    }
    return n;
}

Test(display, plain_lines_name_the_file_and_the_time)
{
    srv_start(&S, "limit_rate 512k; sendfile_max_chunk 64k;");
    srv_file(&S, "q.bin", 64 * 1024, 93);
    srv_file(&S, "slow.bin", 8 * MiB, 94);
    /* Over within the first interval: the summary alone. */
    char url[256], first[512] = "";
    snprintf(url, sizeof url, "%s", srv_url(&S, "q.bin"));
    const char *argv[] = {url, NULL};
    cr_assert_eq(run_segget(dir, argv, 60), 0, "%s", last_stderr());
    cr_expect_eq(plain_lines("q.bin", first, sizeof first), 0,
                 "progress for a quick download: %s", last_stderr());
    cr_expect(strstr(last_stderr(), "segget: saved q.bin ("), "%s",
              last_stderr());
    /* About 7 s at 1 MiB/s (nginx lets a second's worth go at once): a
     * line at 5 s, naming the file and the time. */
    snprintf(url, sizeof url, "%s", srv_url(&S, "slow.bin"));
    const char *argv2[] = {"-n", "2", url, NULL};
    cr_assert_eq(run_segget(dir, argv2, 90), 0, "%s", last_stderr());
    int n = plain_lines("slow.bin", first, sizeof first);
    cr_expect_geq(n, 1, "no progress line: %s", last_stderr());
    int m = -1, s = -1;
    const char *t = strstr(first, ", ");
    while (t && strstr(t + 1, ", "))
        t = strstr(t + 1, ", ");
    cr_assert(t && sscanf(t, ", %d:%d elapsed", &m, &s) == 2, "%s", first);
    cr_expect_geq(m * 60 + s, 5, "the first line came early: %s", first);
    cr_expect_null(strchr(last_stderr(), '\033'), "%s", last_stderr());
}

/* --- resumed --- */

Test(display, a_resumed_download_rates_only_what_it_fetched)
{
    srv_start(&S, "limit_rate 1m; sendfile_max_chunk 64k;");
    const char *src = srv_file(&S, "r.bin", 8 * MiB, 95);
    char path[600];
    snprintf(path, sizeof path, "%s", src);
    const char *argv[] = {"-q", "-n", "2", srv_url(&S, "r.bin"), NULL};
    pid_t pid = spawn_segget(dir, argv);
    AWAIT(wait_written(pid, 4 * MiB, WAIT_MS));
    kill(pid, SIGINT);
    int st1 = wait_child(pid, 60);
    cr_assert_eq(st1, 11, "the first run: exit %d: %s", st1, last_stderr());
    const char *argv2[] = {"-n", "2", srv_url(&S, "r.bin"), NULL};
    pty_spawn_size(&T, dir, argv2, 100, 24);
    int st = pty_wait_exit(&T, 60000);
    cr_assert_eq(st, 0, "exit %d: %s", st, T.out);
    char got[600];
    snprintf(got, sizeof got, "%s/r.bin", dir);
    cr_assert(same_file(got, path));
    screen *sc = screen_of(100);
    double fetched = -1, secs = -1, rate = -1;
    char line[256] = "";
    for (int i = 0; i < screen_rows(sc); i++)
        if (strncmp(screen_row(sc, i), "segget: saved", 13) == 0)
            snprintf(line, sizeof line, "%s", screen_row(sc, i));
    screen_free(sc);
    cr_assert(sscanf(line,
                     "segget: saved r.bin (8.0 MiB, %lf MiB of it in %lf s, "
                     "%lf MiB/s)",
                     &fetched, &secs, &rate) == 3,
              "the summary: %s", line);
    cr_expect(fetched > 0 && fetched < 4.5, "%s", line);
    /* The rate is what was fetched over the time, not the whole file,
     * each figure being rounded to a tenth (of a MiB, of a second, of a
     * MiB/s). */
    double lo = (fetched - 0.05) / (secs + 0.05) - 0.05;
    double hi = secs > 0.05 ? (fetched + 0.05) / (secs - 0.05) + 0.05 : 1e9;
    cr_expect(rate >= lo && rate <= hi, "%s: not %.2f-%.2f MiB/s", line, lo,
              hi);
    cr_expect_lt(rate, 7.95 / (secs + 0.05) - 0.05, "%s", line);
}
