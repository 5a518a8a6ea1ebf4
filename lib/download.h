/* SPDX-License-Identifier: MIT */
/*
 * download.h - what libsegget's batch needs of a download beyond the
 * public interface.
 */
#ifndef SG_DOWNLOAD_H
#define SG_DOWNLOAD_H

#include <stdint.h>

#include "err.h"

/* Called on the download's thread once the data is verified and synced,
 * just before NAME.part is renamed to NAME (also when an earlier run got
 * that far).  A failure (set in e) stops the download before the rename. */
typedef sg_code (*download_verified_fn)(void *ud, int64_t size,
                                        const char *etag,
                                        const char *last_modified,
                                        sg_err *e);

/* Install fn (NULL: none) before sg_download_run(). */
void download_on_verified(sg_download *dl, download_verified_fn fn,
                          void *ud);

/* Before sg_download_run(): NAME.part already holds the first len bytes of
 * a size-byte resource with these validators (strong ETag or NULL,
 * Last-Modified or NULL), fetched by the caller.  If the probe finds the
 * same resource, the download keeps them; otherwise NAME.part is replaced
 * (it is the caller's, not a stray file).  SG_ENOMEM on failure. */
sg_code download_adopt(sg_download *dl, int64_t len, int64_t size,
                       const char *etag, const char *last_modified);

/* Before sg_download_run(): NAME.part, if there is one without a usable
 * journal, was made by the caller (a batch that owns the name) and may be
 * replaced, as with force, but without force's other effects. */
void download_part_is_ours(sg_download *dl);

/* Check options as sg_download_new does (ranges, timeouts, header
 * syntax).  SG_EUSAGE with a message. */
sg_code download_check(const sg_options *o, sg_err *e);

#endif
