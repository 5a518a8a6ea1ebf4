/* SPDX-License-Identifier: MIT */
/*
 * name.h - choosing a safe local file name for a download.
 *
 * The default output name is the last component of the URL's path,
 * percent-decoded and then made harmless: it can never be "", "." or "..",
 * never contain '/' (an encoded %2F included), a NUL or a control
 * character, and never be longer than a file system accepts once segget's
 * own suffixes (".part", ".segget-wal") are added.  Pure; any thread.
 */
#ifndef SG_NAME_H
#define SG_NAME_H

#include <stddef.h>

/* Longest name returned, leaving room for ".segget-journal" under
 * NAME_MAX (255). */
#define NAME_MAX_LEN 200

/* Derive a file name from a URL path as sent on the wire (still
 * percent-encoded, query and fragment already removed).  Returns a heap
 * string the caller frees: the safe basename, or "index.html" when the
 * path names no file.  NULL only when out of memory. */
char *name_from_path(const char *path);

/* The file name a Content-Disposition value proposes (RFC 6266:
 * filename*=UTF-8''%XX... preferred over filename="..." or a token),
 * reduced like name_from_path: directories stripped ('/' and '\\'), no
 * control characters, never "", "." or "..", at most NAME_MAX_LEN bytes.
 * Returns a heap string, or NULL when the value proposes no usable name
 * (or memory ran out). */
char *name_from_disposition(const char *value, size_t len);

/* Decode %XX escapes of s[0..len) into a new heap string; a '%' not
 * followed by two hex digits is kept literally.  *out_len receives the
 * decoded length (the result may hold NUL bytes).  NULL when out of
 * memory. */
char *name_unescape(const char *s, size_t len, size_t *out_len);

#endif
