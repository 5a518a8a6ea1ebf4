/* SPDX-License-Identifier: MIT */
/*
 * --json: the shapes the other suites do not reach, and the checker
 * itself.
 *
 * Every segget these tests run with --json is checked by the harness
 * when it is reaped (events_check(): tests/validate-events against
 * doc/segget-events.schema.json, and the last event against the exit
 * status); here we look at what the events say: unknown sizes as null,
 * the HTTP status of a failure after its retries, a batch's skipped
 * files, its errors before any download (an unreadable or malformed
 * queue), and an interrupted download.  The first test makes sure the
 * checker refuses what the schema does not describe, so a check that
 * passes means something.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cases.h"
#include "harness.h"
#include "wait.h"

#define MiB (1024 * 1024)

static srv S;
static const char *dir;
static char jpath[600], qpath[600], bad[600];

static void up(void)
{
    memset(&S, 0, sizeof S);
    dir = tmp_dir();
    snprintf(jpath, sizeof jpath, "%s/../events.json", dir);
    snprintf(qpath, sizeof qpath, "%s/../queue.txt", dir);
    snprintf(bad, sizeof bad, "%s/../bad.json", dir);
}

static void down(void)
{
    segget_stdout(NULL);
    if (S.root[0])
        srv_stop(&S);
    memset(&S, 0, sizeof S);
    tmp_cleanup();
}

TestSuite(json, .init = up, .fini = down, .timeout = 240);

/* The whole events file, in a static buffer. */
static const char *events(void)
{
    static char b[1 << 16];
    FILE *f = fopen(jpath, "r");
    cr_assert_not_null(f);
    size_t n = fread(b, 1, sizeof b - 1, f);
    fclose(f);
    b[n] = '\0';
    return b;
}

/* The last event, in a static buffer. */
static const char *last_event(void)
{
    static char line[8192], last[8192];
    FILE *f = fopen(jpath, "r");
    cr_assert_not_null(f);
    last[0] = '\0';
    while (fgets(line, sizeof line, f))
        memcpy(last, line, sizeof last);
    fclose(f);
    return last;
}

/* tests/validate-events on text (written as is); its exit status. */
static int validate(const char *text, int exit_status)
{
    case_write(bad, text);
    char cmd[1600];
    if (exit_status >= 0)
        snprintf(cmd, sizeof cmd,
                 "tests/validate-events --exit %d '%s' 2>/dev/null",
                 exit_status, bad);
    else
        snprintf(cmd, sizeof cmd, "tests/validate-events '%s' 2>/dev/null",
                 bad);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define START                                                                  \
    "{\"event\":\"start\",\"schema\":3,\"url\":\"http://h/f\",\"path\":"       \
    "\"f\",\"size\":10,\"etag\":null,\"last_modified\":null,\"resumed\":"      \
    "0,\"plan\":[{\"start\":0,\"end\":10,\"written\":0}]}\n"
#define SEGMENT                                                                \
    "{\"event\":\"segment\",\"schema\":3,\"state\":\"done\",\"start\":0,"      \
    "\"end\":10,\"written\":10}\n"
#define PROGRESS                                                               \
    "{\"event\":\"progress\",\"schema\":3,\"received\":10,\"total\":10,"       \
    "\"durable\":10,\"rate\":5,\"connections\":1,\"elapsed\":0.5}\n"
#define FINISH                                                                 \
    "{\"event\":\"finish\",\"schema\":3,\"exit\":0,\"path\":\"f\","            \
    "\"size\":10,\"seconds\":1.0,\"already_complete\":false,"                  \
    "\"verified\":null}\n"
#define FAILED                                                                 \
    "{\"event\":\"file\",\"schema\":3,\"line\":1,\"state\":\"failed\","        \
    "\"url\":\"http://h/f\",\"path\":\"f\",\"error\":\"HTTP 404\","            \
    "\"exit\":3,\"http_status\":404}\n"
#define BATCH_ERROR                                                            \
    "{\"event\":\"error\",\"schema\":3,\"exit\":3,\"files_total\":1,"          \
    "\"files_done\":0,\"files_skipped\":0,\"files_failed\":1,\"bytes\":0,"     \
    "\"seconds\":0.1,\"shard\":{\"index\":2,\"count\":4},\"failures\":"  \
    "[{\"line\":1,\"url\":\"http://h/f\",\"path\":\"f\",\"exit\":3,"         \
    "\"http_status\":404,\"message\":\"HTTP 404\"}],\"failures_more\":0,"    \
    "\"message\":\"1 of 1 files failed; line 1: HTTP "                         \
    "404\",\"http_status\":404}\n"

Test(json, the_checker_refuses_what_the_schema_does_not_describe)
{
    /* What segget writes passes. */
    cr_expect_eq(validate(START SEGMENT PROGRESS FINISH, 0), 0);
    cr_expect_eq(validate(FAILED BATCH_ERROR, 3), 0);
    cr_expect_eq(validate(START PROGRESS, -1), 0, "a killed run");
    cr_expect_eq(validate("", 1), 0, "a usage error writes no event");

    /* Shapes that are not version 2's. */
    cr_expect_eq(validate("{\"event\":\"notice\",\"message\":\"m\"}\n", -1), 1,
                 "no schema member");
    cr_expect_eq(validate("{\"event\":\"notice\",\"schema\":1,\"message\":"
                          "\"m\"}\n",
                          -1),
                 1, "another version");
    cr_expect_eq(validate("{\"event\":\"progress\",\"schema\":3,\"total\":2,"
                          "\"done\":0,\"skipped\":0,\"failed\":0,\"active\":"
                          "1,\"bytes\":0,\"rate\":0,\"elapsed\":0.1}\n",
                          -1),
                 1, "a batch's old counts");
    cr_expect_eq(validate("{\"event\":\"segment\",\"schema\":3,\"state\":"
                          "\"done\",\"start\":0,\"end\":10,\"done\":10}\n",
                          -1),
                 1, "a segment's old absolute done");
    cr_expect_eq(validate("{\"event\":\"gone\",\"schema\":3}\n", -1), 1,
                 "an unknown event");
    cr_expect_eq(validate("{\"event\":\"notice\",\"schema\":3,\"message\":"
                          "\"m\",\"extra\":1}\n",
                          -1),
                 1, "a member the schema does not name");
    cr_expect_eq(validate("{\"event\":\"file\",\"schema\":3,\"line\":1,"
                          "\"state\":\"failed\",\"url\":\"u\",\"path\":"
                          "\"f\",\"error\":\"e\"}\n",
                          -1),
                 1, "a failed file without its exit and HTTP status");
    cr_expect_eq(validate("{\"event\":\"error\",\"schema\":3,\"exit\":3,"
                          "\"message\":null,\"path\":null,\"http_status\":"
                          "null}\n",
                          3),
                 1, "an error without a message");
    cr_expect_eq(validate("{\"event\":\"finish\",\"schema\":3,\"exit\":0,"
                          "\"files_total\":1,\"files_done\":1,"
                          "\"files_skipped\":0,\"files_failed\":0,"
                          "\"bytes\":1,\"seconds\":0.1}\n",
                          0),
                 1, "a batch's last event without its shard and failures");
    cr_expect_eq(validate("{\"event\":\"error\",\"schema\":3,\"exit\":3,"
                          "\"files_total\":1,\"files_done\":0,"
                          "\"files_skipped\":0,\"files_failed\":1,"
                          "\"bytes\":0,\"seconds\":0.1,\"shard\":{\"index\":"
                          "0,\"count\":4},\"failures\":[{\"line\":1}],"
                          "\"failures_more\":0,\"message\":\"m\","
                          "\"http_status\":null}\n",
                          3),
                 1, "shard 0, and a failure without its URL and message");

    /* Lines that are not one JSON object in UTF-8. */
    cr_expect_eq(validate("{\"event\":\"notice\",\"schema\":3,\"message\":"
                          "\"m\"}",
                          -1),
                 1, "a torn last line");
    cr_expect_eq(validate("{\"event\":\"notice\",\"schema\":3,\"message\":"
                          "\"a\xff\"}\n",
                          -1),
                 1, "a byte that is not UTF-8");
    cr_expect_eq(validate("{\"event\":\"notice\",\"schema\":3,\"message\":"
                          "\"m\",\"message\":\"n\"}\n",
                          -1),
                 1, "a member twice");
    cr_expect_eq(validate("{\"event\":\"progress\",\"schema\":3,\"received\":"
                          "1,\"total\":null,\"durable\":0,\"rate\":NaN,"
                          "\"connections\":1,\"elapsed\":0.5}\n",
                          -1),
                 1, "NaN");

    /* The end of a run. */
    cr_expect_eq(validate(START PROGRESS, 0), 1, "no last event");
    cr_expect_eq(validate(START FINISH, 3), 1, "exit 0 said, 3 given");
    cr_expect_eq(validate(FINISH FINISH, 0), 1, "two last events");
    cr_expect_eq(validate(FINISH PROGRESS, 0), 1, "an event after the end");
    cr_expect_eq(validate("", 0), 1, "nothing at all, and exit 0");
}

Test(json, a_file_of_unknown_length_has_null_sizes)
{
    const char *x[] = {"--chunked", NULL};
    case_fault(&S, 3 * MiB + 7, 61, x);
    /* With credentials in the URL: start names it without them. */
    char url[320], plain[300];
    snprintf(plain, sizeof plain, "%s", srv_url(&S, "data"));
    snprintf(url, sizeof url, "http://u:secret@%s", plain + 7);
    segget_stdout(jpath);
    const char *o[] = {"--json", "-o", "out.bin", NULL};
    int rc = case_single(dir, o, url, NULL, 60);
    segget_stdout(NULL);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(same_content(case_path(dir, "out.bin"), 61, 3 * MiB + 7));
    const char *t = events();
    cr_expect_null(strstr(t, "secret"), "%s", t);
    char want[400];
    snprintf(want, sizeof want,
             "{\"event\":\"start\",\"schema\":3,\"url\":\"%s\",", plain);
    cr_expect(strstr(t, want), "%s", t);
    cr_expect(strstr(t, "\"path\":\"out.bin\",\"size\":null,"), "%s", t);
    cr_expect(strstr(t, "\"plan\":[{\"start\":0,\"end\":null,\"written\":0}]"),
              "%s", t);
    cr_expect(strstr(last_event(), "\"path\":\"out.bin\",\"size\":3145735,"),
              "%s", last_event());
}

Test(json, an_http_status_outlasting_the_retries_is_named)
{
    const char *x[] = {"--fail-status", "503", "--fail-count", "-1", NULL};
    case_fault(&S, 1 * MiB, 62, x);
    segget_stdout(jpath);
    const char *o[] = {"--json", "--max-tries", "2", "-o", "out.bin", NULL};
    int rc = case_single(dir, o, srv_url(&S, "data"), NULL, 60);
    cr_assert_eq(rc, 3, "exit %d: %s", rc, last_stderr());
    const char *e = last_event();
    cr_expect(strstr(e, "{\"event\":\"error\",\"schema\":3,\"exit\":3,") == e,
              "%s", e);
    cr_expect(strstr(e, "\"path\":\"out.bin\",\"http_status\":503}"), "%s", e);

    /* The same file in a batch, next to one that is fine elsewhere. */
    char q[1024] = "";
    case_line(q, sizeof q, "%s", srv_url(&S, "data"));
    case_line(q, sizeof q, "  out=a.bin");
    case_write(qpath, q);
    const char *b[] = {"--json", "--max-tries", "2", NULL};
    rc = case_batch(dir, qpath, b, 60);
    segget_stdout(NULL);
    cr_assert_eq(rc, 3, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(events(), "\"state\":\"failed\"") &&
                  strstr(events(), "\"exit\":3,\"http_status\":503}\n"),
              "%s", events());
    e = last_event();
    cr_expect(strstr(e, "\"message\":\"1 of 1 files failed; line 1: "), "%s",
              e);
    cr_expect(strstr(e, "\"http_status\":503}"), "%s", e);
}

Test(json, a_batch_rerun_skips_and_queue_errors_end_in_an_error)
{
    srv_start(&S, "");
    srv_file(&S, "a.bin", 100000, 63);
    srv_file(&S, "b.bin", 200000, 64);
    char q[1024] = "";
    case_line(q, sizeof q, "%s", srv_url(&S, "a.bin"));
    case_line(q, sizeof q, "%s", srv_url(&S, "b.bin"));
    case_write(qpath, q);
    segget_stdout(jpath);
    const char *o[] = {"--json", NULL};
    int rc = case_batch(dir, qpath, o, 60);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    const char *e = last_event();
    cr_expect(strstr(e, "{\"event\":\"finish\",\"schema\":3,\"exit\":0,"
                        "\"files_total\":2,\"files_done\":2,"
                        "\"files_skipped\":0,\"files_failed\":0,"
                        "\"bytes\":300000,\"seconds\":") == e,
              "%s", e);

    /* Again: both skipped, with their sizes, nothing fetched. */
    rc = case_batch(dir, qpath, o, 60);
    cr_assert_eq(rc, 0, "exit %d: %s", rc, last_stderr());
    cr_expect(strstr(events(), "\"state\":\"skipped\",\"url\":") &&
                  strstr(events(), "\"path\":\"b.bin\",\"size\":200000}"),
              "%s", events());
    cr_expect(strstr(last_event(), "\"files_skipped\":2,\"files_failed\":0,"
                                   "\"bytes\":0,"),
              "%s", last_event());

    /* A queue with a bad line: refused before any download, and said. */
    case_write(qpath, "not a url\n");
    rc = case_batch(dir, qpath, o, 60);
    cr_assert_eq(rc, 1, "exit %d: %s", rc, last_stderr());
    e = last_event();
    cr_expect(strstr(e, "{\"event\":\"error\",\"schema\":3,\"exit\":1,") == e,
              "%s", e);
    cr_expect(strstr(e, "\"message\":\"line 1: "), "%s", e);
    cr_expect(strstr(e, "\"http_status\":null}"), "%s", e);

    /* A queue that cannot be read. */
    const char *none[] = {"--json", "-i", "no-such-queue", NULL};
    rc = run_segget(dir, none, 60);
    segget_stdout(NULL);
    cr_assert_eq(rc, 1, "exit %d: %s", rc, last_stderr());
    e = last_event();
    cr_expect(strstr(e, "\"files_total\":0,"), "%s", e);
    cr_expect(strstr(e, "\"message\":\"cannot read no-such-queue: "), "%s", e);
}

Test(json, usage_errors_and_an_interrupted_download)
{
    const char *x[] = {"--rate", "2000000", NULL};
    case_fault(&S, 64000000, 65, x);
    segget_stdout(jpath);
    /* A bad option: said on stderr before any event; checked as such. */
    const char *opt[] = {"--json", "-n", "0", srv_url(&S, "data"), NULL};
    cr_expect_eq(run_segget(dir, opt, 60), 1, "%s", last_stderr());
    /* A URL segget does not fetch: an error event. */
    const char *url[] = {"--json", "ftp://127.0.0.1/x", NULL};
    cr_expect_eq(run_segget(dir, url, 60), 1, "%s", last_stderr());
    cr_expect(strstr(last_event(), "{\"event\":\"error\",\"schema\":3,"
                                   "\"exit\":1,\"message\":\""),
              "%s", last_event());

    /* SIGTERM: the last event says 11, and where the data stays. */
    const char *argv[] = {
        "--json", "-n", "2", "-o", "big.bin", srv_url(&S, "data"), NULL};
    pid_t pid = spawn_segget(dir, argv);
    AWAIT(wait_text(jpath, "{\"event\":\"progress\"", pid, WAIT_MS));
    kill(pid, SIGTERM);
    int rc = wait_child(pid, 60);
    segget_stdout(NULL);
    cr_assert_eq(rc, 11, "exit %d: %s", rc, last_stderr());
    const char *e = last_event();
    cr_expect(strstr(e, "{\"event\":\"error\",\"schema\":3,\"exit\":11,") == e,
              "%s", e);
    cr_expect(strstr(e, "\"path\":\"big.bin\",\"http_status\":null}"), "%s", e);
    const char *t = events();
    char want[300];
    snprintf(want, sizeof want,
             "{\"event\":\"start\",\"schema\":3,\"url\":\"%s\","
             "\"path\":\"big.bin\",\"size\":64000000,",
             srv_url(&S, "data"));
    cr_expect(strstr(t, want) == t, "%s", t);
}
