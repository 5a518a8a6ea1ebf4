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
 * a leading "./" ignored.  Pure except sums_load; any thread.
 */
#ifndef SG_SUMS_H
#define SG_SUMS_H

#include <stddef.h>

#include "err.h"

/* Read the list at path (at most 64 MiB) into *text (heap,
 * NUL-terminated).  SG_EUSAGE with a message when it cannot be read. */
sg_code sums_load(const char *path, char **text, sg_err *e);

/* The first entry of text for name (an output's path relative to its
 * directory): "algo=hex" into spec (cap bytes, 140 are enough).  1 when
 * found, else 0. */
int sums_find(const char *text, const char *name, char *spec, size_t cap);

#endif
