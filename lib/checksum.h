/* SPDX-License-Identifier: MIT */
/*
 * checksum.h - an expected content digest (--checksum sha256=HEX) and its
 * check against the finished data: md5, sha1, sha256 and sha512 through
 * OpenSSL's EVP interface; crc32 (IEEE 802.3, as zlib, gzip and S3 write
 * it) through zlib; crc32c (Castagnoli, as S3 and GCS declare it) with the
 * SSE4.2 instruction or by table; crc64nvme (CRC-64/NVME, S3's default) by
 * table.  A CRC is written big-endian in hex: 8 digits for crc32 and
 * crc32c, 16 for crc64nvme.  Pure except checksum_verify, which reads the
 * file.  Any thread.
 */
#ifndef SG_CHECKSUM_H
#define SG_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct checksum {
    char algo[12];            /* "md5", "sha1", "sha256", "sha512",
                                 "crc32", "crc32c", "crc64nvme" */
    unsigned char want[64];   /* expected digest */
    unsigned len;             /* its length in bytes */
} checksum;

/* Parse "ALGO=HEX" for the algorithms above (':' also accepted, ALGO
 * and hex in either case).  SG_EUSAGE with a message when malformed. */
sg_code checksum_parse(const char *spec, checksum *out, sg_err *e);

/* The length in bytes of algo's digest (a name above, exactly), or 0 for
 * a name that is not one of them. */
unsigned checksum_len(const char *algo);

/* How much a match of algo proves, for choosing among several declared
 * digests: sha512 7, sha256 6, sha1 5, md5 4, crc64nvme 3, crc32c 2,
 * crc32 1 (higher is stronger), 0 for an unknown name. */
int checksum_rank(const char *algo);

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

/* The CRC kernels, exposed for the unit tests; checksum_begin picks the
 * fastest itself.  Each continues crc, a finished CRC of the bytes before
 * (0 for none, as zlib's crc32()), over n more bytes and returns the
 * finished CRC of them all.  checksum_crc32c_hw exists only where
 * checksum_crc32c_has_hw() returns 1 (x86 with SSE4.2); the _table
 * versions run everywhere.  Any thread. */
uint32_t checksum_crc32c_table(uint32_t crc, const void *p, size_t n);
uint32_t checksum_crc32c_hw(uint32_t crc, const void *p, size_t n);
int checksum_crc32c_has_hw(void);
uint64_t checksum_crc64nvme_table(uint64_t crc, const void *p, size_t n);

/* The library that computes the digests ("OpenSSL 3.0.x ...").  Static. */
const char *checksum_library(void);

#endif
