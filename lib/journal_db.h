/* SPDX-License-Identifier: MIT */
/*
 * journal_db.h - what journal.c and journal_queue.c share: the handle and
 * the opening, locking and checking of a journal database.  Internal to
 * the journal module; the only other file that includes sqlite3.h.
 */
#ifndef SG_JOURNAL_DB_H
#define SG_JOURNAL_DB_H

#include <sqlite3.h>
#include <stdint.h>

#include "journal.h"

struct journal {
    sqlite3 *db;
    sqlite3_stmt *ins;   /* download journal: INSERT INTO segment */
    sqlite3_stmt *st[3]; /* queue journal: prepared statements */
    char *path;
    int lockfd;
};

/* Open (with create: create 0600) and lock the database at path.  A new
 * file gets schema_sql (which sets application_id and user_version 1); an
 * existing one must carry app_id and version 1 and pass quick_check.  WAL,
 * synchronous=FULL.  Errors as journal_open. */
sg_code jdb_open(journal **out, const char *path, int create,
                 int64_t app_id, const char *schema_sql, sg_err *e);

/* Is fd (just locked) the file now at path?  1 or 0. */
int jdb_lock_current(int fd, const char *path);

/* sqlite3_exec without callbacks; the SQLite result code. */
int jdb_exec(journal *j, const char *sql);

/* One integer from a single-row query, or -1. */
int64_t jdb_int(journal *j, const char *sql);

/* End a transaction: COMMIT when rc is SG_OK, else (or when the commit
 * fails) ROLLBACK.  Returns the outcome, with a message in e. */
sg_code jdb_end(journal *j, sg_code rc, sg_err *e);

/* Record the database's last error: SG_EIO for a full disk or an I/O
 * error, SG_EJOURNAL otherwise.  Returns the code. */
sg_code jdb_err(journal *j, sg_err *e, const char *what);

#endif
