/* SPDX-License-Identifier: MIT */
/*
 * sums.h - checksum lists as mirrors publish them (SHA256SUMS, MD5SUMS,
 * Fedora's CHECKSUM), for --checksum-file.
 *
 * Two line forms are read, as sha256sum -c reads them:
 *
 *   GNU   HEX  NAME   or   HEX *NAME    (binary mode); the algorithm
 *         follows from the digest's length: 32 hex digits md5, 40 sha1,
 *         64 sha256, 128 sha512.  A line starting with '\' has its NAME
 *         escaped ("\\" and "\n").
 *   BSD   ALGO (NAME) = HEX                (sha256sum --tag, Fedora)
 *
 * Every other line (comments, a PGP signature around the list) is
 * skipped.  A NAME matches the output's name, or its last component, with
 * a leading "./" ignored.
 *
 * A list is indexed once, by the hash of each entry's name, so that a
 * queue of a million files looks each of them up in O(log n) rather than
 * reading the list again per file.  A loaded list is read-only: any
 * number of threads may look up in it at once.
 */
#ifndef SG_SUMS_H
#define SG_SUMS_H

#include <stddef.h>

#include "err.h"

typedef struct sums sums;

/* Read the list at path (at most 64 MiB) and index it: *out (free with
 * sums_free).  SG_EUSAGE with a message when it cannot be read,
 * SG_ENOMEM; *out is then NULL. */
sg_code sums_load(const char *path, sums **out, sg_err *e);

/* The same from len bytes of text (copied).  Pure. */
sg_code sums_parse(const char *text, size_t len, sums **out, sg_err *e);

/* The first entry of the list (in its order) for name (an output's path
 * relative to its directory): "algo=hex" into spec (cap bytes, 140 are
 * enough).  1 when found, else 0.  Any thread. */
int sums_find(const sums *s, const char *name, char *spec, size_t cap);

void sums_free(sums *s);

#endif
