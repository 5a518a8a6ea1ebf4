/* SPDX-License-Identifier: MIT */
/*
 * hdr.h - pure parsers for the HTTP header fields segget trusts.
 *
 * Every byte segget writes is justified by a few header fields: the
 * Content-Range of a 206, the Content-Length, the ETag and Last-Modified
 * validators, Accept-Ranges and Content-Encoding.  These parsers are strict
 * (RFC 9110): digits only, no sign, no exponent, no overflow, nothing
 * trailing but optional white space.  A value they reject is treated by the
 * caller as if the server had lied.  No I/O, no allocation except where a
 * function says it returns a heap string; safe on any thread.
 */
#ifndef SG_HDR_H
#define SG_HDR_H

#include <stddef.h>
#include <stdint.h>

/* A parsed Content-Range (spaces around '/' below only keep this comment
 * open).  For an unsatisfied range, "bytes * /N", first and last are -1;
 * an unknown total, "bytes 0-9/ *", is -1. */
typedef struct hdr_range {
    int64_t first;
    int64_t last; /* inclusive */
    int64_t total;
} hdr_range;

/* Parse a decimal non-negative integer that fits in int64_t, surrounded by
 * optional spaces/tabs.  Returns 0 and sets *out, or -1. */
int hdr_parse_int(const char *s, size_t len, int64_t *out);

/* Parse a Content-Length value.  A list of identical values ("5, 5") is
 * accepted as RFC 9110 allows; anything else that is not one integer is
 * rejected.  Returns 0 or -1. */
int hdr_parse_length(const char *s, size_t len, int64_t *out);

/* Parse a Content-Range value ("bytes 0-99/1000", "bytes 0-99/ *",
 * "bytes * /1000").  Checks first <= last < total.  Returns 0 or -1. */
int hdr_parse_content_range(const char *s, size_t len, hdr_range *out);

/* Check an entity-tag: W/"..." or "..." with RFC 9110 etagc characters.
 * Returns 1 for a strong tag, 0 for a weak one, -1 when malformed.  On
 * success *tag_len is the tag's length after trimming white space and
 * *tag points into s. */
int hdr_parse_etag(const char *s, size_t len, const char **tag,
                   size_t *tag_len);

/* Does an Accept-Ranges value list the "bytes" unit?  Returns 1 or 0. */
int hdr_accepts_bytes(const char *s, size_t len);

/* Is a Content-Encoding value something other than "identity" (or empty)?
 * Returns 1 when the body is encoded. */
int hdr_is_encoded(const char *s, size_t len);

/* Split one raw header line ("Name: value\r\n") into a name and a value
 * with surrounding white space trimmed.  Returns 0, or -1 for a line that
 * is not a field (a status line, the blank end of headers). */
int hdr_split(const char *line, size_t len, const char **name,
              size_t *name_len, const char **value, size_t *value_len);

/* Case-insensitive comparison of a counted name with a C string. */
int hdr_name_is(const char *name, size_t len, const char *want);

#endif
