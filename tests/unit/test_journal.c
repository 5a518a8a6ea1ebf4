/* SPDX-License-Identifier: MIT */
/* Unit tests for journal.c on temporary databases. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "journal_db.h"

static char dir[] = "/tmp/sg-journal-XXXXXX";
static char path[256];

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/out.bin.segget", dir);
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(unit_journal, .init = setup, .fini = teardown);

static journal_meta meta(void)
{
    return (journal_meta){.url = "http://h/x",
                          .effective_url = "http://h/y",
                          .output = "./out.bin",
                          .etag = "\"abc\"",
                          .last_modified = NULL,
                          .size = INT64_C(5) << 40,
                          .ranges = 1};
}

static journal *open_new(void)
{
    journal *j;
    int fresh = 0;
    sg_err e = {0};
    cr_assert_eq(journal_open(&j, path, 1, &fresh, &e), SG_OK, "%s",
                 err_msg(&e));
    return j;
}

Test(unit_journal, create_commit_reopen)
{
    journal *j = open_new();
    sg_err e = {0};
    journal_meta m = meta();
    sg_segment s[2] = {{0, INT64_C(1) << 40, 0, 0, 0},
                       {INT64_C(1) << 40, INT64_C(5) << 40, INT64_C(1) << 40,
                        0, 0}};
    cr_assert_eq(journal_reset(j, &m, s, 2, &e), SG_OK, "%s", err_msg(&e));
    s[0].done = 12345;
    s[1].done = (INT64_C(1) << 40) + 99;
    cr_assert_eq(journal_commit(j, s, 2, &e), SG_OK);
    journal_close(j);

    int fresh = 1;
    cr_assert_eq(journal_open(&j, path, 0, &fresh, &e), SG_OK, "%s",
                 err_msg(&e));
    cr_assert_eq(fresh, 0);
    journal_meta r;
    sg_segment *rs;
    int n;
    cr_assert_eq(journal_read(j, &r, &rs, &n, &e), SG_OK);
    cr_assert_str_eq(r.url, "http://h/x");
    cr_assert_str_eq(r.effective_url, "http://h/y");
    cr_assert_str_eq(r.etag, "\"abc\"");
    cr_assert_null(r.last_modified);
    cr_assert_eq(r.size, INT64_C(5) << 40);
    cr_assert_eq(r.ranges, 1);
    cr_assert_eq(r.verified, 0);
    cr_assert_eq(n, 2);
    cr_assert_eq(rs[0].done, 12345);
    cr_assert_eq(rs[1].done, (INT64_C(1) << 40) + 99);
    free(rs);
    journal_meta_cleanup(&r);
    cr_assert_eq(journal_mark_verified(j, &e), SG_OK);
    cr_assert_eq(journal_read(j, &r, &rs, &n, &e), SG_OK);
    cr_assert_eq(r.verified, 1);
    free(rs);
    journal_meta_cleanup(&r);
    cr_assert_eq(journal_remove(j, &e), SG_OK);
    cr_assert_neq(access(path, F_OK), 0, "journal left behind");
}

Test(unit_journal, resume_names_the_new_url_with_the_new_plan)
{
    journal *j = open_new();
    sg_err e = {0};
    journal_meta m = meta();
    sg_segment s[2] = {{0, 100, 40, 0, 0}, {100, 200, 150, 0, 0}};
    cr_assert_eq(journal_reset(j, &m, s, 2, &e), SG_OK, "%s", err_msg(&e));
    sg_segment t[3] = {{0, 100, 40, 0, 0}, {100, 150, 150, 0, 0},
                       {150, 200, 150, 0, 0}};
    cr_assert_eq(journal_resume(j, "http://g/x?sig=2", "http://g/z", t, 3,
                                &e),
                 SG_OK, "%s", err_msg(&e));
    journal_meta r;
    sg_segment *rs;
    int n;
    cr_assert_eq(journal_read(j, &r, &rs, &n, &e), SG_OK);
    cr_expect_str_eq(r.url, "http://g/x?sig=2");
    cr_expect_str_eq(r.effective_url, "http://g/z");
    cr_expect_str_eq(r.output, "./out.bin", "the rest is kept");
    cr_expect_str_eq(r.etag, "\"abc\"");
    cr_expect_eq(n, 3);
    free(rs);
    journal_meta_cleanup(&r);
    journal_close(j);
}

Test(unit_journal, commit_replaces_segments_atomically)
{
    journal *j = open_new();
    sg_err e = {0};
    journal_meta m = meta();
    sg_segment s[3] = {{0, 100, 10, 0, 0}};
    cr_assert_eq(journal_reset(j, &m, s, 1, &e), SG_OK);
    /* A split: the owner shrinks and a new row appears, together. */
    s[0].end = 50;
    s[1] = (sg_segment){.start = 50, .end = 100, .done = 50};
    cr_assert_eq(journal_commit(j, s, 2, &e), SG_OK);
    /* An impossible row fails the whole transaction. */
    s[2] = (sg_segment){.start = 100, .end = 90, .done = 100};
    s[0].done = 40;
    cr_assert_neq(journal_commit(j, s, 3, &e), SG_OK);
    journal_meta r;
    sg_segment *rs;
    int n;
    sg_err e2 = {0};
    cr_assert_eq(journal_read(j, &r, &rs, &n, &e2), SG_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(rs[0].done, 10, "failed commit leaked");
    free(rs);
    journal_meta_cleanup(&r);
    err_reset(&e);
    journal_close(j);
}

Test(unit_journal, mode_0600_and_fresh)
{
    journal *j;
    int fresh = 0;
    sg_err e = {0};
    cr_assert_eq(journal_open(&j, path, 1, &fresh, &e), SG_OK);
    cr_assert_eq(fresh, 1);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    journal_close(j);
    /* Reopened without a download row: still fresh. */
    cr_assert_eq(journal_open(&j, path, 0, &fresh, &e), SG_OK);
    cr_assert_eq(fresh, 1);
    journal_close(j);
}

Test(unit_journal, missing_without_create)
{
    journal *j;
    int fresh;
    sg_err e = {0};
    cr_assert_eq(journal_open(&j, path, 0, &fresh, &e), SG_EJOURNAL);
    cr_assert_null(j);
    err_reset(&e);
}

Test(unit_journal, second_opener_is_refused)
{
    journal *j = open_new(), *k;
    int fresh;
    sg_err e = {0};
    cr_assert_eq(journal_open(&k, path, 1, &fresh, &e), SG_EUNSAFE);
    cr_assert(strstr(err_msg(&e), "in use"));
    err_reset(&e);
    journal_close(j);
    cr_assert_eq(journal_open(&k, path, 1, &fresh, &e), SG_OK);
    journal_close(k);
}

static void write_file(const char *p, const void *data, size_t len)
{
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

Test(unit_journal, garbage_is_never_trusted)
{
    char junk[8192];
    memset(junk, 'x', sizeof junk);
    write_file(path, junk, sizeof junk);
    journal *j;
    int fresh;
    sg_err e = {0};
    cr_assert_eq(journal_open(&j, path, 1, &fresh, &e), SG_EJOURNAL);
    cr_assert_null(j);
    err_reset(&e);
}

Test(unit_journal, truncated_is_never_trusted)
{
    journal *j = open_new();
    sg_err e = {0};
    journal_meta m = meta();
    sg_segment s[1] = {{0, 100, 10, 0, 0}};
    cr_assert_eq(journal_reset(j, &m, s, 1, &e), SG_OK);
    journal_close(j);
    cr_assert_eq(truncate(path, 1000), 0);
    int fresh;
    sg_code rc = journal_open(&j, path, 0, &fresh, &e);
    if (rc == SG_OK) {
        /* If SQLite still opens it, reading must fail. */
        journal_meta r;
        sg_segment *rs;
        int n;
        rc = journal_read(j, &r, &rs, &n, &e);
        journal_close(j);
    }
    cr_assert_eq(rc, SG_EJOURNAL, "%s", err_msg(&e));
    err_reset(&e);
}

Test(unit_journal, foreign_database_is_never_trusted)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES(1)",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(db);
    journal *j;
    int fresh;
    sg_err e = {0};
    cr_assert_eq(journal_open(&j, path, 0, &fresh, &e), SG_EJOURNAL);
    cr_assert(strstr(err_msg(&e), "not a segget journal"));
    err_reset(&e);
}

Test(unit_journal, symlink_is_refused)
{
    char target[300];
    snprintf(target, sizeof target, "%s/elsewhere", dir);
    cr_assert_eq(symlink(target, path), 0);
    journal *j;
    int fresh;
    sg_err e = {0};
    cr_assert_eq(journal_open(&j, path, 1, &fresh, &e), SG_EUNSAFE);
    cr_assert_neq(access(target, F_OK), 0, "created through the symlink");
    err_reset(&e);
}

Test(unit_journal, queue_rows_claim_verify_and_survive_reopen)
{
    journal *j;
    sg_err e = {0};
    qrow r;
    cr_assert_eq(qjournal_open(&j, path, &e), SG_OK, "%s", err_msg(&e));
    cr_assert_eq(qjournal_get(j, "a.bin", &r, &e), SG_OK);
    cr_expect_eq(r.state, QROW_NONE);
    qrow_cleanup(&r);

    cr_assert_eq(qjournal_begin(j, &e), SG_OK);
    cr_assert_eq(qjournal_claim(j, "a.bin", "http://h/a", &e), SG_OK);
    cr_assert_eq(qjournal_claim(j, "b.bin", "http://h/b", &e), SG_OK);
    cr_assert_eq(qjournal_end(j, SG_OK, &e), SG_OK);
    cr_assert_eq(qjournal_begin(j, &e), SG_OK);
    cr_assert_eq(qjournal_verified(j, "a.bin", "http://h/a", 1234, "\"e\"",
                                   NULL, 1, &e),
                 SG_OK);
    cr_assert_eq(qjournal_end(j, SG_OK, &e), SG_OK);
    /* A rolled-back transaction leaves nothing behind. */
    cr_assert_eq(qjournal_begin(j, &e), SG_OK);
    cr_assert_eq(qjournal_verified(j, "b.bin", "http://h/b", 9, NULL, NULL, 1,
                                   &e),
                 SG_OK);
    cr_assert_eq(qjournal_end(j, SG_EIO, &e), SG_EIO);
    journal_close(j);

    cr_assert_eq(qjournal_open(&j, path, &e), SG_OK, "%s", err_msg(&e));
    cr_assert_eq(qjournal_get(j, "a.bin", &r, &e), SG_OK);
    cr_expect_eq(r.state, QROW_VERIFIED);
    cr_expect_eq(r.size, 1234);
    cr_expect_str_eq(r.etag, "\"e\"");
    cr_expect_null(r.last_modified);
    cr_expect(r.part, "the verified data awaits its rename in a.bin.part");
    qrow_cleanup(&r);
    cr_assert_eq(qjournal_get(j, "b.bin", &r, &e), SG_OK);
    cr_expect_eq(r.state, QROW_PENDING);
    cr_expect_str_eq(r.url, "http://h/b");
    qrow_cleanup(&r);

    /* Claiming again keeps a verified row for the same URL, and resets it
     * when the URL changed. */
    cr_assert_eq(qjournal_begin(j, &e), SG_OK);
    cr_assert_eq(qjournal_claim(j, "a.bin", "http://h/a", &e), SG_OK);
    cr_assert_eq(qjournal_end(j, SG_OK, &e), SG_OK);
    cr_assert_eq(qjournal_get(j, "a.bin", &r, &e), SG_OK);
    cr_expect_eq(r.state, QROW_VERIFIED);
    cr_expect(!r.part, "a claim comes before a new a.bin.part");
    qrow_cleanup(&r);
    cr_assert_eq(qjournal_begin(j, &e), SG_OK);
    cr_assert_eq(qjournal_claim(j, "a.bin", "http://other/a", &e), SG_OK);
    cr_assert_eq(qjournal_end(j, SG_OK, &e), SG_OK);
    cr_assert_eq(qjournal_get(j, "a.bin", &r, &e), SG_OK);
    cr_expect_eq(r.state, QROW_PENDING);
    cr_expect_str_eq(r.url, "http://other/a");
    qrow_cleanup(&r);
    journal_close(j);
    err_reset(&e);
}

Test(unit_journal, queue_and_download_journals_are_not_confused)
{
    journal *j = open_new();
    journal_close(j);
    sg_err e = {0};
    cr_assert_eq(qjournal_open(&j, path, &e), SG_EJOURNAL);
    cr_expect_null(j);
    err_reset(&e);
    char qpath[300];
    snprintf(qpath, sizeof qpath, "%s/.segget-queue", dir);
    cr_assert_eq(qjournal_open(&j, qpath, &e), SG_OK);
    journal *k;
    cr_assert_eq(qjournal_open(&k, qpath, &e), SG_EUNSAFE);
    err_reset(&e);
    journal_close(j);
    int fresh;
    cr_assert_eq(journal_open(&k, qpath, 0, &fresh, &e), SG_EJOURNAL, "%s",
                 err_msg(&e));
    err_reset(&e);
}

Test(unit_journal, a_journal_killed_before_its_schema_is_fresh)
{
    /* What a run killed during creation leaves: a WAL-mode header and no
     * table. */
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL,
                              NULL),
                 SQLITE_OK);
    sqlite3_close(db);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_gt(st.st_size, 0);
    journal *j;
    int fresh = 0;
    sg_err e = {0};
    cr_assert_eq(journal_open(&j, path, 1, &fresh, &e), SG_OK, "%s",
                 err_msg(&e));
    cr_expect(fresh);
    journal_close(j);
}

Test(unit_journal, a_lock_on_a_replaced_file_is_not_trusted)
{
    /* Between open() and flock() another process may remove the journal
     * (a download that finished) and a third create a new one: the lock
     * taken on the old inode guards nothing, and is noticed. */
    int fd = open(path, O_RDWR | O_CREAT, 0600);
    cr_assert_geq(fd, 0);
    cr_assert(jdb_lock_current(fd, path), "the file just opened");
    cr_assert_eq(unlink(path), 0);
    cr_assert(!jdb_lock_current(fd, path), "an unlinked file");
    int fd2 = open(path, O_RDWR | O_CREAT, 0600);
    cr_assert_geq(fd2, 0);
    cr_assert(!jdb_lock_current(fd, path), "a file replaced by another");
    cr_assert(jdb_lock_current(fd2, path));
    close(fd2);
    close(fd);
    /* A journal opened afterwards locks the file now at the path. */
    journal *j = open_new();
    journal_close(j);
}

Test(unit_journal, a_queue_journal_without_the_part_column_gets_it)
{
    /* A queue journal made before rows could point at NAME.part. */
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db,
                              "PRAGMA journal_mode=WAL;"
                              "PRAGMA application_id=1397180241;"
                              "PRAGMA user_version=1;"
                              "CREATE TABLE entry(name TEXT PRIMARY KEY,"
                              " url TEXT NOT NULL, state INTEGER NOT NULL"
                              " CHECK(state IN (0,1)), size INTEGER NOT"
                              " NULL DEFAULT -1, etag TEXT, last_modified"
                              " TEXT);"
                              "INSERT INTO entry VALUES('x','http://h/x',1,"
                              "5,NULL,NULL);",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(db);
    journal *j;
    sg_err e = {0};
    qrow r;
    cr_assert_eq(qjournal_open(&j, path, &e), SG_OK, "%s", err_msg(&e));
    cr_assert_eq(qjournal_get(j, "x", &r, &e), SG_OK);
    cr_expect_eq(r.state, QROW_VERIFIED);
    cr_expect_eq(r.size, 5);
    cr_expect(!r.part);
    qrow_cleanup(&r);
    cr_assert_eq(qjournal_begin(j, &e), SG_OK);
    cr_assert_eq(qjournal_verified(j, "x", "http://h/x", 6, NULL, NULL, 1, &e),
                 SG_OK);
    cr_assert_eq(qjournal_end(j, SG_OK, &e), SG_OK);
    cr_assert_eq(qjournal_get(j, "x", &r, &e), SG_OK);
    cr_expect(r.part);
    qrow_cleanup(&r);
    journal_close(j);
}

static void *read_a_while(void *arg)
{
    /* A reader (sqlite3 NAME.segget, a test) holding its lock for a
     * moment, as the journal is being created. */
    sqlite3 *db = arg;
    struct timespec ts = {0, 300 * 1000000L};
    nanosleep(&ts, NULL);
    (void)sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    return NULL;
}

Test(unit_journal, a_reader_holding_a_lock_is_waited_for)
{
    int fd = open(path, O_RDWR | O_CREAT, 0600);
    cr_assert_geq(fd, 0);
    close(fd);
    sqlite3 *db;
    cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
                 SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db,
                              "BEGIN; SELECT count(*) FROM sqlite_master;",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, read_a_while, db), 0);
    journal *j;
    int fresh = 0;
    sg_err e = {0};
    sg_code rc = journal_open(&j, path, 1, &fresh, &e);
    pthread_join(th, NULL);
    sqlite3_close(db);
    cr_assert_eq(rc, SG_OK, "%s", err_msg(&e));
    cr_expect(fresh);
    journal_close(j);
}
