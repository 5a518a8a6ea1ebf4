/* SPDX-License-Identifier: MIT */
/*
 * keys.h - interactive control of a download from the terminal.
 *
 * When standard input and standard error are terminals, keys are read
 * without waiting (the terminal in non-canonical mode, without echo):
 *   p          pause: checkpoint, close every connection
 *   c, Enter   continue
 *   +          double the rate limit (when there is one)
 *   -          halve it, not below 128 KiB/s (without one: limit to half
 *              the current speed)
 * The terminal is restored by keys_stop(), on the main thread (a signal
 * handler only sets a flag the main thread acts on).  Keys are read
 * without ever blocking.  Called on the download's thread (from the
 * progress callback); uses only the public API.
 */
#ifndef SG_KEYS_H
#define SG_KEYS_H

#include <stdint.h>

#include <segget.h>

typedef struct keys {
    int on;        /* the terminal is in our mode */
    int64_t limit; /* the rate limit now, 0: none */
} keys;

/* Take the terminal when stdin and stderr are terminals.  limit is the
 * starting rate limit (--limit-rate, or 0). */
void keys_start(keys *k, int64_t limit);

/* Give the terminal back as it was.  Idempotent. */
void keys_stop(keys *k);

/* keys_stop() for the state saved by keys_start, without a keys. */
void keys_restore(void);

/* Act on the keys pressed since the last call.  Returns a message for the
 * user (static), or NULL. */
const char *keys_poll(keys *k, sg_download *dl, const sg_progress *p);

#endif
