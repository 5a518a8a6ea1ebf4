/* SPDX-License-Identifier: MIT */
/* Unit tests for queue.c: queue files, names and shards. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"

static queue parse_ok(const char *text)
{
    queue q;
    sg_err e = {0};
    cr_assert_eq(queue_parse(text, strlen(text), &q, &e), SG_OK, "%s",
                 err_msg(&e));
    return q;
}

/* The text must be refused with a message starting "line N:". */
static void parse_bad(const char *text, int line, const char *needle)
{
    queue q = {(queue_entry *)1, 7};
    sg_err e = {0};
    cr_assert_eq(queue_parse(text, strlen(text), &q, &e), SG_EUSAGE,
                 "accepted: %s", text);
    char want[32];
    snprintf(want, sizeof want, "line %d:", line);
    cr_expect(strncmp(err_msg(&e), want, strlen(want)) == 0,
              "'%s' does not start with '%s'", err_msg(&e), want);
    cr_expect(strstr(err_msg(&e), needle), "'%s' lacks '%s'", err_msg(&e),
              needle);
    cr_expect_null(q.v);
    cr_expect_eq(q.n, 0);
    err_reset(&e);
}

Test(unit_queue, urls_comments_blanks_crlf)
{
    queue q = parse_ok("# a list\n"
                       "http://h/a\r\n"
                       "\n"
                       "   \t\n"
                       "  # an indented comment\n"
                       "https://h/b  \n"
                       "http://h/c");
    cr_assert_eq(q.n, 3);
    cr_expect_str_eq(q.v[0].url, "http://h/a");
    cr_expect_eq(q.v[0].line, 2);
    cr_expect_str_eq(q.v[1].url, "https://h/b");
    cr_expect_eq(q.v[1].line, 6);
    cr_expect_str_eq(q.v[2].url, "http://h/c");
    cr_expect_eq(q.v[2].line, 7);
    cr_expect_null(q.v[0].out);
    cr_expect_eq(q.v[0].connections, 0);
    queue_free(&q);
}

Test(unit_queue, options_under_their_url)
{
    char sha[65];
    memset(sha, 'a', 64);
    sha[64] = '\0';
    char text[512];
    snprintf(text, sizeof text,
             "http://h/a\n"
             "  out=sub/dir/a.bin\n"
             "\tchecksum=sha256:%s\n"
             "  n = 4\n"
             "http://h/b\n"
             "  checksum=SHA256=%s\n",
             sha, sha);
    queue q = parse_ok(text);
    cr_assert_eq(q.n, 2);
    cr_expect_str_eq(q.v[0].out, "sub/dir/a.bin");
    cr_expect_eq(q.v[0].connections, 4);
    cr_expect(strncmp(q.v[0].checksum, "sha256:", 7) == 0);
    cr_expect_null(q.v[1].out);
    cr_expect_not_null(q.v[1].checksum);
    queue_free(&q);
}

Test(unit_queue, empty_text_and_bom)
{
    queue q = parse_ok("");
    cr_expect_eq(q.n, 0);
    queue_free(&q);
    q = parse_ok("\xef\xbb\xbfhttp://h/a\n");
    cr_assert_eq(q.n, 1);
    cr_expect_str_eq(q.v[0].url, "http://h/a");
    queue_free(&q);
}

Test(unit_queue, malformed_lines_name_their_line)
{
    parse_bad("  out=x\nhttp://h/a\n", 1, "before any URL");
    parse_bad("http://h/a\n  bogus=1\n", 2, "unknown option");
    parse_bad("http://h/a\n  out\n", 2, "key=value");
    parse_bad("http://h/a\n  out=\n", 2, "empty value");
    parse_bad("http://h/a\n  out=a\n  out=b\n", 3, "given twice");
    parse_bad("http://h/a\n  n=4\n  n=5\n", 3, "given twice");
    parse_bad("http://h/a\n\n  n=0\n", 3, "1 to 64");
    parse_bad("http://h/a\n  n=65\n", 2, "1 to 64");
    parse_bad("http://h/a\n  n=4x\n", 2, "1 to 64");
    parse_bad("http://h/a\n  n=-1\n", 2, "1 to 64");
    parse_bad("http://h/a\n  checksum=md4:00\n", 2, "sha256");
    parse_bad("http://h/a\n  checksum=sha256:abc\n", 2, "hex digits");
    parse_bad("http://h/a http://h/b\n", 1, "after the URL");
    parse_bad("http://h/a\n#\nhttp://h/\x01\n", 3, "control character");
    parse_bad("http://h/a\n  out=a\x7f\n", 2, "control character");
}

Test(unit_queue, out_must_stay_inside_the_directory)
{
    const char *bad[] = {"/etc/passwd", "..", "../x", "a/../b", "a/..",
                         "./a", "a/./b", "a//b", "a/", "."};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_expect_not(queue_out_ok(bad[i]), "%s", bad[i]);
        char text[128];
        snprintf(text, sizeof text, "http://h/a\n  out=%s\n", bad[i]);
        parse_bad(text, 2, "relative path");
    }
    const char *good[] = {"a", "a.b", "...", "..a", "a..", "d/e/f", ".hidden"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        cr_expect(queue_out_ok(good[i]), "%s", good[i]);
}

Test(unit_queue, nul_and_overlong_lines)
{
    const char text[] = "http://h/a\nhttp://h/\0b\n";
    queue q;
    sg_err e = {0};
    cr_assert_eq(queue_parse(text, sizeof text - 1, &q, &e), SG_EUSAGE);
    cr_expect(strstr(err_msg(&e), "line 2: NUL"), "%s", err_msg(&e));
    err_reset(&e);
    size_t n = QUEUE_MAX_LINE + 20;
    char *big = malloc(n + 1);
    cr_assert_not_null(big);
    memcpy(big, "http://h/", 9);
    memset(big + 9, 'a', n - 9);
    big[n] = '\0';
    cr_assert_eq(queue_parse(big, n, &q, &e), SG_EUSAGE);
    cr_expect(strstr(err_msg(&e), "line 1: longer than"), "%s", err_msg(&e));
    err_reset(&e);
    /* Exactly the limit is fine. */
    cr_assert_eq(queue_parse(big, QUEUE_MAX_LINE, &q, &e), SG_OK);
    cr_expect_eq(q.n, 1);
    queue_free(&q);
    free(big);
}

Test(unit_queue, hash_is_fnv1a_64)
{
    /* Published FNV-1a 64 test vectors. */
    cr_expect_eq(queue_hash(""), 0xcbf29ce484222325ull);
    cr_expect_eq(queue_hash("a"), 0xaf63dc4c8601ec8cull);
    cr_expect_eq(queue_hash("foobar"), 0x85944171f73967e8ull);
}

Test(unit_queue, shards_cover_every_url_exactly_once)
{
    for (int k = 1; k <= 9; k++) {
        int per[10] = {0};
        for (int u = 0; u < 2000; u++) {
            char url[64];
            snprintf(url, sizeof url, "https://mirror.example/d/%05d.bin", u);
            int owners = 0;
            for (int i = 1; i <= k; i++)
                if (queue_in_shard(url, i, k)) {
                    owners++;
                    per[i]++;
                }
            cr_assert_eq(owners, 1, "%s in %d shards of %d", url, owners, k);
        }
        /* And roughly evenly: every shard within 25% of its share. */
        for (int i = 1; i <= k; i++)
            cr_expect(per[i] > 2000 / k * 3 / 4 && per[i] < 2000 / k * 5 / 4,
                      "shard %d/%d got %d", i, k, per[i]);
    }
    cr_expect(queue_in_shard("x", 0, 0));
}

/* A fake environment: "NAME=VALUE" pairs, NULL-terminated. */
static const char *fake_env(const char *name, void *ud)
{
    const char *const *kv = ud;
    size_t n = strlen(name);
    for (; *kv; kv++)
        if (strncmp(*kv, name, n) == 0 && (*kv)[n] == '=')
            return *kv + n + 1;
    return NULL;
}

static int shard_of(const char *const *env, int *i, int *k, char *msg)
{
    *i = *k = -7;
    return queue_shard_auto(fake_env, (void *)env, i, k, msg, 300);
}

Test(unit_queue, shard_auto_from_a_job_array)
{
    char msg[300];
    int i, k;
    const char *const a[] = {"SLURM_ARRAY_TASK_ID=1",
                             "SLURM_ARRAY_TASK_COUNT=4",
                             "SLURM_ARRAY_TASK_MIN=1",
                             "SLURM_ARRAY_TASK_MAX=4", NULL};
    cr_assert_eq(shard_of(a, &i, &k, msg), 0, "%s", msg);
    cr_expect(i == 1 && k == 4);
    cr_expect(strstr(msg, "shard 1/4"), "%s", msg);
    /* --array=0-3: task 3 is the fourth shard. */
    const char *const b[] = {"SLURM_ARRAY_TASK_ID=3",
                             "SLURM_ARRAY_TASK_COUNT=4",
                             "SLURM_ARRAY_TASK_MIN=0", NULL};
    cr_assert_eq(shard_of(b, &i, &k, msg), 0, "%s", msg);
    cr_expect(i == 4 && k == 4);
    /* --array=10-16:2 is 10, 12, 14, 16. */
    const char *const c[] = {"SLURM_ARRAY_TASK_ID=14",
                             "SLURM_ARRAY_TASK_COUNT=4",
                             "SLURM_ARRAY_TASK_MIN=10",
                             "SLURM_ARRAY_TASK_MAX=16",
                             "SLURM_ARRAY_TASK_STEP=2", NULL};
    cr_assert_eq(shard_of(c, &i, &k, msg), 0, "%s", msg);
    cr_expect(i == 3 && k == 4);
    /* Every task of 0-99 is a shard, each once. */
    int seen[100] = {0};
    for (int t = 0; t < 100; t++) {
        char id[40];
        snprintf(id, sizeof id, "SLURM_ARRAY_TASK_ID=%d", t);
        const char *const d[] = {id, "SLURM_ARRAY_TASK_COUNT=100",
                                 "SLURM_ARRAY_TASK_MIN=0", NULL};
        cr_assert_eq(shard_of(d, &i, &k, msg), 0, "%s", msg);
        cr_assert(i >= 1 && i <= 100 && k == 100);
        cr_expect_eq(seen[i - 1]++, 0);
    }
    /* The array comes before srun's variables. */
    const char *const e[] = {"SLURM_PROCID=0", "SLURM_NTASKS=2",
                             "SLURM_ARRAY_TASK_ID=2",
                             "SLURM_ARRAY_TASK_COUNT=2",
                             "SLURM_ARRAY_TASK_MIN=1", NULL};
    cr_assert_eq(shard_of(e, &i, &k, msg), 0, "%s", msg);
    cr_expect(i == 2 && k == 2);
}

Test(unit_queue, shard_auto_from_srun)
{
    char msg[300];
    int i, k;
    const char *const a[] = {"SLURM_PROCID=0", "SLURM_NTASKS=3", NULL};
    cr_assert_eq(shard_of(a, &i, &k, msg), 0, "%s", msg);
    cr_expect(i == 1 && k == 3);
    cr_expect(strstr(msg, "srun"), "%s", msg);
    const char *const b[] = {"SLURM_PROCID=2", "SLURM_NTASKS=3", NULL};
    cr_assert_eq(shard_of(b, &i, &k, msg), 0, "%s", msg);
    cr_expect(i == 3 && k == 3);
}

Test(unit_queue, shard_auto_says_what_is_wrong)
{
    char msg[300];
    int i, k;
    const char *const none[] = {"HOME=/root", NULL};
    cr_expect_eq(shard_of(none, &i, &k, msg), -1);
    cr_expect(strstr(msg, "SLURM_ARRAY_TASK_ID") && strstr(msg, "SLURM_PROCID")
                  && strstr(msg, "--shard I/K"), "%s", msg);
    const char *const bad[][6] = {
        /* no count */
        {"SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_MIN=1", NULL},
        /* below MIN */
        {"SLURM_ARRAY_TASK_ID=0", "SLURM_ARRAY_TASK_COUNT=2",
         "SLURM_ARRAY_TASK_MIN=1", NULL},
        /* past the last */
        {"SLURM_ARRAY_TASK_ID=9", "SLURM_ARRAY_TASK_COUNT=2",
         "SLURM_ARRAY_TASK_MIN=1", NULL},
        /* --array=1,5,6: MIN 1, MAX 6, COUNT 3 cannot be numbered */
        {"SLURM_ARRAY_TASK_ID=5", "SLURM_ARRAY_TASK_COUNT=3",
         "SLURM_ARRAY_TASK_MIN=1", "SLURM_ARRAY_TASK_MAX=6", NULL},
        /* between steps */
        {"SLURM_ARRAY_TASK_ID=11", "SLURM_ARRAY_TASK_COUNT=4",
         "SLURM_ARRAY_TASK_MIN=10", "SLURM_ARRAY_TASK_STEP=2", NULL},
        /* not a number */
        {"SLURM_ARRAY_TASK_ID=x", "SLURM_ARRAY_TASK_COUNT=4",
         "SLURM_ARRAY_TASK_MIN=1", NULL},
        /* sbatch --array=3: one task, its part unknown */
        {"SLURM_ARRAY_TASK_ID=3", "SLURM_ARRAY_TASK_COUNT=1",
         "SLURM_ARRAY_TASK_MIN=3", "SLURM_ARRAY_TASK_MAX=3", NULL},
        {"SLURM_PROCID=3", "SLURM_NTASKS=3", NULL},
        {"SLURM_PROCID=0", NULL},
        {"SLURM_PROCID=-1", "SLURM_NTASKS=3", NULL},
    };
    for (size_t t = 0; t < sizeof bad / sizeof bad[0]; t++) {
        cr_expect_eq(shard_of(bad[t], &i, &k, msg), -1, "case %zu", t);
        cr_expect(strstr(msg, "--shard I/K"), "case %zu: %s", t, msg);
    }
}
