/* SPDX-License-Identifier: MIT */
/*
 * download.h - what a batch needs of a download beyond the public
 * interface: to run it on the batch's engine, starting with one GET, and
 * to be told when its data is ready for a name and when it is over.
 */
#ifndef SG_DOWNLOAD_H
#define SG_DOWNLOAD_H

#include <stdint.h>

#include "err.h"

struct engine;

/* A batch's callbacks, on the engine's loop thread. */
typedef struct dl_hooks {
    /* The first GET found a file too large for it: how many connections
     * (1..want) may the rest use now?  0: none yet; asked again later. */
    int (*grant)(sg_download *dl, void *ud, int want);
    /* The data is verified: make it durable and give it its name.  fd >=
     * 0: NAME.part is still to be fdatasync'd (the caller keeps fd open
     * until dl_published); -1: already synced.  named: NAME holds it
     * already (an earlier run renamed it and died).  A batch commits its
     * row before the rename.  Answer with download_published(). */
    void (*publish)(sg_download *dl, void *ud, int fd, int64_t size,
                    const char *etag, const char *last_modified, int named);
    /* The download is over with rc (SG_OK: done; unchanged: a 304 to
     * the revalidation, nothing written).  The batch may free dl. */
    void (*finished)(sg_download *dl, void *ud, sg_code rc, int unchanged);
    /* The first GET was turned away (policy_refusal) before any byte:
     * return 1 when that is the host's cap on connections (the batch
     * lowers it), and the download ends at once, deferred
     * (download_deferred), to be started again when a connection to the
     * host is free; 0 to treat it as a failure. */
    int (*refused)(sg_download *dl, void *ud, int64_t retry_after);
} dl_hooks;

/* Run dl, made by sg_download_new, on engine g of a batch, with hooks.
 * With first_limit > 0 it begins with one GET of its first first_limit
 * bytes (no probe, no journal): a small file is complete with it; a
 * larger one keeps those bytes and goes on as a download of its own.
 * With if_none_match or if_modified_since (borrowed) that GET revalidates
 * instead, without a Range.  SG_ENOMEM on failure. */
sg_code download_batch(sg_download *dl, struct engine *g,
                       const dl_hooks *hooks, void *ud, int64_t first_limit,
                       const char *if_none_match,
                       const char *if_modified_since);

/* The answer to dl_hooks.publish: SG_OK, or the failure and its message;
 * with keep_part, NAME.part holds committed data and must stay. */
void download_published(sg_download *dl, sg_code rc, const char *msg,
                        int keep_part);

/* Before running: NAME.part, if there is one without a usable journal,
 * was made by the caller (a batch that owns the name) and may be
 * replaced, as with force, but without force's other effects. */
void download_part_is_ours(sg_download *dl);

/* Bytes received by this run (for a batch's counts). */
int64_t download_received(const sg_download *dl);

/* dl ended because its host's cap turned it away (dl_hooks.refused):
 * nothing was written; it may start again. */
int download_deferred(const sg_download *dl);

/* Check options as sg_download_new does (ranges, timeouts, header
 * syntax).  SG_EUSAGE with a message. */
sg_code download_check(const sg_options *o, sg_err *e);

/* The connection options' strings (cacert, capath, interface,
 * cookie_file), which sg_download_new and sg_batch_new copy: make o's
 * point at copies held in own (freed with download_strings_free).
 * SG_ENOMEM in e. */
#define DOWNLOAD_STRINGS 4
sg_code download_strings(sg_options *o, char *own[DOWNLOAD_STRINGS],
                         sg_err *e);
void download_strings_free(char *own[DOWNLOAD_STRINGS]);

#endif
