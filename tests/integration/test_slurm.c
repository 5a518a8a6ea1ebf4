/* SPDX-License-Identifier: MIT */
/*
 * segget under a real Slurm cluster: tests/slurm/run starts a one-node
 * cluster of Debian's slurm-wlm and munge (its own configuration, on
 * 127.0.0.1) and nginx, runs a job array of 4 `segget --shard auto` tasks
 * over one directory, cancels one task mid-run, requeues it and checks
 * that it resumed, then reruns the array (see the script for every
 * check).  It runs in the plain pass only: the cluster is the same under
 * the sanitizers, and the suites there already run every path of segget
 * it takes.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* The script's own deadline is 170 s, after which it tears down. */
#define RUN_MS (200 * 1000)

/* The last lines of the file at path, in a static buffer. */
static const char *tail_of(const char *path)
{
    static char buf[24 * 1024];
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return buf;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n > (long)sizeof buf - 1)
            (void)fseek(f, n - (long)sizeof buf + 1, SEEK_SET);
        else
            rewind(f);
    }
    size_t k = fread(buf, 1, sizeof buf - 1, f);
    buf[k] = '\0';
    fclose(f);
    return buf;
}

Test(slurm, job_array_shards_then_a_cancelled_task_resumes, .timeout = 300)
{
    if (getenv("SG_TEST_SANITIZED"))
        cr_skip_test("in the plain pass only");
    char out[] = "/tmp/segget-slurm-out.XXXXXX";
    int fd = mkstemp(out);
    cr_assert_geq(fd, 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        dup2(null, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execl("tests/slurm/run", "tests/slurm/run", (char *)NULL);
        _exit(127);
    }
    close(fd);
    int rc = wait_child_ms(pid, RUN_MS);
    if (rc < 0) {
        /* SIGTERM: the script tears its cluster down before it exits. */
        kill(pid, SIGTERM);
        rc = wait_child_ms(pid, 60 * 1000);
        if (rc < 0) {
            kill(pid, SIGKILL);
            rc = wait_child(pid, 10);
        }
        fprintf(stderr, "%s", tail_of(out));
        unlink(out);
        cr_assert_fail("tests/slurm/run ran longer than %d s", RUN_MS / 1000);
    }
    if (rc == 77) {
        char why[512];
        snprintf(why, sizeof why, "%s", tail_of(out));
        unlink(out);
        cr_skip_test("%s", why);
    }
    if (rc != 0)
        fprintf(stderr, "--- tests/slurm/run\n%s", tail_of(out));
    unlink(out);
    cr_assert_eq(rc, 0, "tests/slurm/run exited %d (its output is above)", rc);
}
