/* SPDX-License-Identifier: MIT */
/*
 * ckpt.h - the checkpointer: makes written bytes durable, then says so.
 *
 * The transfer thread captures a snapshot of the plan (each segment's
 * written offset) and posts it; this module's own thread then runs
 * fdatasync on the data file and only after it succeeds commits the
 * snapshot to the journal.  Because every byte below a captured offset was
 * pwritten before the capture, the journal never claims a byte that is not
 * on disk.  Posting never waits for the disk: a newer snapshot simply
 * replaces one not yet taken.  The first failure stops all further commits
 * (an fdatasync error means the kernel may have dropped the data).
 *
 * Threads: ckpt_post/ckpt_durable/ckpt_failed from the one thread that
 * started the checkpointer; the journal belongs to the checkpointer from
 * ckpt_start until ckpt_stop returns.
 */
#ifndef SG_CKPT_H
#define SG_CKPT_H

#include <stdint.h>

#include "err.h"
#include "journal.h"
#include "segget.h"

typedef struct ckpt ckpt;

/* Start a checkpointer for data file fd and journal j (both borrowed).
 * cap bounds the segment count of any snapshot. */
sg_code ckpt_start(ckpt **out, int fd, journal *j, int cap, sg_err *e);

/* Hand over a snapshot of n segments (copied).  Never blocks on I/O. */
void ckpt_post(ckpt *c, const sg_segment *segs, int n);

/* Bytes covered by the last committed snapshot. */
int64_t ckpt_durable(ckpt *c);

/* Non-zero once a sync or commit failed. */
int ckpt_failed(ckpt *c);

/* Commit a final snapshot (when segs is not NULL), wait for it, stop the
 * thread and free c.  Returns the first failure of the checkpointer's
 * life, moved into e.  NULL c is a no-op. */
sg_code ckpt_stop(ckpt *c, const sg_segment *segs, int n, sg_err *e);

#endif
