/* SPDX-License-Identifier: MIT */
/*
 * checksum.h - an expected content digest (--checksum sha256=HEX) and its
 * check against the finished data: md5, sha1, sha256 and sha512 through
 * OpenSSL's EVP interface, crc32c (Castagnoli, as S3 and GCS declare it;
 * written big-endian, 8 hex digits) by table.  Pure except
 * checksum_verify, which reads the file.  Any thread.
 */
#ifndef SG_CHECKSUM_H
#define SG_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct checksum {
    char algo[8];             /* "md5", "sha1", "sha256", "sha512",
                                 "crc32c" */
    unsigned char want[64];   /* expected digest */
    unsigned len;             /* its length in bytes */
} checksum;

/* Parse "ALGO=HEX" for the algorithms above (':' also accepted, ALGO
 * and hex in either case).  SG_EUSAGE with a message when malformed. */
sg_code checksum_parse(const char *spec, checksum *out, sg_err *e);

/* Hash bytes [0, size) of fd and compare.  SG_ECHECKSUM with both digests
 * in the message on a mismatch; SG_EIO when reading fails. */
sg_code checksum_verify(int fd, int64_t size, const checksum *c, sg_err *e);

/* Hashing as bytes arrive in order.  checksum_begin returns NULL when out
 * of memory; checksum_end compares (as checksum_verify) and frees h;
 * checksum_drop frees h without a verdict.  One thread per hash. */
typedef struct checksum_hash checksum_hash;
checksum_hash *checksum_begin(const checksum *c);
void checksum_update(checksum_hash *h, const void *p, size_t n);
sg_code checksum_end(checksum_hash *h, const checksum *c, sg_err *e);
void checksum_drop(checksum_hash *h);

#endif
