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

#include "err.h"

#define QUEUE_MAX_LINE 65536   /* longest line accepted, in bytes */
#define QUEUE_MAX_ENTRIES 1000000

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

/* Parse len bytes of text.  On success *q holds the entries in file order
 * (free with queue_free).  SG_EUSAGE with "line N: ..." when the text is
 * malformed, SG_ENOMEM when out of memory; *q is then empty. */
sg_code queue_parse(const char *text, size_t len, queue *q, sg_err *e);

/* Free the entries; q is left empty. */
void queue_free(queue *q);

/* Is out an acceptable out= value (relative, no "." or ".." component, no
 * empty component, no control character)?  1 or 0. */
int queue_out_ok(const char *out);

/* The stable 64-bit hash (FNV-1a) of a URL, the same on every machine. */
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
