/* SPDX-License-Identifier: MIT */
/* What reruns rely on: a finished file's origin in extended attributes
 * (origin.c), the one rule for "the same resource" (probe.c), and -P's
 * directories (output.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "origin.h"
#include "output.h"
#include "probe.h"

static char dir[] = "/tmp/sg-origin-XXXXXX";
static char path[256];
static int fd = -1;

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/f", dir);
    fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    cr_assert_geq(fd, 0);
}

static void teardown(void)
{
    char cmd[300];
    if (fd >= 0)
        close(fd);
    fd = -1;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
}

TestSuite(unit_origin, .init = setup, .fini = teardown);

static void need_xattrs(void)
{
    if (fsetxattr(fd, "user.sg-test", "1", 1, 0) < 0)
        cr_skip_test("%s keeps no user extended attributes (%s)", dir,
                     strerror(errno));
    (void)fremovexattr(fd, "user.sg-test");
}

Test(unit_origin, a_record_reads_back_whole)
{
    need_xattrs();
    cr_assert_eq(origin_set(fd, "http://h/x?sig=1", "5-9", 5, "\"e1\"",
                            "Sun, 01 Nov 2026 00:00:00 GMT"),
                 0);
    origin o;
    cr_assert_eq(origin_get(path, &o), 1);
    cr_expect_str_eq(o.url, "http://h/x?sig=1");
    cr_expect_str_eq(o.range, "5-9");
    cr_expect_eq(o.size, 5);
    cr_expect_str_eq(o.etag, "\"e1\"");
    cr_expect_str_eq(o.last_modified, "Sun, 01 Nov 2026 00:00:00 GMT");
    origin_cleanup(&o);
    /* Stored without a NUL, as curl --xattr does. */
    char v[64];
    ssize_t n = getxattr(path, "user.xdg.origin.url", v, sizeof v);
    cr_expect_eq(n, (ssize_t)strlen("http://h/x?sig=1"));
}

Test(unit_origin, a_weak_etag_is_no_validator)
{
    need_xattrs();
    cr_assert_eq(origin_set(fd, "http://h/x", NULL, 0, "W/\"e1\"", NULL), 0);
    origin o;
    cr_assert_eq(origin_get(path, &o), 1);
    cr_expect_null(o.etag);
    cr_expect_null(o.last_modified);
    cr_expect_null(o.range);
    cr_expect_eq(o.size, 0);
    origin_cleanup(&o);
}

Test(unit_origin, a_new_record_replaces_the_old_one_whole)
{
    need_xattrs();
    cr_assert_eq(origin_set(fd, "http://h/a", "0-1", 2, "\"e\"", "d"), 0);
    cr_assert_eq(origin_set(fd, "http://h/b", NULL, 7, NULL, "d2"), 0);
    origin o;
    cr_assert_eq(origin_get(path, &o), 1);
    cr_expect_str_eq(o.url, "http://h/b");
    cr_expect_null(o.range);
    cr_expect_null(o.etag);
    cr_expect_str_eq(o.last_modified, "d2");
    cr_expect_eq(o.size, 7);
    origin_cleanup(&o);
}

/* Other programs' attributes beside the record, more names than one
 * listing holds: the old record still goes, theirs stay. */
Test(unit_origin, a_record_is_replaced_among_many_other_attributes)
{
    need_xattrs();
    cr_assert_eq(origin_set(fd, "http://h/a", "0-1", 2, "\"e\"", "d"), 0);
    char name[64];
    for (int i = 0; i < 60; i++) {
        snprintf(name, sizeof name, "user.other.attribute.number.%02d", i);
        cr_assert_eq(fsetxattr(fd, name, "x", 1, 0), 0);
    }
    cr_assert_eq(origin_set(fd, "http://h/b", NULL, 7, NULL, NULL), 0);
    origin o;
    cr_assert_eq(origin_get(path, &o), 1);
    cr_expect_str_eq(o.url, "http://h/b");
    cr_expect_null(o.range);
    cr_expect_null(o.etag);
    cr_expect_null(o.last_modified);
    origin_cleanup(&o);
    char v[4];
    cr_expect_eq(fgetxattr(fd, "user.other.attribute.number.59", v, sizeof v),
                 1);
}

Test(unit_origin, an_incomplete_or_malformed_record_is_none)
{
    need_xattrs();
    origin o;
    cr_expect_eq(origin_get(path, &o), 0, "no attributes");
    origin_cleanup(&o);
    cr_assert_eq(fsetxattr(fd, "user.segget.size", "12", 2, 0), 0);
    cr_expect_eq(origin_get(path, &o), 0, "no URL");
    origin_cleanup(&o);
    cr_assert_eq(fsetxattr(fd, "user.xdg.origin.url", "http://h/", 9, 0), 0);
    cr_expect_eq(origin_get(path, &o), 0, "no modification time");
    origin_cleanup(&o);
    cr_assert_eq(fsetxattr(fd, "user.segget.mtime", "1.000000000", 11, 0),
                 0);
    cr_expect_eq(origin_get(path, &o), 0, "another modification time");
    origin_cleanup(&o);
    struct stat st;
    char now[48];
    cr_assert_eq(fstat(fd, &st), 0);
    snprintf(now, sizeof now, "%lld.%09ld", (long long)st.st_mtim.tv_sec,
             (long)st.st_mtim.tv_nsec);
    cr_assert_eq(fsetxattr(fd, "user.segget.mtime", now, strlen(now), 0), 0);
    cr_expect_eq(origin_get(path, &o), 1);
    origin_cleanup(&o);
    cr_assert_eq(fsetxattr(fd, "user.segget.size", "12x", 3, 0), 0);
    cr_expect_eq(origin_get(path, &o), 0, "a size that is not a number");
    origin_cleanup(&o);
    cr_assert_eq(fsetxattr(fd, "user.segget.size", "1\0", 2, 0), 0);
    cr_expect_eq(origin_get(path, &o), 0, "a NUL inside");
    origin_cleanup(&o);
    cr_expect_eq(origin_set(fd, NULL, NULL, 1, NULL, NULL), EINVAL);
    cr_expect_eq(origin_set(fd, "http://h/", NULL, -1, NULL, NULL), EINVAL);
}

Test(unit_origin, same_resource_is_size_and_validator)
{
    probe_result r = {.size = 10, .etag = "\"a\"", .last_modified = "d"};
    cr_expect_null(probe_same_resource(&r, 10, "\"a\"", "d"));
    cr_expect_null(probe_same_resource(&r, 10, "\"a\"", NULL));
    cr_expect_null(probe_same_resource(&r, 10, NULL, "d"));
    cr_expect_not_null(probe_same_resource(&r, 11, "\"a\"", "d"));
    cr_expect_not_null(probe_same_resource(&r, -1, "\"a\"", "d"));
    cr_expect_not_null(probe_same_resource(&r, 10, "\"b\"", "d"));
    cr_expect_not_null(probe_same_resource(&r, 10, "\"a\"", "d2"));
    cr_expect_not_null(probe_same_resource(&r, 10, NULL, NULL),
                       "no validator proves nothing");
    probe_result none = {.size = 10};
    cr_expect_not_null(probe_same_resource(&none, 10, "\"a\"", NULL),
                       "a recorded ETag that is gone");
    cr_expect_not_null(probe_same_resource(&none, 10, NULL, "d"));
    probe_result lm = {.size = 10, .last_modified = "d"};
    cr_expect_not_null(probe_same_resource(&lm, 10, "\"a\"", "d"),
                       "an ETag recorded must be there");
}

static int isdir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

Test(unit_origin, dirs_are_checked_made_and_unmade)
{
    char d[300], file[300], made_want[300];
    sg_err e = {0};
    int missing = -1;
    snprintf(d, sizeof d, "%s/a/b/c/", dir);
    cr_expect_eq(output_check_dirs(dir, &missing, &e), SG_OK);
    cr_expect_eq(missing, 0);
    cr_expect_eq(output_check_dirs(d, &missing, &e), SG_OK);
    cr_expect_eq(missing, 1);
    /* Through a file: named. */
    snprintf(file, sizeof file, "%s/sub", path);
    cr_expect_eq(output_check_dirs(file, &missing, &e), SG_EUSAGE);
    cr_expect(strstr(err_msg(&e), "exists and is not a directory"), "%s",
              err_msg(&e));
    err_reset(&e);
    cr_expect_eq(output_mkdirs(file, NULL, &e), SG_EUSAGE);
    err_reset(&e);

    char *made = NULL;
    cr_assert_eq(output_mkdirs(d, &made, &e), SG_OK, "%s", err_msg(&e));
    snprintf(made_want, sizeof made_want, "%s/a", dir);
    cr_expect_str_eq(made, made_want);
    cr_expect(isdir(d));
    char *again = NULL;
    cr_assert_eq(output_mkdirs(d, &again, &e), SG_OK);
    cr_expect_null(again, "made nothing the second time");

    /* Unmade up to what was made, never a directory with something in
     * it. */
    char keep[300];
    snprintf(keep, sizeof keep, "%s/a/kept", dir);
    cr_assert_eq(mkdir(keep, 0755), 0);
    output_rmdirs(d, made);
    snprintf(file, sizeof file, "%s/a/b", dir);
    cr_expect(!isdir(file), "a/b/c and a/b removed");
    cr_expect(isdir(keep), "a holds something: kept");
    rmdir(keep);
    output_rmdirs(d, made);
    cr_expect(!isdir(made), "a removed");
    cr_expect(isdir(dir), "never above what was made");
    free(made);
}

Test(unit_origin, a_file_written_to_since_has_no_record)
{
    need_xattrs();
    cr_assert_eq(origin_set(fd, "http://h/a", NULL, 2, "\"e\"", "d"), 0);
    origin o;
    cr_assert_eq(origin_get(path, &o), 1);
    origin_cleanup(&o);
    /* A later modification time, as any write gives. */
    struct timespec ts[2] = {{0, UTIME_OMIT}, {0, 0}};
    cr_assert_eq(clock_gettime(CLOCK_REALTIME, &ts[1]), 0);
    ts[1].tv_sec += 5;
    cr_assert_eq(futimens(fd, ts), 0);
    cr_expect_eq(origin_get(path, &o), 0, "written to since");
    origin_cleanup(&o);
}
