/* SPDX-License-Identifier: MIT */
/*
 * segget.h - the public interface of libsegget.
 *
 * libsegget downloads one HTTP(S) resource over several concurrent range
 * requests into a preallocated file.  Progress is recorded in a journal
 * (an SQLite database next to the output) under one rule: a journal row
 * never claims a byte that has not been fdatasync'd.  Running the same
 * download again after a kill, crash or power loss therefore fetches only
 * what is missing.  The output appears under its final name only after its
 * size, its coverage and the server's validator have been verified.
 *
 * Usage:
 *
 *     if (sg_global_init() != SG_OK)
 *         return 1;
 *     sg_options o;
 *     sg_options_init(&o);
 *     o.connections = 8;
 *     sg_download *dl;
 *     sg_code rc = sg_download_new(&dl, url, &o);
 *     if (rc == SG_OK)
 *         rc = sg_download_run(dl);
 *     if (rc != SG_OK)  // dl is NULL when out of memory
 *         fprintf(stderr, "%s\n",
 *                 dl ? sg_download_error(dl) : sg_strerror(rc));
 *     sg_download_free(dl);
 *     sg_global_cleanup();
 *
 * Threads: a download is driven by the thread that calls sg_download_run();
 * callbacks run on that thread.  The library starts two helper threads per
 * running download that wait for the disk (checkpoints, and hashing the
 * data as it becomes final), with every signal blocked.  sg_download_cancel(), sg_download_pause()
 * and sg_download_set_rate() may come from another thread, and the first
 * two from a signal handler.
 */
#ifndef SEGGET_H
#define SEGGET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SG_VERSION "0.2.0"

/* What libsegget exports; everything else in it is hidden. */
#if defined(__GNUC__) || defined(__clang__)
#define SG_API __attribute__((visibility("default")))
#else
#define SG_API
#endif

/* Result of every fallible call.  SG_OK is zero. */
typedef enum sg_code {
    SG_OK = 0,
    SG_EUSAGE,       /* bad argument or option */
    SG_ENETWORK,     /* connect/DNS/timeout failures, retries exhausted */
    SG_EHTTP,        /* the server answered with an error status */
    SG_EPROTO,       /* the server violated HTTP (bad Content-Range, ...) */
    SG_ECHANGED,     /* the remote resource changed under us */
    SG_EIO,          /* local I/O failed: disk full, fdatasync, rename */
    SG_EJOURNAL,     /* the journal is corrupt or belongs elsewhere */
    SG_ETLS,         /* TLS handshake or certificate verification */
    SG_EUNSAFE,      /* refused: would clobber or follow a symlink, locked */
    SG_ECHECKSUM,    /* content checksum mismatch */
    SG_EINTERRUPTED, /* cancelled; the journal allows a resume */
    SG_ENOMEM,       /* out of memory */
    SG_EPIPE,        /* the output pipe's reader went away (-o -) */
} sg_code;

/* A static, human readable description of a code.  Never NULL. */
SG_API const char *sg_strerror(sg_code code);

/* The library version string ("0.2.0").  Static. */
SG_API const char *sg_version(void);

/* What libsegget runs on, as curl -V says it: the versions of libcurl,
 * its TLS library, zlib, nghttp2, SQLite and OpenSSL (for the
 * checksums), and the features compiled in, on a few lines.  A static
 * string, made on the first call (not thread-safe before
 * sg_global_init() returned).  Never NULL. */
SG_API const char *sg_version_details(void);

/* What a download is doing, reported with each progress callback. */
typedef enum sg_state {
    SG_STATE_PROBING,
    SG_STATE_DOWNLOADING,
    SG_STATE_VERIFYING,
    SG_STATE_DONE,
    SG_STATE_PAUSED,  /* sg_download_pause(): checkpointed, no connection */
} sg_state;

/* One planned byte range [start, end) of which [start, done) is written. */
typedef struct sg_segment {
    int64_t start;
    int64_t end;
    int64_t done;
    int active; /* a connection is fetching it now */
    int conn;   /* in a progress snapshot: which one, numbered from 1 (up
                   to the connections asked for); a connection keeps its
                   number for the whole run, across ranges and splits.
                   0 when none */
} sg_segment;

/* A snapshot passed to the progress callback.  Valid only during the call. */
typedef struct sg_progress {
    sg_state state;
    int64_t total;    /* size of the resource, -1 when unknown */
    int64_t received; /* bytes in the file, this run and earlier ones */
    int64_t resumed;  /* of those, bytes found on disk at start */
    int64_t durable;  /* bytes the journal has committed */
    double rate;      /* bytes per second, smoothed, this run */
    double elapsed;   /* seconds since the transfer started */
    int connections;  /* connections transferring now */
    int nsegments;
    const sg_segment *segments;
    const char *etag;          /* the validators the download relies on */
    const char *last_modified; /* (strong ETag, Last-Modified), or NULL */
} sg_progress;

typedef void (*sg_progress_fn)(const sg_progress *p, void *userdata);

/* A one-line remark worth telling a user ("server ignores ranges; one
 * stream").  The string is valid only during the call. */
typedef void (*sg_notice_fn)(const char *msg, void *userdata);

/* What to do when a partial download's remote resource has changed. */
typedef enum sg_on_change {
    SG_CHANGE_RESTART, /* discard the partial data and start over */
    SG_CHANGE_FAIL,    /* stop with SG_ECHANGED and keep the partial data */
} sg_on_change;

/* Options.  Initialise with sg_options_init() and then set fields; strings
 * are borrowed and must outlive sg_download_new(), which copies them. */
typedef struct sg_options {
    int connections;         /* 1..64, default 8 */
    int64_t min_split;       /* smallest range worth a connection, 1 MiB */
    const char *output;      /* file name; NULL: derived from the URL */
    int output_fd;           /* > 0: no file; the bytes are written to
                                this descriptor (1: standard output) in
                                order, each only once the request that
                                brought it ended without a fault; not
                                resumable.  0: a file (the default) */
    int64_t buffer;          /* with output_fd: bytes held in memory for
                                the connections working ahead of what
                                was written, 64 MiB (at least 1 MiB) */
    int no_verify;           /* do not check the checksums the server
                                declares (Repr-Digest, Digest,
                                Content-MD5, x-amz-checksum-*,
                                x-goog-hash) */
    const char *dir;         /* directory for the output; NULL: "."; made
                                with its parents (mkdir -p) by the run when
                                missing */
    int content_disposition; /* without output: take the server's proposed
                                name (Content-Disposition), made safe */
    int force;               /* replace an existing output (even one found
                                complete), discard a foreign or corrupt
                                journal and a stray .part */
    sg_on_change on_change;  /* default SG_CHANGE_RESTART */
    int max_tries;           /* consecutive failures per range, default 5 */
    long connect_timeout_ms; /* default 30000 */
    long stall_timeout_ms;   /* no byte for this long: retry, default 30000 */
    long checkpoint_ms;      /* checkpoints at most this far apart
                                (ms), 1000; they come every 50 ms while
                                they take under a quarter of that */
    int64_t checkpoint_bytes; /* and after this many new bytes, 4 MiB */
    int insecure;             /* skip TLS verification */
    const char *cacert;       /* a PEM file of the CA certificates to trust
                                 instead of the system's; NULL: libcurl's
                                 default */
    const char *capath;       /* a directory of them (hashed, as
                                 c_rehash or openssl rehash make it) */
    int ip_version;           /* 4 or 6: connect over that family only;
                                 0: either */
    const char *interface;    /* connect from this interface, address or
                                 host name (libcurl's CURLOPT_INTERFACE);
                                 NULL: any */
    const char *cookie_file;  /* a Netscape cookie file (as curl -b FILE and
                                 wget --load-cookies read): each cookie is
                                 sent where its domain and path match;
                                 nothing is written back */
    int create_dirs;          /* make the output's missing directories
                                 (output with a directory part), as dir
                                 is made */
    sg_notice_fn trace;       /* NULL: none; else every header line sent
                                 ("> ") and received ("< ") and libcurl's
                                 connection notes ("* "), with the values
                                 of Authorization, Proxy-Authorization,
                                 Cookie and Set-Cookie redacted; on the
                                 thread that runs the download, with
                                 userdata */
    const char *checksum;     /* "ALGO=HEX", ALGO md5, sha1, sha256, sha512,
                                 crc32, crc32c or crc64nvme (a CRC
                                 big-endian: 8 hex digits, 16 for
                                 crc64nvme): the finished data must match
                                 it, else SG_ECHECKSUM */
    const char *checksum_file; /* a checksum list (SHA256SUMS, MD5SUMS,
                                 "ALGO (NAME) = HEX" lines): the entry for
                                 the output's name is the checksum; an
                                 output it does not list is SG_EUSAGE */
    const char *user_agent;   /* NULL: "segget/VERSION" */
    const char *const *headers; /* extra "Name: value" request headers,
                                   sent to the URL's own origin only */
    int nheaders;
    const char *userpwd;      /* "user:password" for the URL's origin only
                                 (never after a redirect to another) */
    int netrc;                /* without userpwd: credentials for each host
                                 from ~/.netrc, when it has them */
    const char *proxy;        /* proxy URL; NULL: libcurl's environment
                                 (http_proxy, https_proxy, no_proxy...) */
    const char *const *mirrors; /* other URLs of the same file: each is
                                   used when it serves ranges of the same
                                   size and validator; connections are
                                   spread over all, the faster ones take
                                   more.  No header or credential of the
                                   user goes to them. */
    int nmirrors;
    const char *range;        /* only these bytes of the resource: "A-B"
                                 (inclusive), "A-" (to the end) or "-N"
                                 (the last N); NULL: all */
    int64_t max_rate;         /* bytes per second over all connections:
                                 0 (unlimited) or at least 4096; fewer
                                 connections are used when each would get
                                 under 16 KiB/s */
    sg_progress_fn progress;  /* NULL: none; called about 5 times a second */
    sg_notice_fn notice;      /* NULL: none */
    void *userdata;           /* passed to both callbacks */
} sg_options;

/* Fill *o with the defaults.  Cannot fail. */
SG_API void sg_options_init(sg_options *o);

typedef struct sg_download sg_download;

/* Process-wide set-up (libcurl's global init).  Call once before any other
 * thread exists; sg_global_cleanup() at exit.  Returns SG_ENOMEM on
 * failure. */
SG_API sg_code sg_global_init(void);
SG_API void sg_global_cleanup(void);

/* Create a download of url with options o (copied).  On success *out owns a
 * new download; on failure *out is either NULL (SG_ENOMEM) or a download
 * whose sg_download_error() explains the problem; free it either way.
 * Checks the URL, the options and that the output directory exists (or,
 * for dir, that what exists of it is directories: sg_download_run makes
 * the rest); no network I/O and no file is created. */
SG_API sg_code sg_download_new(sg_download **out, const char *url,
                        const sg_options *o);

/* Run the download to completion on the calling thread: probe, plan or
 * resume, transfer, verify, rename.  Returns SG_OK only when the file under
 * its final name holds exactly the server's bytes.  May be called once.
 *
 * Run again after an interruption it resumes, also from another URL for
 * the same output when that URL serves the same resource (size, strong
 * ETag or Last-Modified, and a sample of the data kept).  Run again after
 * success, on an output whose extended attributes (written on success)
 * name this URL, it sends one HEAD: SG_OK when the size and validator are
 * unchanged (sg_download_already_complete), SG_ECHANGED when they are not;
 * the output is left alone either way.  Without such attributes an
 * existing output is SG_EUNSAFE unless force. */
SG_API sg_code sg_download_run(sg_download *dl);

/* Ask a running download to stop: it checkpoints and returns
 * SG_EINTERRUPTED.  Async-signal-safe; any thread. */
SG_API void sg_download_cancel(sg_download *dl);

/* Pause (paused = 1) or continue (0) a running download.  Pausing
 * checkpoints and closes every connection; the progress callback keeps
 * being called with SG_STATE_PAUSED, and sg_download_cancel() still
 * works.  Async-signal-safe; any thread. */
SG_API void sg_download_pause(sg_download *dl, int paused);

/* Change the rate limit of a running download (bytes per second; 0:
 * none).  Any thread. */
SG_API void sg_download_set_rate(sg_download *dl, int64_t max_rate);

/* The final path of the output, known after sg_download_new().  Owned by
 * dl. */
SG_API const char *sg_download_path(const sg_download *dl);

/* The URL as given, without credentials (as messages and the journal show
 * it), known after sg_download_new(); "" when it could not be taken.
 * Owned by dl. */
SG_API const char *sg_download_url(const sg_download *dl);

/* A one-line description of the last failure, or "" when none.  Owned by
 * dl, valid until the next call on dl. */
SG_API const char *sg_download_error(const sg_download *dl);

/* When the last failure was SG_EHTTP for a server's response status (404,
 * 503 after the retries, ...): that status (100-599).  Otherwise 0 (also
 * for a proxy that refused CONNECT).  Any thread after sg_download_run()
 * returned. */
SG_API int sg_download_http_status(const sg_download *dl);

/* 1 when sg_download_run() returned SG_OK because the output was already
 * complete: it existed, its extended attributes (set by the run that
 * downloaded it) named this URL, size and validator, and one HEAD request
 * found the server's file unchanged; nothing was fetched or written.
 * Otherwise 0. */
SG_API int sg_download_already_complete(const sg_download *dl);

/* After sg_download_run() returned SG_OK: the checksum the data was
 * found to match ("sha256", "crc32c", ...), with *source (when not
 * NULL) set to where it came from ("--checksum", "--checksum-file", or
 * the server's field: "Repr-Digest", "x-amz-checksum-crc32c", ...); NULL
 * when none was checked.  Owned by dl. */
SG_API const char *sg_download_checked(const sg_download *dl,
                                       const char **source);

/* Free a download and everything it owns.  NULL is a no-op.  Must not be
 * called while sg_download_run() runs. */
SG_API void sg_download_free(sg_download *dl);


/*
 * Batches: a queue of downloads (segget -i FILE).
 *
 * The queue text has one URL per line; blank lines and '#' comments are
 * ignored; indented "out=NAME", "checksum=sha256:HEX" and "n=N" lines set
 * options for the URL above them.  Each file is fetched as a download is,
 * with two economies for small ones: a file under twice min_split comes
 * in one GET, without a probe, over connections reused across the files
 * of a host; and its durability costs are shared, many files to one
 * fdatasync-then-commit round, in one queue journal (DIR/.segget-queue)
 * instead of one journal per file.  A file gets its name only after its
 * data is synced and the queue journal records it as verified, so running
 * the same batch again skips finished files without a request, resumes
 * partial ones and retries failed ones.
 *
 * Threads: sg_batch_run() drives the batch, every file of it, on the
 * calling thread, over one pool of connections; four helper threads wait
 * for the disk (fdatasync, commits), with every signal blocked.  The
 * event, status and notice callbacks run on the calling thread.
 * sg_batch_cancel() is async-signal-safe.
 */
typedef struct sg_batch sg_batch;

typedef enum sg_entry_state {
    SG_ENTRY_QUEUED,
    SG_ENTRY_ACTIVE,  /* being downloaded */
    SG_ENTRY_DONE,    /* downloaded and verified in this run */
    SG_ENTRY_SKIPPED, /* verified by an earlier run (or unchanged, with
                         refresh) */
    SG_ENTRY_FAILED,
} sg_entry_state;

/* One entry changed state.  Strings are valid only during the call. */
typedef struct sg_batch_event {
    int line;          /* of the URL in the queue text */
    sg_entry_state state;
    const char *url;   /* without credentials */
    const char *path;  /* where the file goes */
    int64_t size;      /* DONE, SKIPPED: the file's size */
    sg_code code;      /* FAILED: why */
    const char *error; /* FAILED: a one-line message */
    int http_status;   /* FAILED: as sg_download_http_status(), or 0 */
} sg_batch_event;

/* Counts over the entries of this batch (this shard's), for progress. */
typedef struct sg_batch_status {
    int total, done, skipped, failed, active;
    int64_t bytes;  /* received in this run */
    double rate;    /* bytes per second, over the last seconds */
    double elapsed; /* seconds since sg_batch_run() began */
} sg_batch_status;

typedef void (*sg_batch_event_fn)(const sg_batch_event *ev, void *userdata);
typedef void (*sg_batch_status_fn)(const sg_batch_status *st,
                                   void *userdata);

typedef struct sg_batch_options {
    sg_options dl;     /* for every download; output, checksum, progress
                          and content_disposition must stay unset (the
                          queue sets names and checksums per entry) */
    int jobs;          /* downloads at once, 1-256, default 4 */
    int max_per_host;  /* connections to one host at once, 1-256,
                          default 16 */
    int refresh;       /* revalidate verified files (If-None-Match /
                          If-Modified-Since); fetch only what changed */
    int shard_index;   /* with shard_count > 0: take only the URLs whose */
    int shard_count;   /* FNV-1a hash modulo shard_count is index - 1 */
    sg_batch_event_fn event;
    sg_batch_status_fn status; /* about 5 times a second */
} sg_batch_options;

/* Fill *o with the defaults (sg_options_init for o->dl).  Cannot fail. */
SG_API void sg_batch_options_init(sg_batch_options *o);

/* The shard a scheduler gave this process, from its environment: a
 * Slurm job array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT,
 * SLURM_ARRAY_TASK_MIN; task MIN + (I-1)*STEP is shard I of COUNT), else
 * an srun task (SLURM_PROCID of SLURM_NTASKS).  0 with *index and *count
 * set and msg saying where they came from ("shard 2/4 (Slurm job array
 * task 2 of 4)"); -1 with msg saying what is missing.  msg is cap bytes,
 * NUL-terminated.  Reads the environment: not while another thread
 * changes it. */
SG_API int sg_batch_shard_auto(int *index, int *count, char *msg,
                               size_t cap);

/* Parse len bytes of queue text and check it whole: every line, URL,
 * option and output name, and that no two entries (of the whole queue,
 * not only this shard) save to the same name.  No network I/O and no file
 * is written.  The text is copied.  *out as sg_download_new: free it
 * whatever the result; sg_batch_error() explains a failure ("line 7:
 * ..."). */
SG_API sg_code sg_batch_new(sg_batch **out, const char *text, size_t len,
                     const sg_batch_options *o);

/* As sg_batch_new, for a queue read from fd (a file, a pipe, standard
 * input) to its end, as a stream: memory does not grow with the length
 * of the queue (its names are checked through a temporary file in
 * $TMPDIR, else /tmp).  The queue is read twice, now and by
 * sg_batch_run: a regular file from where fd stood (it must not change
 * in between: the run then fails), anything else is copied to an
 * unlinked temporary file as it is read.  fd stays the caller's. */
SG_API sg_code sg_batch_open(sg_batch **out, int fd,
                             const sg_batch_options *o);

/* Run the batch.  Returns SG_OK when every entry is DONE or SKIPPED;
 * SG_EINTERRUPTED after sg_batch_cancel(); otherwise the code of the
 * first failed entry in queue order (the other entries still ran), or of
 * a failure of the batch itself (its journal is locked or damaged).  May
 * be called once.  The output directory (the working directory without
 * one) must not be moved, nor the process chdir, while it runs. */
SG_API sg_code sg_batch_run(sg_batch *b);

/* Stop a running batch: downloads checkpoint, finished files are
 * committed.  Async-signal-safe; any thread. */
SG_API void sg_batch_cancel(sg_batch *b);

/* The counts so far (or at the end).  Any time after sg_batch_new. */
SG_API void sg_batch_counts(const sg_batch *b, sg_batch_status *st);

/* A one-line description of the batch's own failure, or "".  Owned by b. */
SG_API const char *sg_batch_error(const sg_batch *b);

/* Free a batch.  NULL is a no-op.  Not while sg_batch_run() runs. */
SG_API void sg_batch_free(sg_batch *b);

#ifdef __cplusplus
}
#endif

#endif /* SEGGET_H */
