/* SPDX-License-Identifier: MIT */
/*
 * dl_new.c - making, configuring and freeing a download: options and
 * their checks, the output's paths, --range, mirrors, the public setters
 * (safe from any thread or a signal handler: atomics).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dl.h"
#include "hdr.h"
#include "name.h"
#include "output.h"
#include "sums.h"
#include "util.h"

void sg_options_init(sg_options *o)
{
    memset(o, 0, sizeof *o);
    o->connections = 8;
    o->min_split = 1 << 20;
    o->on_change = SG_CHANGE_RESTART;
    o->max_tries = 5;
    o->connect_timeout_ms = 30000;
    o->stall_timeout_ms = 30000;
    o->checkpoint_ms = 1000;
    o->checkpoint_bytes = 4 << 20;
    o->buffer = 64 << 20;
}

sg_code download_check(const sg_options *o, sg_err *e)
{
    if (o->connections < 1 || o->connections > 64)
        return err_set(e, SG_EUSAGE, "connections must be 1 to 64, not %d",
                       o->connections);
    if (o->max_rate != 0 && o->max_rate < 4096)
        return err_set(e, SG_EUSAGE, "the rate limit must be at least 4K");
    if (o->min_split < 1)
        return err_set(e, SG_EUSAGE, "the minimum split must be positive");
    if (o->max_tries < 1)
        return err_set(e, SG_EUSAGE, "max tries must be at least 1");
    if (o->connect_timeout_ms < 1 || o->stall_timeout_ms < 1000 ||
        o->checkpoint_ms < 1 || o->checkpoint_bytes < 1)
        return err_set(e, SG_EUSAGE, "timeouts must be positive (stall: at "
                                     "least 1 s)");
    if (o->output_fd > 0 && o->buffer < (1 << 20))
        return err_set(e, SG_EUSAGE, "the buffer must be at least 1M");
    if (o->nmirrors > SCHED_MAX_SRCS - 1)
        return err_set(e, SG_EUSAGE, "at most %d mirrors",
                       SCHED_MAX_SRCS - 1);
    for (int i = 0; i < o->nheaders; i++) {
        const char *h = o->headers[i], *colon = strchr(h, ':');
        static const char *const ours[] = {"range", "if-range",
                                           "accept-encoding"};
        for (size_t k = 0; colon && k < 3; k++)
            if ((size_t)(colon - h) == strlen(ours[k]) &&
                strncasecmp(h, ours[k], strlen(ours[k])) == 0)
                colon = NULL;
        if (!colon || colon == h)
            return err_set(e, SG_EUSAGE,
                           "header '%s': want 'Name: value', and not one "
                           "of Range, If-Range, Accept-Encoding",
                           h);
    }
    return SG_OK;
}

sg_code download_strings(sg_options *o, char *own[DOWNLOAD_STRINGS],
                         sg_err *e)
{
    const char **f[DOWNLOAD_STRINGS] = {&o->cacert, &o->capath, &o->interface,
                                        &o->cookie_file};
    for (int i = 0; i < DOWNLOAD_STRINGS; i++) {
        own[i] = NULL;
        if (*f[i] && !(own[i] = strdup(*f[i]))) {
            download_strings_free(own);
            return err_set(e, SG_ENOMEM, "out of memory");
        }
        *f[i] = own[i];
    }
    return SG_OK;
}

void download_strings_free(char *own[DOWNLOAD_STRINGS])
{
    for (int i = 0; i < DOWNLOAD_STRINGS; i++) {
        free(own[i]);
        own[i] = NULL;
    }
}

sg_code dl_make_paths(sg_download *dl, const char *name,
                      const char *urlpath)
{
    sg_err *e = &dl->err;
    char *derived = NULL;
    const char *out = name ? name : dl->o.output;
    if (out && (out[0] == '\0' || out[strlen(out) - 1] == '/'))
        return err_set(e, SG_EUSAGE, "output '%s' names no file", out);
    if (!out) {
        if (!(derived = name_from_path(urlpath)))
            return err_set(e, SG_ENOMEM, "out of memory");
        out = derived;
    }
    free(dl->path);
    free(dl->part);
    free(dl->jpath);
    dl->part = dl->jpath = NULL;
    dl->path = path_join(dl->o.dir, out);
    free(derived);
    if (!dl->path || !(dl->part = str_cat(dl->path, ".part")) ||
        !(dl->jpath = str_cat(dl->path, ".segget")))
        return err_set(e, SG_ENOMEM, "out of memory");
    /* The directory the run makes when missing: -P's, or with
     * create_dirs the output's own. */
    free(dl->mkdir);
    dl->mkdir = NULL;
    const char *slash = strrchr(dl->path, '/');
    if (dl->o.create_dirs && slash && slash > dl->path)
        dl->mkdir = strndup(dl->path, (size_t)(slash - dl->path));
    else if (dl->o.dir && dl->o.dir[0])
        dl->mkdir = strdup(dl->o.dir);
    if ((dl->o.create_dirs && slash && slash > dl->path) ||
        (dl->o.dir && dl->o.dir[0])) {
        if (!dl->mkdir)
            return err_set(e, SG_ENOMEM, "out of memory");
        /* Made, with what is missing of it, when the download runs. */
        int missing = 0;
        sg_code rc = output_check_dirs(dl->mkdir, &missing, e);
        if (rc || missing)
            return rc;
    }
    return dl_check_dir(dl, e);
}

sg_code dl_check_dir(const sg_download *dl, sg_err *e)
{
    const char *slash = strrchr(dl->path, '/');
    char *d = slash ? strndup(dl->path, (size_t)(slash - dl->path + 1))
                    : strdup(".");
    if (!d)
        return err_set(e, SG_ENOMEM, "out of memory");
    struct stat st;
    sg_code rc = SG_OK;
    if (stat(d, &st) < 0 || !S_ISDIR(st.st_mode))
        rc = err_set(e, SG_EUSAGE, "directory '%s' does not exist", d);
    free(d);
    return rc;
}

/* Copy and check the mirror URLs. */
static sg_code copy_mirrors(sg_download *dl, const sg_options *o)
{
    dl->o.mirrors = NULL;
    if (o->nmirrors <= 0) {
        dl->o.nmirrors = 0;
        return SG_OK;
    }
    if (!(dl->mirrors = calloc((size_t)o->nmirrors, sizeof *dl->mirrors)) ||
        !(dl->mshown = calloc((size_t)o->nmirrors, sizeof *dl->mshown)))
        return err_set(&dl->err, SG_ENOMEM, "out of memory");
    for (int i = 0; i < o->nmirrors; i++) {
        char *path = NULL;
        sg_code rc = eng_url_check(o->mirrors[i], &path, &dl->err);
        free(path);
        if (rc)
            return rc;
        if (!(dl->mirrors[i] = strdup(o->mirrors[i])) ||
            !(dl->mshown[i] = eng_url_redact(o->mirrors[i])))
            return err_set(&dl->err, SG_ENOMEM, "out of memory");
    }
    dl->o.mirrors = (const char *const *)dl->mirrors;
    return SG_OK;
}

/* --range "A-B", "A-" or "-N" into dl, and the journal's identity. */
static sg_code parse_range(sg_download *dl, const char *spec)
{
    dl->ident = spec ? NULL : strdup(dl->shown);
    if (!spec)
        return dl->ident ? SG_OK
                         : err_set(&dl->err, SG_ENOMEM, "out of memory");
    const char *dash = strchr(spec, '-');
    int64_t a = -1, b = -1;
    int ok = dash && strspn(spec, "0123456789-") == strlen(spec) &&
             strchr(dash + 1, '-') == NULL;
    if (ok && dash > spec)
        ok = hdr_parse_int(spec, (size_t)(dash - spec), &a) == 0;
    if (ok && dash[1])
        ok = hdr_parse_int(dash + 1, strlen(dash + 1), &b) == 0;
    if (!ok || (a < 0 && b < 1) || (a >= 0 && b >= 0 && b < a))
        return err_set(&dl->err, SG_EUSAGE,
                       "range '%s': want A-B (bytes A to B), A- or -N (the "
                       "last N bytes)",
                       spec);
    dl->has_range = 1;
    dl->rfirst = a;
    dl->rlast = a >= 0 ? b : -1;
    dl->rsuffix = a < 0 ? b : 0;
    size_t n = strlen(dl->shown) + strlen(spec) + 16;
    if (!(dl->ident = malloc(n)))
        return err_set(&dl->err, SG_ENOMEM, "out of memory");
    (void)snprintf(dl->ident, n, "%s bytes=%s", dl->shown, spec);
    return SG_OK;
}

static sg_code copy_strings(sg_download *dl, const char *url,
                            const sg_options *o)
{
    dl->o.output = dl->o.dir = NULL;
    dl->o.userpwd = dl->o.proxy = NULL;
    dl->o.headers = NULL;
    dl->o.checksum = NULL; /* parsed; the caller's string is not kept */
    dl->o.checksum_file = NULL; /* read (dl->sums) */
    if (!(dl->url = strdup(url)) || !(dl->shown = eng_url_redact(url)) ||
        (o->output && !(dl->o.output = strdup(o->output))) ||
        (o->dir && !(dl->o.dir = strdup(o->dir))) ||
        !(dl->ua = o->user_agent ? strdup(o->user_agent)
                                 : strdup("segget/" SG_VERSION)) ||
        (o->userpwd && !(dl->o.userpwd = dl->userpwd = strdup(o->userpwd))) ||
        (o->proxy && !(dl->o.proxy = dl->proxy = strdup(o->proxy))))
        return err_set(&dl->err, SG_ENOMEM, "out of memory");
    dl->o.user_agent = dl->ua;
    sg_code rc = download_strings(&dl->o, dl->strs, &dl->err);
    if (rc)
        return rc;
    if (o->nheaders > 0) {
        if (!(dl->headers = calloc((size_t)o->nheaders, sizeof *dl->headers)))
            return err_set(&dl->err, SG_ENOMEM, "out of memory");
        for (int i = 0; i < o->nheaders; i++)
            if (!(dl->headers[i] = strdup(o->headers[i])))
                return err_set(&dl->err, SG_ENOMEM, "out of memory");
        dl->o.headers = (const char *const *)dl->headers;
    }
    return SG_OK;
}

sg_code sg_download_new(sg_download **out, const char *url,
                        const sg_options *o)
{
    sg_download *dl = calloc(1, sizeof *dl);
    *out = dl;
    if (!dl)
        return SG_ENOMEM;
    dl->o = *o;
    dl->fd = -1;
    atomic_store(&dl->live_rate, -1);
    char *urlpath = NULL;
    sg_code rc;
    if ((rc = copy_strings(dl, url, o)))
        goto out;
    if (o->checksum) {
        if ((rc = checksum_parse(o->checksum, &dl->sum, &dl->err)))
            goto out;
        dl->has_sum = 1;
        (void)snprintf(dl->sum_source, sizeof dl->sum_source, "--checksum");
    }
    if (o->checksum_file && o->checksum) {
        rc = err_set(&dl->err, SG_EUSAGE,
                     "a checksum and a checksum list exclude each other");
        goto out;
    }
    if (o->checksum_file &&
        ((rc = sums_load(o->checksum_file, &dl->sums, &dl->err)) ||
         !(dl->sums_path = strdup(o->checksum_file)))) {
        if (!rc)
            rc = err_set(&dl->err, SG_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = download_check(o, &dl->err)) ||
        (rc = parse_range(dl, o->range)) || (rc = copy_mirrors(dl, o)))
        goto out;
    /* A rate limit is the bottleneck: more connections than it can feed
     * at 16 KiB/s each only add requests. */
    if (o->max_rate > 0 && o->max_rate / dl->o.connections < 16384)
        dl->o.connections = o->max_rate / 16384 > 1
                                ? (int)(o->max_rate / 16384)
                                : 1;
    if ((rc = eng_url_check(url, &urlpath, &dl->err)))
        goto out;
    if (o->output_fd > 0) {
        /* No file: "-" in messages; a checksum list is searched for the
         * name the URL gives. */
        dl->pipe = 1;
        dl->fresh = 1;
        dl->paths_known = 1;
        if (!(dl->path = name_from_path(urlpath))) {
            rc = err_set(&dl->err, SG_ENOMEM, "out of memory");
            goto out;
        }
        rc = dl_sum_from_list(dl);
        free(dl->path);
        if (!(dl->path = strdup("-")) && !rc)
            rc = err_set(&dl->err, SG_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = dl_make_paths(dl, NULL, urlpath)))
        goto out;
    dl->paths_known = !(o->content_disposition && !o->output);
    if (dl->paths_known)
        rc = dl_sum_from_list(dl);
out:
    free(urlpath);
    return rc;
}

sg_code dl_sum_from_list(sg_download *dl)
{
    if (!dl->sums)
        return SG_OK;
    const char *base = strrchr(dl->path, '/');
    base = base ? base + 1 : dl->path;
    char spec[160];
    sg_code rc;
    if (!sums_find(dl->sums, base, spec, sizeof spec))
        rc = err_set(&dl->err, SG_EUSAGE, "%s is not listed in %s", base,
                     dl->sums_path);
    else if ((rc = checksum_parse(spec, &dl->sum, &dl->err)) == SG_OK) {
        dl->has_sum = 1;
        (void)snprintf(dl->sum_source, sizeof dl->sum_source,
                       "--checksum-file");
    }
    sums_free(dl->sums);
    dl->sums = NULL;
    return rc;
}

const char *sg_download_checked(const sg_download *dl, const char **source)
{
    if (!dl || !dl->sum_checked)
        return NULL;
    if (source)
        *source = dl->sum_source;
    return dl->sum.algo;
}

const char *dl_range_spec(const sg_download *dl)
{
    /* ident is "SHOWN bytes=SPEC" with --range. */
    return dl->has_range ? dl->ident + strlen(dl->shown) + 7 : NULL;
}

void download_part_is_ours(sg_download *dl)
{
    dl->part_ours = 1;
}

void sg_download_pause(sg_download *dl, int paused)
{
    atomic_store(&dl->pause, paused ? 1 : 0);
}

void sg_download_set_rate(sg_download *dl, int64_t max_rate)
{
    atomic_store(&dl->live_rate, (long long)(max_rate > 0 ? max_rate : 0));
}

void sg_download_cancel(sg_download *dl)
{
    atomic_store(&dl->cancel, 1);
}

const char *sg_download_path(const sg_download *dl)
{
    return dl->path ? dl->path : "";
}

const char *sg_download_url(const sg_download *dl)
{
    return dl->shown ? dl->shown : "";
}

const char *sg_download_error(const sg_download *dl)
{
    return err_msg(&dl->err);
}

int sg_download_http_status(const sg_download *dl)
{
    return dl->err.status; /* err.h keeps one only with SG_EHTTP */
}

void dl_drop_mirrors(sg_download *dl)
{
    for (int i = 0; dl->mp && i < dl->o.nmirrors; i++)
        probe_cleanup(&dl->mp[i]);
    free(dl->mp);
    free(dl->usable);
    dl->mp = NULL;
    dl->usable = NULL;
    dl->nusable = 0;
    dl->mirrors_started = 0;
}

void sg_download_free(sg_download *dl)
{
    if (!dl)
        return;
    dl_first_end(dl);
    dl_xfer_end(dl);
    dl_sample_end(dl);
    probe_cleanup(&dl->pr);
    dl_drop_mirrors(dl);
    for (int i = 0; dl->headers && i < dl->o.nheaders; i++)
        free(dl->headers[i]);
    free(dl->headers);
    for (int i = 0; dl->mirrors && i < dl->o.nmirrors; i++) {
        free(dl->mirrors[i]);
        free(dl->mshown ? dl->mshown[i] : NULL);
    }
    free(dl->mirrors);
    free(dl->mshown);
    free(dl->ident);
    sums_free(dl->sums);
    free(dl->sums_path);
    origin_cleanup(&dl->rec);
    free(dl->userpwd);
    free(dl->proxy);
    download_strings_free(dl->strs);
    free(dl->mkdir);
    free(dl->adopt.etag);
    free(dl->adopt.last_modified);
    free(dl->url);
    free(dl->shown);
    free((char *)dl->o.output);
    free((char *)dl->o.dir);
    free(dl->ua);
    free(dl->path);
    free(dl->part);
    free(dl->jpath);
    free(dl->made_dir);
    journal_close(dl->j);
    journal_meta_cleanup(&dl->meta);
    free(dl->segs);
    stream_free(dl->stream); /* the engine ran its last task */
    free(dl->task.snap);
    err_reset(&dl->task.err);
    if (dl->fd >= 0)
        close(dl->fd);
    err_reset(&dl->err);
    free(dl);
}

