/* SPDX-License-Identifier: MIT */
/*
 * journal.h - the durable record of one download (SQLite, WAL).
 *
 * The journal holds what a resume must know: the URL, the effective URL,
 * the output path, size and validators, and the plan -- each segment's
 * range and the end of its durable prefix.  The caller upholds the one
 * rule that makes it trustworthy: a segment's done offset is committed
 * only after the data file was fdatasync'd with those bytes in it.
 *
 * The journal file is created mode 0600 and never through a symlink.  It
 * is locked (flock) for as long as it is open, so a second process on the
 * same output is refused instead of interleaving writes.  An existing file
 * is trusted only when it carries segget's application id and schema
 * version and passes SQLite's quick_check.
 *
 * Threads: one thread at a time may use a journal; handing it to another
 * thread (the checkpointer) and back needs a happens-before edge such as a
 * mutex or pthread_join.  This is the only module that includes sqlite3.h.
 */
#ifndef SG_JOURNAL_H
#define SG_JOURNAL_H

#include <stdint.h>

#include "err.h"
#include "segget.h"

typedef struct journal journal;

typedef struct journal_meta {
    char *url;           /* as the user gave it, without credentials,
                            and " bytes=SPEC" with --range: the last
                            URL a run of this download used */
    char *effective_url; /* after redirects; what segments fetch */
    char *output;        /* final path of the output */
    char *etag;          /* strong ETag, or NULL */
    char *last_modified; /* Last-Modified as sent, or NULL */
    int64_t size;        /* -1 when unknown */
    int ranges;          /* the server honours byte ranges */
    int verified;        /* verified; only the rename may be missing */
} journal_meta;

/* Open the journal at path, locking it.  With create, a missing file is
 * created (0600); without, a missing file is SG_EJOURNAL.  *fresh is set
 * when the journal holds no download yet (new, or created by a run that
 * died at once).  Another process holding the lock: SG_EUNSAFE.  A file
 * that is not a segget journal or is damaged: SG_EJOURNAL.  On success *out
 * is owned by the caller (journal_close). */
sg_code journal_open(journal **out, const char *path, int create, int *fresh,
                     sg_err *e);

/* Read the download's record and its segments (ordered by start).  *segs is
 * a heap array the caller frees; meta strings are freed with
 * journal_meta_cleanup().  SG_EJOURNAL when the record is missing. */
sg_code journal_read(journal *j, journal_meta *m, sg_segment **segs, int *n,
                     sg_err *e);

/* Replace the whole record (meta and segments) in one transaction. */
sg_code journal_reset(journal *j, const journal_meta *m,
                      const sg_segment *segs, int n, sg_err *e);

/* Replace the segments in one transaction: a split and the offsets it
 * moved become durable together or not at all.  Only call with offsets
 * whose bytes are already fdatasync'd. */
sg_code journal_commit(journal *j, const sg_segment *segs, int n, sg_err *e);

/* Resuming: the download goes on from url (the user's, without
 * credentials: it names the download) and effective_url (after
 * redirects), which may differ from the recorded ones when the same
 * resource is now fetched from another URL, with segs, the plan re-split
 * for this run; in one transaction.  As journal_commit, only with offsets
 * whose bytes are fdatasync'd. */
sg_code journal_resume(journal *j, const char *url, const char *effective_url,
                       const sg_segment *segs, int n, sg_err *e);

/* Record that the data was verified (before the rename). */
sg_code journal_mark_verified(journal *j, sg_err *e);

/* The SQLite library's version ("3.40.1").  Static. */
const char *journal_sqlite_version(void);

/* Close and unlock.  NULL is a no-op. */
void journal_close(journal *j);

/* Close, then delete the journal and its -wal/-shm files.  j is freed. */
sg_code journal_remove(journal *j, sg_err *e);

/* Free the strings in m and zero it. */
void journal_meta_cleanup(journal_meta *m);

/*
 * The queue journal: one per batch (segget -i), one row per output name,
 * relative to the download directory.  A row means the batch owns that
 * name: it may replace NAME.part, and NAME once the row is verified.  A
 * verified row means NAME (or NAME.part, awaiting its rename, when the
 * row's part is set) holds exactly the recorded size of fdatasync'd data;
 * the caller marks a row verified only after that sync, and renames only
 * after the mark commits.
 * Writes go in explicit transactions so many files share one commit.
 */
enum { QROW_NONE = -1, QROW_PENDING = 0, QROW_VERIFIED = 1 };

typedef struct qrow {
    int state;           /* QROW_* */
    char *url;           /* redacted URL, heap (NULL when QROW_NONE) */
    int64_t size;        /* verified size, -1 otherwise */
    char *etag;          /* validators of the verified data, or NULL */
    char *last_modified;
    int part;            /* the verified data awaits its rename in
                            NAME.part (NAME may hold an older version) */
} qrow;

/* Open (creating, 0600) and lock the queue journal at path.  Errors as
 * journal_open. */
sg_code qjournal_open(journal **out, const char *path, sg_err *e);

/* The row for name; row->state is QROW_NONE when there is none.  Free with
 * qrow_cleanup. */
sg_code qjournal_get(journal *j, const char *name, qrow *row, sg_err *e);

/* Start and end a write transaction (qjournal_end commits when rc is
 * SG_OK, else rolls back, and returns the outcome). */
sg_code qjournal_begin(journal *j, sg_err *e);
sg_code qjournal_end(journal *j, sg_code rc, sg_err *e);

/* Inside a transaction: own name for url (pending; a verified row stays
 * verified for the same URL, its data in NAME), or mark it verified with
 * its size and validators (etag, last_modified may be NULL), its data in
 * NAME.part when part is set, else in NAME. */
sg_code qjournal_claim(journal *j, const char *name, const char *url,
                       sg_err *e);
sg_code qjournal_verified(journal *j, const char *name, const char *url,
                          int64_t size, const char *etag,
                          const char *last_modified, int part, sg_err *e);

void qrow_cleanup(qrow *r);

#endif
