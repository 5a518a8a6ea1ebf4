/* SPDX-License-Identifier: MIT */
/*
 * queue.h - the queue file of a batch download (segget -i FILE).
 *
 * One URL per line.  Blank lines and lines whose first non-blank character
 * is '#' are ignored.  Indented "key=value" lines under a URL set options
 * for that URL only:
 *
 *     https://example.org/data/part-0001.bin
 *         out=parts/0001.bin
 *         checksum=sha256:9f86d0...
 *         n=4
 *
 * out= is a relative path below the download directory (no "..", no
 * leading "/"); checksum= takes sha256 or sha512 with '=' or ':' before
 * the hex digits; n= is the number of connections, 1 to 64.  Lines end in
 * LF or CRLF.  Any other content is an error naming its line, reported
 * before anything is downloaded.  Pure (no I/O, no curl): the parser is
 * unit-tested and fuzzed.
 */
#ifndef SG_QUEUE_H
#define SG_QUEUE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

#define QUEUE_MAX_LINE 65536   /* longest line accepted, in bytes */
#define QUEUE_READ_BUF (4 * QUEUE_MAX_LINE) /* a reader's buffer */

typedef struct queue_entry {
    char *url;      /* heap */
    char *out;      /* heap, or NULL: named after the URL */
    char *checksum; /* heap "algo=HEX", or NULL */
    int connections; /* 0: the command's -n */
    int line;       /* where the URL stands, 1-based */
} queue_entry;

typedef struct queue {
    queue_entry *v;
    int n;
} queue;

/* Reads up to n bytes into buf: how many, 0 at the end, -1 with errno
 * set on failure. */
typedef ptrdiff_t (*queue_read_fn)(void *ud, char *buf, size_t n);

/* A queue read as a stream, one entry at a time: memory stays the size
 * of its buffer whatever the length of the queue. */
typedef struct queue_reader {
    queue_read_fn rd;
    void *ud;
    char *buf;
    size_t cap, lo, hi; /* unread bytes are buf[lo, hi) */
    int eof;
    int bom_done;       /* the start was checked for a byte order mark */
    int line;           /* lines consumed */
    /* The line at lo when the last entry ended on it (the next one's
     * URL), already checked: its length, bytes with its end, and its
     * trimmed text's offset and length. */
    int pend;
    size_t pend_n, pend_adv, pend_t, pend_tn;
} queue_reader;

/* Start reading through rd(ud).  SG_OK or SG_ENOMEM; free the reader
 * with queue_reader_free either way. */
sg_code queue_reader_init(queue_reader *r, queue_read_fn rd, void *ud,
                          sg_err *e);
void queue_reader_free(queue_reader *r);

/* The next entry, with its options: *got 1 and *en filled (free it with
 * queue_entry_free), or *got 0 at the end.  SG_EUSAGE with "line N: ..."
 * when the text is malformed there (the reader is then done), SG_EIO
 * when rd failed, SG_ENOMEM; *en is then empty. */
sg_code queue_next(queue_reader *r, queue_entry *en, int *got, sg_err *e);

/* Free an entry's strings; it is left empty. */
void queue_entry_free(queue_entry *en);

/* Parse len bytes of text.  On success *q holds the entries in file order
 * (free with queue_free).  SG_EUSAGE with "line N: ..." when the text is
 * malformed, SG_ENOMEM when out of memory; *q is then empty. */
sg_code queue_parse(const char *text, size_t len, queue *q, sg_err *e);

/* Free the entries; q is left empty. */
void queue_free(queue *q);

/* Is out an acceptable out= value (relative, no "." or ".." component, no
 * empty component, no control character)?  1 or 0. */
int queue_out_ok(const char *out);

/* The stable 64-bit hash of a URL (hash_bytes, FNV-1a), the same on
 * every machine: the shard rule. */
uint64_t queue_hash(const char *url);

/* Does url belong to shard index (1-based) of count?  count 0: yes. */
int queue_in_shard(const char *url, int index, int count);

/* Reads one environment variable: its value or NULL. */
typedef const char *(*queue_getenv)(const char *name, void *ud);

/* The shard a scheduler gave this process, read through get: a Slurm job
 * array (SLURM_ARRAY_TASK_ID, _COUNT, _MIN, with _MAX and _STEP when
 * set: task MIN + (I-1)*STEP is shard I of COUNT), else an srun task
 * (SLURM_PROCID, 0-based, of SLURM_NTASKS).  0 with *index, *count set
 * and msg saying where they came from; -1 with msg saying what is
 * missing or inconsistent.  Pure. */
int queue_shard_auto(queue_getenv get, void *ud, int *index, int *count,
                     char *msg, size_t cap);

#endif
