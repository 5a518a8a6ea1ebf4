/* SPDX-License-Identifier: MIT */
/*
 * qnames.h - the names of a whole queue, checked for collisions in flat
 * memory.
 *
 * A batch must refuse a queue in which two entries save to one name, or
 * one entry's name is another's NAME.part (or .segget, ...).  A queue
 * may hold tens of millions of entries, more than memory should hold, so
 * each entry leaves only a record: the 64-bit hash of its name (kind
 * QN_NAME) or of the name whose partial files it would overwrite (kind
 * QN_STEM), and its line.  Records are sorted in runs of a bounded size;
 * full runs go to an unlinked temporary file and are merged.  Equal
 * hashes are only candidates: the caller compares the names themselves
 * (the hash is not trusted to be unique), so the check is exact.
 *
 * Threads: one qnames is used by one thread at a time.
 */
#ifndef SG_QNAMES_H
#define SG_QNAMES_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum { QN_NAME = 0, QN_STEM = 1 };

typedef struct qname_rec {
    uint64_t hash;
    uint32_t line; /* of the entry's URL */
    uint32_t kind; /* QN_NAME or QN_STEM */
} qname_rec;

/* Two lines whose records share a hash: both QN_NAME (the same name?),
 * or a QN_NAME line a and a QN_STEM line b (does b's name begin with
 * a's, plus a suffix?). */
typedef struct qname_pair {
    uint32_t a, b;
    uint32_t kind_b;
} qname_pair;

typedef struct qnames {
    qname_rec *run;  /* the run being filled */
    size_t n, cap;   /* records in it, and its size */
    int fd;          /* sorted full runs, one after another; -1: none */
    size_t *runs;    /* their lengths, in records */
    int nruns;
    uint64_t total;  /* records added */
} qnames;

/* An empty set whose runs hold run records (at least 2; 16 bytes each:
 * the memory it uses, twice over while a run is sorted).  Free it with
 * qnames_free whatever the result. */
sg_code qnames_init(qnames *q, size_t run, sg_err *e);

/* Add a record.  A full run is sorted and written to a temporary file
 * ($TMPDIR, else /tmp): SG_EIO when that fails. */
sg_code qnames_add(qnames *q, uint64_t hash, uint32_t line, int kind,
                   sg_err *e);

/* The candidate pairs, in hash order: skips the first skip of them and
 * stores up to max in out (*n of them); *more is 1 when more follow.  A
 * group of records with one hash gives one pair per QN_NAME after the
 * first (with the first) and one per QN_STEM (with the group's first
 * QN_NAME); a group without a QN_NAME gives none.  May be called more
 * than once; adds are no longer allowed after it. */
sg_code qnames_pairs(qnames *q, size_t skip, qname_pair *out, size_t max,
                     size_t *n, int *more, sg_err *e);

void qnames_free(qnames *q);

#endif
