/* SPDX-License-Identifier: MIT */
/*
 * The durability rule, checked from outside: kill -9 at 50 random points
 * and, after each kill, every byte the journal claims must lie in a range
 * that an fdatasync had finished with (as recorded by the LD_PRELOAD shim
 * in "order" mode) and must be the server's byte.  Downloads that finish
 * between kills are checked for exactness and started again.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "content.h"
#include "harness.h"
#include "wait.h"

#define MiB (INT64_C(1) << 20)
#define SIZE (12 * MiB)
#define SEED 90

static srv S;
static const char *dir;
static char path[512], logpath[600];

static void up(void)
{
    dir = tmp_dir();
    snprintf(path, sizeof path, "%s/data", dir);
    snprintf(logpath, sizeof logpath, "%s/../synced.log", dir);
}

static void down(void)
{
    srv_stop(&S);
    tmp_cleanup();
}

TestSuite(durability, .init = up, .fini = down, .timeout = 300);

static long long synced[65536][2];
static int nsynced;

static void load_synced(void)
{
    nsynced = 0;
    FILE *f = fopen(logpath, "r");
    if (!f)
        return;
    while (nsynced < 65536 &&
           fscanf(f, "%lld %lld", &synced[nsynced][0], &synced[nsynced][1]) ==
               2)
        nsynced++;
    fclose(f);
}

/* Is [a, b) covered by the union of synced ranges? */
static int covered(long long a, long long b)
{
    while (a < b) {
        long long reach = a;
        for (int i = 0; i < nsynced; i++)
            if (synced[i][0] <= a && synced[i][1] > reach)
                reach = synced[i][1];
        if (reach == a)
            return 0;
        a = reach;
    }
    return 1;
}

/* Check every claim of the journal; returns the bytes claimed. */
static long long check_claims(unsigned seed, int kill_no)
{
    char j[600];
    snprintf(j, sizeof j, "%s.segget", path);
    char part[600];
    snprintf(part, sizeof part, "%s.part", path);
    sqlite3 *db;
    sqlite3_stmt *st;
    long long claimed = 0;
    if (!exists(j))
        return 0;
    cr_assert_eq(sqlite3_open_v2(j, &db, SQLITE_OPEN_READONLY, NULL),
                 SQLITE_OK);
    if (sqlite3_prepare_v2(db, "SELECT start, done FROM segment", -1, &st,
                           NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return 0; /* killed before the schema existed */
    }
    load_synced();
    /* Killed between the rename and the journal's removal: a verified
     * journal's bytes are under the final name. */
    int verified = 0;
    sqlite3_stmt *vs;
    if (sqlite3_prepare_v2(db, "SELECT verified FROM download", -1, &vs,
                           NULL) == SQLITE_OK) {
        if (sqlite3_step(vs) == SQLITE_ROW)
            verified = sqlite3_column_int(vs, 0);
        sqlite3_finalize(vs);
    }
    FILE *f = fopen(part, "rb");
    if (!f && verified)
        f = fopen(path, "rb");
    static unsigned char got[1 << 16], want[1 << 16];
    while (sqlite3_step(st) == SQLITE_ROW) {
        long long a = sqlite3_column_int64(st, 0),
                  b = sqlite3_column_int64(st, 1);
        if (a == b)
            continue;
        claimed += b - a;
        cr_assert(covered(a, b),
                  "seed %u kill %d: the journal claims %lld-%lld before an "
                  "fdatasync covered it",
                  seed, kill_no, a, b);
        cr_assert_not_null(f, "claims without a data file");
        for (long long at = a; at < b;) {
            long long left = b - at;
            size_t n = left < (long long)sizeof got ? (size_t)left
                                                    : sizeof got;
            cr_assert_eq(fseeko(f, at, SEEK_SET), 0);
            cr_assert_eq(fread(got, 1, n, f), n);
            content_fill(SEED, (uint64_t)at, want, n);
            cr_assert_eq(memcmp(got, want, n), 0,
                         "seed %u kill %d: claimed bytes near %lld are wrong",
                         seed, kill_no, at);
            at += (long long)n;
        }
    }
    if (f)
        fclose(f);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return claimed;
}

Test(durability, journal_never_claims_unsynced_bytes_over_50_kills)
{
    const char *args[] = {"--size", "12582912", "--seed", "90", "--rate",
                          "1500000", NULL};
    fsrv_start(&S, args);
    static char shimlog[700];
    snprintf(shimlog, sizeof shimlog, "SG_SHIM_LOG=%s", logpath);
    segget_shim("SG_SHIM=order");
    segget_env(shimlog);
    const char *argv[] = {"-q", "-n", "4", "--min-split", "256K",
                          srv_url(&S, "data"), NULL};
    unsigned seed = (unsigned)time(NULL);
    srand(seed);
    int kills = 0, finished = 0;
    long long most = 0;
    while (kills < 50) {
        /* Every run starts with a HEAD, which the server logs as a 200
         * (ranges are 206): once it is logged the run is under way, and
         * the kill lands at a random point after it. */
        int probes = srv_requests(&S, 200);
        pid_t pid = spawn_segget(dir, argv);
        if (wait_requests(&S, 200, probes, pid, WAIT_MS))
            nap_ms(30 + rand() % 900); /* fault injection: a random point */
        kill(pid, SIGKILL);
        int rc = wait_child(pid, 60);
        char jp[600];
        snprintf(jp, sizeof jp, "%s.segget", path);
        if (rc == 0 || (exists(path) && !exists(jp))) {
            /* Finished first (or killed after its journal was gone, with
             * nothing left to do): check it and start a new download. */
            cr_assert(same_content(path, SEED, SIZE), "seed %u", seed);
            unlink(path);
            unlink(logpath);
            finished++;
            continue;
        }
        cr_assert_eq(rc, 128 + SIGKILL, "seed %u: exit %d: %s", seed, rc,
                     last_stderr());
        kills++;
        long long c = check_claims(seed, kills);
        most = c > most ? c : most;
    }
    segget_env(NULL);
    cr_assert_gt(most, 0, "seed %u: no kill found a claim to check", seed);
    /* The loop ends on a kill: the same command finishes the download. */
    int rc = run_segget(dir, argv, 120);
    cr_assert_eq(rc, 0, "seed %u: %s", seed, last_stderr());
    cr_assert(same_content(path, SEED, SIZE), "seed %u", seed);
}
