/* SPDX-License-Identifier: MIT */
/*
 * journal.c - SQLite storage of a download's plan and durable offsets.
 *
 * Schema (user_version 1, application_id 'SGGT'):
 *   download(id=1, url, effective_url, output, size, etag, last_modified,
 *            ranges, verified, version)
 *   segment(start PRIMARY KEY, end, done)   CHECK start <= done <= end
 * WAL with synchronous=FULL: a commit is on disk when it returns, and a
 * torn write can never leave a half-updated plan.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "journal_db.h"

#define APP_ID 0x53474754 /* "SGGT" */

static const char schema[] =
    "PRAGMA application_id=1397180244;"
    "PRAGMA user_version=1;"
    "CREATE TABLE download(id INTEGER PRIMARY KEY CHECK(id=1),"
    " url TEXT NOT NULL, effective_url TEXT NOT NULL, output TEXT NOT NULL,"
    " size INTEGER NOT NULL, etag TEXT, last_modified TEXT,"
    " ranges INTEGER NOT NULL, verified INTEGER NOT NULL DEFAULT 0,"
    " version TEXT NOT NULL);"
    "CREATE TABLE segment(start INTEGER PRIMARY KEY, end INTEGER NOT NULL,"
    " done INTEGER NOT NULL, CHECK(start <= done AND done <= end));";

sg_code jdb_err(journal *j, sg_err *e, const char *what)
{
    int rc = j->db ? sqlite3_errcode(j->db) : SQLITE_ERROR;
    if (rc == SQLITE_FULL || rc == SQLITE_IOERR)
        return err_set(e, SG_EIO, "journal %s: %s: %s", j->path, what,
                       sqlite3_errmsg(j->db));
    return err_set(e, SG_EJOURNAL, "journal %s: %s: %s", j->path, what,
                   j->db ? sqlite3_errmsg(j->db) : "cannot open");
}

int jdb_exec(journal *j, const char *sql)
{
    return sqlite3_exec(j->db, sql, NULL, NULL, NULL);
}

/* One integer from a single-row query, or -1. */
int64_t jdb_int(journal *j, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(j->db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int quick_check_ok(journal *j)
{
    sqlite3_stmt *st = NULL;
    int ok = 0;
    if (sqlite3_prepare_v2(j->db, "PRAGMA quick_check", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        ok = t && strcmp((const char *)t, "ok") == 0;
    }
    sqlite3_finalize(st);
    return ok;
}

int jdb_lock_current(int fd, const char *path)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && lstat(path, &b) == 0 &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

sg_code jdb_open(journal **out, const char *path, int create,
                 int64_t app_id, const char *schema_sql, sg_err *e)
{
    sg_code rc = SG_OK;
    *out = NULL;
    journal *j = calloc(1, sizeof *j);
    if (!j || !(j->path = strdup(path))) {
        free(j);
        return err_set(e, SG_ENOMEM, "out of memory");
    }
    /* Lock, then check that the lock is on the file now at path: between
     * open() and flock() another process may have removed or replaced
     * it (a finished download drops its journal), and a lock on an
     * unlinked inode guards nothing. */
    for (int attempt = 0;; attempt++) {
        j->lockfd = open(path,
                         O_RDWR | O_NOFOLLOW | O_CLOEXEC |
                             (create ? O_CREAT : 0),
                         0600);
        if (j->lockfd < 0) {
            if (errno == ELOOP)
                rc = err_set(e, SG_EUNSAFE,
                             "journal %s is a symlink; refusing", path);
            else
                rc = err_set(e, errno == ENOENT ? SG_EJOURNAL : SG_EIO,
                             "journal %s: %s", path, strerror(errno));
            goto out;
        }
        if (flock(j->lockfd, LOCK_EX | LOCK_NB) < 0) {
            rc = err_set(e, SG_EUNSAFE,
                         "%s is in use by another segget process", path);
            goto out;
        }
        if (jdb_lock_current(j->lockfd, path))
            break;
        close(j->lockfd);
        j->lockfd = -1;
        if (attempt == 3) {
            rc = err_set(e, SG_EUNSAFE,
                         "journal %s keeps being replaced by another "
                         "process",
                         path);
            goto out;
        }
    }
    struct stat st;
    if (fstat(j->lockfd, &st) < 0 || !S_ISREG(st.st_mode)) {
        rc = err_set(e, SG_EUNSAFE, "journal %s is not a regular file", path);
        goto out;
    }
    if (sqlite3_open_v2(path, &j->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW,
                        NULL) != SQLITE_OK) {
        rc = jdb_err(j, e, "open");
        goto out;
    }
    sqlite3_extended_result_codes(j->db, 0);
    /* Another program reading the journal (sqlite3 NAME.segget) holds a
     * lock for a moment: wait for it rather than fail the download. */
    sqlite3_busy_timeout(j->db, 5000);
    /* New, or created by a run that died before its schema committed (in
     * WAL mode SQLite writes the file's header first): no table yet, no
     * application id.  The file is ours either way (made 0600, locked). */
    int blank = st.st_size == 0 ||
                (jdb_int(j, "PRAGMA application_id") == 0 &&
                 jdb_int(j, "SELECT count(*) FROM sqlite_master") == 0);
    if (blank) {
        if (jdb_exec(j, "PRAGMA journal_mode=WAL") != SQLITE_OK ||
            jdb_exec(j, "BEGIN IMMEDIATE") != SQLITE_OK ||
            jdb_exec(j, schema_sql) != SQLITE_OK ||
            jdb_exec(j, "COMMIT") != SQLITE_OK) {
            rc = jdb_err(j, e, "create");
            goto out;
        }
    } else {
        if (jdb_int(j, "PRAGMA application_id") != app_id ||
            jdb_int(j, "PRAGMA user_version") != 1) {
            rc = err_set(e, SG_EJOURNAL,
                         "%s is not a segget journal of this kind (or a "
                         "newer one)",
                         path);
            goto out;
        }
        if (!quick_check_ok(j)) {
            rc = err_set(e, SG_EJOURNAL, "journal %s is damaged", path);
            goto out;
        }
        if (jdb_exec(j, "PRAGMA journal_mode=WAL") != SQLITE_OK) {
            rc = jdb_err(j, e, "open");
            goto out;
        }
    }
    if (jdb_exec(j, "PRAGMA synchronous=FULL") != SQLITE_OK) {
        rc = jdb_err(j, e, "open");
        goto out;
    }
    *out = j;
    j = NULL;
out:
    journal_close(j);
    return rc;
}

sg_code journal_open(journal **out, const char *path, int create, int *fresh,
                     sg_err *e)
{
    journal *j;
    *out = NULL;
    sg_code rc = jdb_open(&j, path, create, APP_ID, schema, e);
    if (rc)
        return rc;
    *fresh = jdb_int(j, "SELECT count(*) FROM download") == 0;
    if (sqlite3_prepare_v2(j->db,
                           "INSERT INTO segment(start,end,done)"
                           " VALUES(?,?,?)",
                           -1, &j->ins, NULL) != SQLITE_OK) {
        rc = jdb_err(j, e, "open");
        journal_close(j);
        return rc;
    }
    *out = j;
    return SG_OK;
}

static char *col_str(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? strdup((const char *)t) : NULL;
}

sg_code journal_read(journal *j, journal_meta *m, sg_segment **segs, int *n,
                     sg_err *e)
{
    sg_code rc = SG_OK;
    sqlite3_stmt *st = NULL;
    sg_segment *v = NULL;
    memset(m, 0, sizeof *m);
    *segs = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(j->db,
                           "SELECT url, effective_url, output, size, etag,"
                           " last_modified, ranges, verified FROM download",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = jdb_err(j, e, "read");
        goto out;
    }
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = err_set(e, SG_EJOURNAL, "journal %s holds no download",
                     j->path);
        goto out;
    }
    m->url = col_str(st, 0);
    m->effective_url = col_str(st, 1);
    m->output = col_str(st, 2);
    m->size = sqlite3_column_int64(st, 3);
    m->etag = col_str(st, 4);
    m->last_modified = col_str(st, 5);
    m->ranges = sqlite3_column_int(st, 6);
    m->verified = sqlite3_column_int(st, 7);
    if (!m->url || !m->effective_url || !m->output) {
        rc = err_set(e, SG_EJOURNAL, "journal %s is incomplete", j->path);
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;

    int64_t count = jdb_int(j, "SELECT count(*) FROM segment");
    if (count < 0 || count > 1000000) {
        rc = jdb_err(j, e, "read");
        goto out;
    }
    v = calloc(count ? (size_t)count : 1, sizeof *v);
    if (!v) {
        rc = err_set(e, SG_ENOMEM, "out of memory");
        goto out;
    }
    if (sqlite3_prepare_v2(j->db,
                           "SELECT start, end, done FROM segment"
                           " ORDER BY start",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = jdb_err(j, e, "read");
        goto out;
    }
    int i = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW && i < count) {
        v[i].start = sqlite3_column_int64(st, 0);
        v[i].end = sqlite3_column_int64(st, 1);
        v[i].done = sqlite3_column_int64(st, 2);
        i++;
    }
    if (step != SQLITE_DONE || i != count) {
        rc = jdb_err(j, e, "read");
        goto out;
    }
    *segs = v;
    *n = i;
    v = NULL;
out:
    sqlite3_finalize(st);
    free(v);
    if (rc)
        journal_meta_cleanup(m);
    return rc;
}

static sg_code put_segments(journal *j, const sg_segment *segs, int n,
                            sg_err *e)
{
    if (jdb_exec(j, "DELETE FROM segment") != SQLITE_OK)
        return jdb_err(j, e, "commit");
    for (int i = 0; i < n; i++) {
        sqlite3_reset(j->ins);
        sqlite3_bind_int64(j->ins, 1, segs[i].start);
        sqlite3_bind_int64(j->ins, 2, segs[i].end);
        sqlite3_bind_int64(j->ins, 3, segs[i].done);
        if (sqlite3_step(j->ins) != SQLITE_DONE) {
            sg_code rc = jdb_err(j, e, "commit");
            sqlite3_reset(j->ins);
            return rc;
        }
    }
    sqlite3_reset(j->ins);
    return SG_OK;
}

sg_code jdb_end(journal *j, sg_code rc, sg_err *e)
{
    if (rc == SG_OK && jdb_exec(j, "COMMIT") == SQLITE_OK)
        return SG_OK;
    if (rc == SG_OK)
        rc = jdb_err(j, e, "commit");
    (void)jdb_exec(j, "ROLLBACK");
    return rc;
}

sg_code journal_reset(journal *j, const journal_meta *m,
                      const sg_segment *segs, int n, sg_err *e)
{
    sqlite3_stmt *st = NULL;
    sg_code rc = SG_OK;
    if (jdb_exec(j, "BEGIN IMMEDIATE") != SQLITE_OK)
        return jdb_err(j, e, "begin");
    if (jdb_exec(j, "DELETE FROM download") != SQLITE_OK ||
        sqlite3_prepare_v2(j->db,
                           "INSERT INTO download(id, url, effective_url,"
                           " output, size, etag, last_modified, ranges,"
                           " verified, version) VALUES(1,?,?,?,?,?,?,?,0,?)",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = jdb_err(j, e, "reset");
        goto out;
    }
    sqlite3_bind_text(st, 1, m->url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, m->effective_url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, m->output, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, m->size);
    sqlite3_bind_text(st, 5, m->etag, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, m->last_modified, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, m->ranges);
    sqlite3_bind_text(st, 8, SG_VERSION, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = jdb_err(j, e, "reset");
        goto out;
    }
    rc = put_segments(j, segs, n, e);
out:
    sqlite3_finalize(st);
    return jdb_end(j, rc, e);
}

sg_code journal_commit(journal *j, const sg_segment *segs, int n, sg_err *e)
{
    if (jdb_exec(j, "BEGIN IMMEDIATE") != SQLITE_OK)
        return jdb_err(j, e, "begin");
    return jdb_end(j, put_segments(j, segs, n, e), e);
}

sg_code journal_resume(journal *j, const char *url, const char *effective_url,
                       const sg_segment *segs, int n, sg_err *e)
{
    sqlite3_stmt *st = NULL;
    sg_code rc = SG_OK;
    if (jdb_exec(j, "BEGIN IMMEDIATE") != SQLITE_OK)
        return jdb_err(j, e, "begin");
    if (sqlite3_prepare_v2(j->db,
                           "UPDATE download SET url=?, effective_url=?",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = jdb_err(j, e, "resume");
        goto out;
    }
    sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, effective_url, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = jdb_err(j, e, "resume");
        goto out;
    }
    rc = put_segments(j, segs, n, e);
out:
    sqlite3_finalize(st);
    return jdb_end(j, rc, e);
}

sg_code journal_mark_verified(journal *j, sg_err *e)
{
    if (jdb_exec(j, "UPDATE download SET verified=1") != SQLITE_OK)
        return jdb_err(j, e, "commit");
    return SG_OK;
}

void journal_close(journal *j)
{
    if (!j)
        return;
    sqlite3_finalize(j->ins);
    for (size_t i = 0; i < sizeof j->st / sizeof j->st[0]; i++)
        sqlite3_finalize(j->st[i]);
    /* Close SQLite before our descriptor: closing any descriptor of the
     * file drops the process's POSIX locks, SQLite's included. */
    sqlite3_close(j->db);
    if (j->lockfd >= 0)
        close(j->lockfd);
    free(j->path);
    free(j);
}

sg_code journal_remove(journal *j, sg_err *e)
{
    sg_code rc = SG_OK;
    size_t n = strlen(j->path) + 5;
    char *aux = malloc(n);
    sqlite3_finalize(j->ins);
    j->ins = NULL;
    for (size_t i = 0; i < sizeof j->st / sizeof j->st[0]; i++) {
        sqlite3_finalize(j->st[i]);
        j->st[i] = NULL;
    }
    sqlite3_close(j->db);
    j->db = NULL;
    /* Unlink while still holding the lock, so no other process can open
     * the journal between our last look and its removal. */
    if (unlink(j->path) < 0 && errno != ENOENT)
        rc = err_set(e, SG_EIO, "cannot remove journal %s: %s", j->path,
                     strerror(errno));
    if (aux) {
        (void)snprintf(aux, n, "%s-wal", j->path);
        (void)unlink(aux);
        (void)snprintf(aux, n, "%s-shm", j->path);
        (void)unlink(aux);
        free(aux);
    }
    journal_close(j);
    return rc;
}

void journal_meta_cleanup(journal_meta *m)
{
    free(m->url);
    free(m->effective_url);
    free(m->output);
    free(m->etag);
    free(m->last_modified);
    memset(m, 0, sizeof *m);
}

const char *journal_sqlite_version(void)
{
    return sqlite3_libversion();
}
