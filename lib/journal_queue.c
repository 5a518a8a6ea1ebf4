/* SPDX-License-Identifier: MIT */
/*
 * journal_queue.c - the queue journal of a batch (see journal.h).
 *
 * Schema (user_version 1, application_id 'SGGQ'):
 *   entry(name PRIMARY KEY, url, state, size, etag, last_modified, part)
 * state 0: owned, not finished; 1: verified.  part 1: the verified data
 * is in NAME.part, awaiting its rename (NAME may still hold an older
 * version); 0: in NAME.  Journals made before the part column get it
 * (0) when opened.
 */
#include <stdlib.h>
#include <string.h>

#include "journal_db.h"

#define QAPP_ID 0x53474751 /* "SGGQ" */

static const char qschema[] =
    "PRAGMA application_id=1397180241;"
    "PRAGMA user_version=1;"
    "CREATE TABLE entry(name TEXT PRIMARY KEY, url TEXT NOT NULL,"
    " state INTEGER NOT NULL CHECK(state IN (0,1)),"
    " size INTEGER NOT NULL DEFAULT -1, etag TEXT, last_modified TEXT,"
    " part INTEGER NOT NULL DEFAULT 0);";

enum { ST_GET, ST_CLAIM, ST_VERIFIED };

static const char *const sql[] = {
    [ST_GET] = "SELECT url, state, size, etag, last_modified, part"
               " FROM entry WHERE name=?",
    /* Claiming keeps a verified row verified while its URL is the same:
     * the data in NAME is still the data that was verified.  It is never
     * in NAME.part any more: the claim comes before a new NAME.part. */
    [ST_CLAIM] = "INSERT INTO entry(name, url, state) VALUES(?1,?2,0)"
                 " ON CONFLICT(name) DO UPDATE SET url=?2, part=0,"
                 " state=CASE WHEN url=?2 THEN state ELSE 0 END",
    [ST_VERIFIED] = "INSERT INTO entry(name, url, state, size, etag,"
                    " last_modified, part) VALUES(?1,?2,1,?3,?4,?5,?6)"
                    " ON CONFLICT(name) DO UPDATE SET url=?2, state=1,"
                    " size=?3, etag=?4, last_modified=?5, part=?6",
};

sg_code qjournal_open(journal **out, const char *path, sg_err *e)
{
    journal *j;
    *out = NULL;
    sg_code rc = jdb_open(&j, path, 1, QAPP_ID, qschema, e);
    if (rc)
        return rc;
    if (jdb_int(j, "SELECT count(*) FROM pragma_table_info('entry')"
                   " WHERE name='part'") == 0 &&
        jdb_exec(j, "ALTER TABLE entry ADD COLUMN part INTEGER NOT NULL"
                    " DEFAULT 0") != SQLITE_OK) {
        rc = jdb_err(j, e, "upgrade");
        journal_close(j);
        return rc;
    }
    for (int i = 0; i < 3; i++)
        if (sqlite3_prepare_v2(j->db, sql[i], -1, &j->st[i], NULL) !=
            SQLITE_OK) {
            rc = jdb_err(j, e, "open");
            journal_close(j);
            return rc;
        }
    *out = j;
    return SG_OK;
}

static char *col(sqlite3_stmt *st, int i, int *oom)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    char *s = t ? strdup((const char *)t) : NULL;
    if (t && !s)
        *oom = 1;
    return s;
}

sg_code qjournal_get(journal *j, const char *name, qrow *row, sg_err *e)
{
    sqlite3_stmt *st = j->st[ST_GET];
    sg_code rc = SG_OK;
    int oom = 0;
    memset(row, 0, sizeof *row);
    row->state = QROW_NONE;
    row->size = -1;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        row->url = col(st, 0, &oom);
        row->state = sqlite3_column_int(st, 1) == 1 ? QROW_VERIFIED
                                                    : QROW_PENDING;
        row->size = sqlite3_column_int64(st, 2);
        row->etag = col(st, 3, &oom);
        row->last_modified = col(st, 4, &oom);
        row->part = sqlite3_column_int(st, 5) == 1;
        if (!row->url)
            oom = 1;
    } else if (step != SQLITE_DONE) {
        rc = jdb_err(j, e, "read");
    }
    sqlite3_reset(st);
    if (oom && !rc)
        rc = err_set(e, SG_ENOMEM, "out of memory");
    if (rc)
        qrow_cleanup(row);
    return rc;
}

sg_code qjournal_begin(journal *j, sg_err *e)
{
    return jdb_exec(j, "BEGIN IMMEDIATE") == SQLITE_OK
               ? SG_OK
               : jdb_err(j, e, "begin");
}

sg_code qjournal_end(journal *j, sg_code rc, sg_err *e)
{
    return jdb_end(j, rc, e);
}

static sg_code step(journal *j, sqlite3_stmt *st, sg_err *e)
{
    sg_code rc = sqlite3_step(st) == SQLITE_DONE ? SG_OK
                                                  : jdb_err(j, e, "write");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

sg_code qjournal_claim(journal *j, const char *name, const char *url,
                       sg_err *e)
{
    sqlite3_stmt *st = j->st[ST_CLAIM];
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, url, -1, SQLITE_STATIC);
    return step(j, st, e);
}

sg_code qjournal_verified(journal *j, const char *name, const char *url,
                          int64_t size, const char *etag,
                          const char *last_modified, int part, sg_err *e)
{
    sqlite3_stmt *st = j->st[ST_VERIFIED];
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, url, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, size);
    sqlite3_bind_text(st, 4, etag, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, last_modified, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, part ? 1 : 0);
    return step(j, st, e);
}

void qrow_cleanup(qrow *r)
{
    free(r->url);
    free(r->etag);
    free(r->last_modified);
    memset(r, 0, sizeof *r);
    r->state = QROW_NONE;
    r->size = -1;
}
