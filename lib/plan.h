/* SPDX-License-Identifier: MIT */
/*
 * plan.h - how a resource of known size is cut into byte ranges.
 *
 * A plan is an array of sg_segment: [start, end) ranges that tile
 * [0, size) in order, each with a "done" offset marking the end of its
 * written prefix.  These are pure functions over that array (no I/O, no
 * allocation), so every edge -- size 0, size 1, more connections than
 * bytes, sizes near 2^62 -- is unit-tested directly.
 */
#ifndef SG_PLAN_H
#define SG_PLAN_H

#include <stdint.h>

#include "segget.h"

/* The most segments a plan may hold: connections times the splits a
 * download may make while resuming. */
#define PLAN_MAX_SEGMENTS 4096

/* Split [0, size) into at most n ranges, none smaller than min_split (a
 * file smaller than min_split is one range; size 0 is none).  Writes at
 * most cap segments to out with done = start.  Returns the count, or -1
 * for invalid arguments (size < 0, n < 1, min_split < 1, cap < n). */
int plan_split(int64_t size, int n, int64_t min_split, sg_segment *out,
               int cap);

/* Check that segs (in order) tile [0, size) with start <= done <= end.
 * Returns 0, or -1 when the plan is not one (a damaged journal). */
int plan_check(const sg_segment *segs, int n, int64_t size);

/* Sort segments by start (insertion sort: plans are small). */
void plan_sort(sg_segment *segs, int n);

/* Bytes not yet written. */
int64_t plan_remaining(const sg_segment *segs, int n);

/* Bytes written. */
int64_t plan_written(const sg_segment *segs, int n);

/* Number of segments with bytes still to write. */
int plan_unfinished(const sg_segment *segs, int n);

/* Split segs[i] at offset at, done < at < end: the back part [at, end)
 * is appended at index *n (done = at) and segs[i].end becomes at.  Returns
 * the new index, or -1 when at is out of range or the array is full. */
int plan_split_at(sg_segment *segs, int *n, int cap, int i, int64_t at);

/* Split the unfinished segment with the most bytes left at the middle of
 * what is left, if each half keeps at least min_split bytes and the array
 * has room (*n < cap).  The new back half is appended at index *n (done =
 * its start) and *n grows by one; the owner's end shrinks.  Segments with
 * active set are skipped unless include_active.  Returns the index of the
 * segment that was split, or -1 when none can be. */
int plan_split_largest(sg_segment *segs, int *n, int cap, int64_t min_split,
                       int include_active);

#endif
