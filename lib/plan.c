/* SPDX-License-Identifier: MIT */
/*
 * plan.c - cutting a resource into ranges and checking that a plan tiles
 * it.  Arithmetic stays within int64_t for any size up to INT64_MAX: no
 * product of two sizes is ever formed.
 */
#include "plan.h"

int plan_split(int64_t size, int n, int64_t min_split, sg_segment *out,
               int cap)
{
    if (size < 0 || n < 1 || min_split < 1 || cap < n)
        return -1;
    if (size == 0)
        return 0;
    int64_t k = size / min_split; /* pieces of at least min_split */
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    int64_t base = size / k, extra = size % k, at = 0;
    for (int64_t i = 0; i < k; i++) {
        int64_t len = base + (i < extra ? 1 : 0);
        out[i] = (sg_segment){.start = at, .end = at + len, .done = at};
        at += len;
    }
    return (int)k;
}

int plan_check(const sg_segment *segs, int n, int64_t size)
{
    if (n < 0 || size < 0)
        return -1;
    int64_t at = 0;
    for (int i = 0; i < n; i++) {
        const sg_segment *s = &segs[i];
        if (s->start != at || s->start >= s->end || s->done < s->start ||
            s->done > s->end)
            return -1;
        at = s->end;
    }
    return at == size ? 0 : -1;
}

void plan_sort(sg_segment *segs, int n)
{
    for (int i = 1; i < n; i++) {
        sg_segment v = segs[i];
        int j = i - 1;
        while (j >= 0 && segs[j].start > v.start) {
            segs[j + 1] = segs[j];
            j--;
        }
        segs[j + 1] = v;
    }
}

int64_t plan_remaining(const sg_segment *segs, int n)
{
    int64_t r = 0;
    for (int i = 0; i < n; i++)
        r += segs[i].end - segs[i].done;
    return r;
}

int64_t plan_written(const sg_segment *segs, int n)
{
    int64_t r = 0;
    for (int i = 0; i < n; i++)
        r += segs[i].done - segs[i].start;
    return r;
}

int plan_unfinished(const sg_segment *segs, int n)
{
    int c = 0;
    for (int i = 0; i < n; i++)
        c += segs[i].done < segs[i].end;
    return c;
}

int plan_split_at(sg_segment *segs, int *n, int cap, int i, int64_t at)
{
    if (*n >= cap || i < 0 || i >= *n)
        return -1;
    sg_segment *s = &segs[i];
    if (at <= s->done || at >= s->end)
        return -1;
    segs[*n] = (sg_segment){.start = at, .end = s->end, .done = at};
    s->end = at;
    return (*n)++;
}

int plan_split_largest(sg_segment *segs, int *n, int cap, int64_t min_split,
                       int include_active)
{
    if (*n >= cap || min_split < 1)
        return -1;
    int best = -1;
    int64_t best_left = 0;
    for (int i = 0; i < *n; i++) {
        int64_t left = segs[i].end - segs[i].done;
        if ((segs[i].active && !include_active) || left <= best_left)
            continue;
        best = i;
        best_left = left;
    }
    if (best < 0 || best_left / 2 < min_split)
        return -1;
    /* The owner keeps the front (it may be receiving it right now). */
    int64_t mid = segs[best].done + (best_left - best_left / 2);
    return plan_split_at(segs, n, cap, best, mid) < 0 ? -1 : best;
}
