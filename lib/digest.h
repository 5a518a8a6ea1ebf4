/* SPDX-License-Identifier: MIT */
/*
 * digest.h - the integrity a server declares for the whole object, read
 * from the header fields of one response.
 *
 * Recognised: Repr-Digest (RFC 9530: a Structured Field dictionary of
 * byte sequences), Digest (RFC 3230, which 9530 obsoletes), Content-MD5
 * (RFC 1864; it covers the body of its response, so a 206's is ignored),
 * S3's x-amz-checksum-ALGO (with x-amz-checksum-type) and GCS's
 * x-goog-hash.  Every declaration is remembered, usable or not: the caller
 * checks the strongest usable one and names the others in a notice.  What
 * cannot be checked: an algorithm segget does not compute, a malformed
 * value, an S3 composite (a checksum of the parts' checksums), two
 * different values for one algorithm, an id-sha-* digest of content that
 * has a Content-Encoding, a GCS hash of a stored gzip object served
 * decompressed.  What depends on other fields is resolved when asked, so
 * the answers do not depend on the order of the fields.
 *
 * Pure, fixed size and without heap memory: a digest_set lives inside
 * struct resp and is copied by value.  One thread per set.
 */
#ifndef SG_DIGEST_H
#define SG_DIGEST_H

#include <stddef.h>

#include "checksum.h"

#define DIGEST_MAX 16 /* declarations kept per response */

typedef struct digest_decl {
    checksum sum;    /* algorithm and expected bytes; algo "" when segget
                        computes no such checksum */
    char source[40]; /* the field that declared it, as usually spelled:
                        "Repr-Digest", "Digest", "Content-MD5",
                        "x-amz-checksum-sha256", "x-goog-hash" */
} digest_decl;

/* One declaration and why it may not be usable (digest.c's business). */
typedef struct digest_item {
    digest_decl d;
    char name[16];       /* the algorithm as the field names it, printable,
                            cut; "" where the field itself names it */
    unsigned char from;  /* which kind of field */
    unsigned char why;   /* usable, malformed, foreign or composite */
    unsigned char idsha; /* id-sha-*: of the content before any coding */
    unsigned parts;      /* the N of an S3 composite "-N" */
} digest_item;

typedef struct digest_set {
    digest_item item[DIGEST_MAX];
    unsigned n;
    unsigned dropped;            /* declarations beyond DIGEST_MAX */
    unsigned char amz_composite; /* x-amz-checksum-type: COMPOSITE */
    unsigned char encoded;       /* a Content-Encoding other than identity */
    unsigned char goog_stored;   /* x-goog-stored-content-encoding other
                                    than identity */
} digest_set;

/* An empty set. */
void digest_init(digest_set *s);

/* Feed one header field of a response (name and value as sent; the value
 * may carry surrounding white space and CRLF); partial: the response is a
 * 206.  Returns 1 when name is one of the integrity fields above
 * (x-amz-checksum-type included), usable or not, else 0; Content-Encoding
 * and x-goog-stored-content-encoding are noted too and return 0.  Never
 * fails: what cannot be used is remembered as not checkable. */
int digest_field(digest_set *s, const char *name, size_t nlen,
                 const char *value, size_t vlen, int partial);

/* After all fields: the strongest checkable declaration (checksum_rank;
 * among equals, Repr-Digest before x-amz-checksum-*, x-goog-hash, Digest
 * and Content-MD5), pointing into s, or NULL. */
const digest_decl *digest_best(const digest_set *s);

/* After all fields: what was declared but cannot be checked, as one human
 * line for a notice, e.g. "Repr-Digest unixsum (not a checksum segget
 * computes), x-amz-checksum-crc32c (a composite of 4 parts)"; "" when
 * nothing.  Sorted, so the same whatever the order of the fields.  Writes
 * at most cap bytes, NUL-terminated (nothing when cap is 0). */
void digest_unchecked(const digest_set *s, char *buf, size_t cap);

/* Decode base64 (RFC 4648, standard alphabet) s[0, n) into out (cap
 * bytes).  Strict unless sf: the length a multiple of 4 with '=' padding
 * only at the end, unused bits zero.  sf: as RFC 8941 asks of Structured
 * Field byte sequences, padding may be missing and unused bits need not be
 * zero.  Returns the number of bytes, or -1 when malformed or longer than
 * cap. */
int digest_base64(const char *s, size_t n, unsigned char *out, size_t cap,
                  int sf);

#endif
