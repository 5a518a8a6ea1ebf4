/* SPDX-License-Identifier: MIT */
/*
 * dl_rerun.c - the same command again, after it succeeded: is NAME
 * already complete?
 *
 * Every download that succeeds leaves its origin on NAME (origin.h): the
 * URL without credentials, the size and the validators.  When NAME exists
 * with no journal beside it and no --force, ST_OPEN asks here instead of
 * refusing at once:
 *
 *   attributes name this URL (and --range), NAME has the recorded size,
 *   a validator was recorded (and NAME matches --checksum, if given)
 *        │ no ──> refused as before: "NAME exists; pass --force"
 *        v
 *   one HEAD (the probe, head_only; a body is never asked for)
 *        │
 *        ├─ same size and validator (probe_same_resource, the rule that
 *        │  decides a resume) ──> SG_OK, already complete, nothing written
 *        ├─ another size or validator ──> SG_ECHANGED, NAME left alone
 *        └─ no usable answer ──> the request's failure, or SG_EUNSAFE
 *           when HEAD gave no length; NAME left alone
 *
 * A batch never comes here: its queue journal knows its files.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dl.h"

static int streq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Does NAME hold data matching --checksum?  SG_OK, SG_ECHECKSUM or a
 * reading failure, in e. */
static sg_code check_sum(sg_download *dl, int64_t size, sg_err *e)
{
    int fd = open(dl->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return err_set(e, SG_EIO, "cannot open %s", dl->path);
    sg_code rc = checksum_verify(fd, size, &dl->sum, e);
    close(fd);
    if (rc == SG_ECHECKSUM) {
        char *why = strdup(err_msg(e));
        err_reset(e);
        rc = err_set(e, SG_ECHECKSUM,
                     "%s exists and does not match --checksum (%s); pass "
                     "--force to replace it",
                     dl->path, why ? why : "");
        free(why);
    }
    return rc;
}

sg_code dl_rerun_open(sg_download *dl, sg_err *e)
{
    origin o;
    struct stat st;
    const char *why = NULL;
    int have = !dl->hooks && origin_get(dl->path, &o);
    if (!have || !streq(o.url, dl->shown) ||
        !streq(o.range, dl_range_spec(dl))) {
        /* No record, or another download's. */
    } else if (lstat(dl->path, &st) < 0 || !S_ISREG(st.st_mode) ||
               st.st_size != o.size) {
        why = "not the size it was downloaded with";
    } else if (!o.etag && !o.last_modified) {
        why = "its server gave no validator to prove it still current";
    } else {
        sg_code rc = dl->has_sum ? check_sum(dl, o.size, e) : SG_OK;
        if (rc) {
            origin_cleanup(&o);
            return rc;
        }
        dl->rec = o; /* the HEAD decides */
        dl->check = 1;
        return SG_OK;
    }
    if (have)
        origin_cleanup(&o);
    if (why)
        return err_set(e, SG_EUNSAFE,
                       "%s exists (%s); pass --force to replace it",
                       dl->path, why);
    return err_set(e, SG_EUNSAFE, "%s exists; pass --force to replace it",
                   dl->path);
}

void dl_rerun_judge(sg_download *dl)
{
    const probe_result *p = &dl->pr.res;
    const origin *o = &dl->rec;
    if (dl->pr.rc) {
        err_set(&dl->err, dl->pr.rc,
                "%s exists and cannot be checked against the server (%s); "
                "it is left as it is",
                dl->path, err_msg(&dl->pr.err));
        dl_fail(dl, dl->pr.rc);
        return;
    }
    if (p->size < 0) {
        err_set(&dl->err, SG_EUNSAFE,
                "%s exists, and the server's answer to HEAD does not show "
                "whether it is complete; pass --force to replace it",
                dl->path);
        dl_fail(dl, SG_EUNSAFE);
        return;
    }
    if (probe_same_resource(p, o->size, o->etag, o->last_modified)) {
        char what[1024];
        if (p->size != o->size)
            (void)snprintf(what, sizeof what, "%lld bytes, were %lld",
                           (long long)p->size, (long long)o->size);
        else if (o->etag && !streq(p->etag, o->etag))
            (void)snprintf(what, sizeof what, "ETag %.400s, was %.400s",
                           p->etag ? p->etag : "none", o->etag);
        else
            (void)snprintf(what, sizeof what,
                           "Last-Modified %.400s, was %.400s",
                           p->last_modified ? p->last_modified : "none",
                           o->last_modified);
        err_set(&dl->err, SG_ECHANGED,
                "%s changed on the server since it was downloaded (%s); "
                "pass --force to replace it",
                dl->path, what);
        dl_fail(dl, SG_ECHANGED);
        return;
    }
    probe_cleanup(&dl->pr);
    dl->already_complete = 1;
    dl->rc = SG_OK;
    dl->st = ST_END;
    dl_state(dl, SG_STATE_DONE, o->size, o->size);
}

int sg_download_already_complete(const sg_download *dl)
{
    return dl && dl->already_complete;
}
