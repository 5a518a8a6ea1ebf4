/* SPDX-License-Identifier: MIT */
/*
 * sfv.h - the Structured Field Values of HTTP (RFC 8941, with RFC 9651's
 * dates), as far as segget reads them: a dictionary whose members are
 * checked in full but of which only the byte sequences are kept.
 *
 * A field that does not parse is wholly unusable, as RFC 8941 says; so
 * the parser checks every member's syntax (integers, decimals, strings,
 * tokens, byte sequences, booleans, dates, inner lists, parameters)
 * before anything is used.  Pure, no allocation; any thread.
 */
#ifndef SG_SFV_H
#define SG_SFV_H

#include <stddef.h>

typedef struct sfv_member {
    const char *key; /* into the value parsed */
    size_t kl;
    const char *bytes; /* the base64 between the colons of a byte
                          sequence, or NULL for any other type */
    size_t bl;
} sfv_member;

/* Parse a dictionary field value v[0, vl) (surrounding white space
 * already trimmed).  The first cap members go into m, in order (a key
 * sent twice appears twice); *more counts the others.  Returns the number
 * stored, or -1 when the value is not a dictionary. */
int sfv_dict(const char *v, size_t vl, sfv_member *m, int cap, unsigned *more);

#endif
