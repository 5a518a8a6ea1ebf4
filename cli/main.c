/* SPDX-License-Identifier: MIT */
/*
 * cli.c - the segget command: options in, one download, an exit status out.
 *
 * A thin layer over the public API: it parses arguments, wires the
 * progress display and signals to a download, and maps sg_code to the exit
 * statuses documented in --help and README.md.  SIGINT/SIGTERM ask the
 * download to checkpoint and stop (exit 11, resumable); a second signal
 * kills at once, which is just as safe, only slower to resume.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <segget.h>

#include "events.h"
#include "keys.h"
#include "progress.h"

enum {
    OPT_MIN_SPLIT = 256,
    OPT_MAX_TRIES,
    OPT_CONNECT_TIMEOUT,
    OPT_STALL_TIMEOUT,
    OPT_FAIL_IF_CHANGED,
    OPT_CHECKSUM,
    OPT_MAX_PER_HOST,
    OPT_SHARD,
    OPT_NETRC,
    OPT_JSON,
    OPT_LIMIT_RATE,
    OPT_RANGE,
};

static const char usage_text[] =
    "Usage: segget [options] URL [MIRROR...]\n"
    "       segget [options] -i FILE\n"
    "Download URL over several connections into a preallocated file; rerun\n"
    "the same command after an interruption to fetch only what is missing.\n"
    "MIRRORs are other URLs of the same file (same size and ETag or\n"
    "Last-Modified, or they are left out): connections are spread over all,\n"
    "and the faster servers take more.\n"
    "\n"
    "  -n, --connections N    parallel connections, 1-64 (default 8)\n"
    "  -o, --output FILE      save as FILE (default: name from the URL)\n"
    "  -P, --dir DIR          save into DIR (must exist)\n"
    "  -J, --content-disposition  without -o, use the name the server\n"
    "                         proposes, stripped of any directory\n"
    "  -f, --force            replace an existing file; discard a stray\n"
    "                         .part or a damaged or foreign journal\n"
    "  -q, --quiet            no progress or notices, errors only\n"
    "      --json             events as JSON lines on standard output\n"
    "                         (schema in README.md) instead of progress\n"
    "      --min-split SIZE   smallest range per connection (default 1M)\n"
    "      --max-tries N      tries per range before giving up (default 5)\n"
    "      --connect-timeout S  seconds to connect (default 30)\n"
    "      --stall-timeout S  retry a connection slower than 1 KiB/s for S\n"
    "                         seconds (default 30)\n"
    "      --fail-if-changed  if the remote file changed since a partial\n"
    "                         download, stop (exit 5) instead of restarting\n"
    "      --checksum ALGO=HEX  sha256=HEX or sha512=HEX: the file must\n"
    "                         match it before it gets its name (exit 10)\n"
    "  -k, --insecure         do not verify TLS certificates\n"
    "  -A, -U, --user-agent UA  User-Agent header\n"
    "  -H, --header 'N: V'    an extra request header (repeatable); never\n"
    "                         sent to another host after a redirect\n"
    "  -u, --user USER:PASS   HTTP authentication for the URL's own host\n"
    "      --netrc            take credentials from ~/.netrc when it has them\n"
    "  -x, --proxy URL        use this proxy (default: the http_proxy,\n"
    "                         https_proxy, all_proxy and no_proxy variables)\n"
    "      --limit-rate SIZE  at most SIZE bytes per second in all (K, M, G;\n"
    "                         at least 4K)\n"
    "      --range A-B        only bytes A to B of the resource (also A-, to\n"
    "                         the end, and -N, the last N bytes)\n"

    "  -i, --input-file FILE  download every URL listed in FILE ('-' reads\n"
    "                         standard input); see Queue files below\n"
    "  -j, --jobs N           with -i: files at once, 1-256 (default 4)\n"
    "      --max-per-host N   with -i: connections to one host at once\n"
    "                         (default 16)\n"
    "  -N, --refresh          with -i: revalidate finished files and fetch\n"
    "                         only those that changed\n"
    "      --shard I/K        with -i: take only part I of K (1 <= I <= K)\n"
    "                         of the queue, split by a hash of each URL\n"
    "  -h, --help             this text\n"
    "  -V, --version          version\n"
    "\n"
    "While downloading, NAME.part holds the data and NAME.segget the\n"
    "journal; NAME appears only after the data is verified.\n"
    "\n"
    "Queue files: one URL per line; blank lines and # comments are ignored.\n"
    "Indented lines under a URL set its options: out=NAME (a relative path\n"
    "in the -P directory), checksum=sha256:HEX (or sha512), n=N.  The queue's\n"
    "state is kept in DIR/.segget-queue (.segget-queue-IofK with --shard):\n"
    "rerun the same command to skip finished files and resume the rest.\n"
    "With -i the exit status is that of the first failed entry.\n"
    "\n";

/* The rest of --help: C compilers need to accept string literals of
 * only 4095 bytes. */
static const char usage_exit[] =
    "Exit status:\n"
    "   0 the file is complete and verified\n"
    "   1 usage: bad option, URL or directory\n"
    "   2 network failure, retries exhausted\n"
    "   3 the server answered with an HTTP error status\n"
    "   4 the server violated the protocol (bad Content-Range, ...)\n"
    "   5 the remote file changed (see --fail-if-changed)\n"
    "   6 local I/O error (disk full, fdatasync failed) or out of memory\n"
    "   7 the journal is damaged or belongs to another download\n"
    "   8 TLS failure\n"
    "   9 refused as unsafe (file exists, symlink, in use by another "
    "segget)\n"
    "  10 checksum mismatch\n"
    "  11 interrupted; rerun the same command to resume\n";

static int exit_status(sg_code rc)
{
    switch (rc) {
    case SG_OK: return 0;
    case SG_EUSAGE: return 1;
    case SG_ENETWORK: return 2;
    case SG_EHTTP: return 3;
    case SG_EPROTO: return 4;
    case SG_ECHANGED: return 5;
    case SG_EIO: return 6;
    case SG_ENOMEM: return 6;
    case SG_EJOURNAL: return 7;
    case SG_ETLS: return 8;
    case SG_EUNSAFE: return 9;
    case SG_ECHECKSUM: return 10;
    case SG_EINTERRUPTED: return 11;
    }
    return 2;
}

static sg_download *running;
static sg_batch *running_batch;

static volatile sig_atomic_t stop_asked; /* SIGTSTP: pause, then stop */

static void on_signal(int sig)
{
    (void)sig;
    keys_restore(); /* a second signal kills: leave the terminal sane */
    if (running)
        sg_download_cancel(running);
    if (running_batch)
        sg_batch_cancel(running_batch);
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = (int)SA_RESETHAND; /* a second signal kills */
    sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGINT, &sa, NULL);
    (void)sigaction(SIGTERM, &sa, NULL);
    (void)signal(SIGPIPE, SIG_IGN);
    /* A file size limit must be an error (EFBIG), not a kill. */
    (void)signal(SIGXFSZ, SIG_IGN);
}

static void on_tstp(int sig)
{
    (void)sig;
    stop_asked = 1;
    if (running)
        sg_download_pause(running, 1);
}

/* SIGTSTP (Ctrl-Z) pauses the download first, so the stop costs nothing
 * to the servers: see suspend(). */
static void catch_tstp(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_tstp;
    sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGTSTP, &sa, NULL);
}

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "segget: %s%s%s\nTry 'segget --help'.\n", what,
            arg ? " " : "", arg ? arg : "");
    return 1;
}

/* Parse an integer in [lo, hi]; returns 0 or -1. */
static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Parse a size with an optional K, M or G suffix (powers of 1024). */
static int parse_size(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || v < 1)
        return -1;
    int shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10;
    else if (*end == 'M' || *end == 'm')
        shift = 20;
    else if (*end == 'G' || *end == 'g')
        shift = 30;
    if (shift)
        end++;
    if (*end || v > (LLONG_MAX >> shift))
        return -1;
    *out = (int64_t)v << shift;
    return 0;
}

struct cli {
    progress_view view;
    events ev;
    keys keys;
    sg_download *dl;
    int json;
    double start;
    int64_t total;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Paused after SIGTSTP: give the terminal back, stop for real, and on
 * SIGCONT take it again and continue. */
static void suspend(struct cli *c)
{
    int64_t limit = c->keys.limit;
    keys_stop(&c->keys);
    progress_notice("paused and stopped; 'fg' or SIGCONT continues",
                    &c->view);
    (void)signal(SIGTSTP, SIG_DFL);
    (void)raise(SIGTSTP);
    /* Here again after SIGCONT. */
    catch_tstp();
    stop_asked = 0;
    if (!c->json)
        keys_start(&c->keys, limit);
    sg_download_pause(c->dl, 0);
    progress_notice("continuing", &c->view);
}

static void on_progress(const sg_progress *p, void *ud)
{
    struct cli *c = ud;
    if (p->total >= 0)
        c->total = p->total;
    if (stop_asked && p->state == SG_STATE_PAUSED)
        suspend(c);
    const char *m = keys_poll(&c->keys, c->dl, p);
    if (m)
        progress_notice(m, &c->view);
    if (c->json)
        events_progress(p, &c->ev);
    else
        progress_update(p, &c->view);
}

static void on_notice(const char *msg, void *ud)
{
    struct cli *c = ud;
    if (c->json)
        events_notice(msg, &c->ev);
    else
        progress_notice(msg, &c->view);
}

/* The whole of a queue file ("-": standard input), NUL-terminated. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;
    if (!f)
        return NULL;
    for (;;) {
        if (cap - n < 65536) {
            char *nb = realloc(buf, cap ? cap * 2 : 65536);
            if (!nb) {
                free(buf);
                buf = NULL;
                errno = ENOMEM;
                break;
            }
            buf = nb;
            cap = cap ? cap * 2 : 65536;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                free(buf);
                buf = NULL;
            }
            break;
        }
    }
    if (buf)
        buf[n] = '\0';
    *len = n;
    if (f != stdin)
        fclose(f);
    return buf;
}

struct failure {
    int line;
    char *msg;
};

struct batch_cli {
    progress_view view;
    events ev;
    int json;
    struct failure *failed;
    int nfailed;
};

static void on_batch_event(const sg_batch_event *ev, void *ud)
{
    struct batch_cli *c = ud;
    if (c->json)
        events_file(ev, &c->ev);
    else
        progress_event(ev, &c->view);
    if (ev->state != SG_ENTRY_FAILED)
        return;
    struct failure *v = realloc(c->failed, (size_t)(c->nfailed + 1) * sizeof *v);
    if (!v)
        return;
    c->failed = v;
    v[c->nfailed].line = ev->line;
    v[c->nfailed].msg = strdup(ev->error);
    c->nfailed++;
}

static void on_batch_status(const sg_batch_status *st, void *ud)
{
    struct batch_cli *c = ud;
    if (c->json)
        events_batch(st, &c->ev);
    else
        progress_batch(st, &c->view);
}

static void on_batch_notice(const char *msg, void *ud)
{
    struct batch_cli *c = ud;
    if (c->json)
        events_notice(msg, &c->ev);
    else
        progress_notice(msg, &c->view);
}

static int run_batch(const char *file, sg_batch_options *bo, int quiet,
                     int json)
{
    size_t len = 0;
    char *text = slurp(file, &len);
    if (!text) {
        fprintf(stderr, "segget: cannot read %s: %s\n",
                strcmp(file, "-") == 0 ? "standard input" : file,
                strerror(errno));
        return 1;
    }
    struct batch_cli c = {0};
    progress_init(&c.view, stderr, quiet || json);
    events_init(&c.ev, stdout);
    c.json = json;
    bo->event = on_batch_event;
    bo->status = on_batch_status;
    bo->dl.notice = on_batch_notice;
    bo->dl.userdata = &c;
    sg_batch *b = NULL;
    sg_code rc = sg_batch_new(&b, text, len, bo);
    free(text);
    if (rc == SG_OK) {
        running_batch = b;
        catch_signals();
        rc = sg_batch_run(b);
        running_batch = NULL;
    }
    progress_end(&c.view);
    const char *msg = b ? sg_batch_error(b) : "";
    if (rc != SG_OK && msg[0]) {
        fprintf(stderr, "segget: %s\n", msg);
        if (rc == SG_EUSAGE)
            fprintf(stderr, "Try 'segget --help'.\n");
    }
    if (b && json) {
        sg_batch_status st;
        sg_batch_counts(b, &st);
        events_batch_end(&c.ev, &st, exit_status(rc), msg);
    } else if (json) {
        events_end(&c.ev, NULL, exit_status(rc), sg_strerror(rc), 0, 0);
    }
    if (b && (rc == SG_OK || !msg[0] || c.nfailed)) {
        sg_batch_status st;
        sg_batch_counts(b, &st);
        char size[32], rate[32];
        progress_bytes(size, sizeof size, (double)st.bytes);
        progress_bytes(rate, sizeof rate,
                       st.elapsed > 0 ? (double)st.bytes / st.elapsed : 0);
        if ((!quiet && !json) || c.nfailed)
            fprintf(stderr,
                    "segget: %d done, %d skipped, %d failed of %d; %s in "
                    "%.1f s (%s/s)\n",
                    st.done, st.skipped, st.failed, st.total, size,
                    st.elapsed, rate);
        for (int i = 0; i < c.nfailed; i++)
            fprintf(stderr, "segget: failed: line %d: %s\n",
                    c.failed[i].line, c.failed[i].msg ? c.failed[i].msg : "");
    }
    for (int i = 0; i < c.nfailed; i++)
        free(c.failed[i].msg);
    free(c.failed);
    sg_batch_free(b);
    return exit_status(rc);
}

int main(int argc, char **argv)
{
    static const struct option longs[] = {
        {"connections", required_argument, NULL, 'n'},
        {"output", required_argument, NULL, 'o'},
        {"dir", required_argument, NULL, 'P'},
        {"content-disposition", no_argument, NULL, 'J'},
        {"force", no_argument, NULL, 'f'},
        {"quiet", no_argument, NULL, 'q'},
        {"insecure", no_argument, NULL, 'k'},
        {"user-agent", required_argument, NULL, 'A'},
        {"header", required_argument, NULL, 'H'},
        {"min-split", required_argument, NULL, OPT_MIN_SPLIT},
        {"max-tries", required_argument, NULL, OPT_MAX_TRIES},
        {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
        {"stall-timeout", required_argument, NULL, OPT_STALL_TIMEOUT},
        {"fail-if-changed", no_argument, NULL, OPT_FAIL_IF_CHANGED},
        {"checksum", required_argument, NULL, OPT_CHECKSUM},
        {"input-file", required_argument, NULL, 'i'},
        {"jobs", required_argument, NULL, 'j'},
        {"max-per-host", required_argument, NULL, OPT_MAX_PER_HOST},
        {"refresh", no_argument, NULL, 'N'},
        {"shard", required_argument, NULL, OPT_SHARD},
        {"user", required_argument, NULL, 'u'},
        {"netrc", no_argument, NULL, OPT_NETRC},
        {"json", no_argument, NULL, OPT_JSON},
        {"limit-rate", required_argument, NULL, OPT_LIMIT_RATE},
        {"range", required_argument, NULL, OPT_RANGE},
        {"proxy", required_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    sg_batch_options bo;
    sg_batch_options_init(&bo);
    sg_options o;
    sg_options_init(&o);
    const char *input = NULL;
    int quiet = 0, c, nhdrs = 0, batch_only = 0, json = 0;
    const char *hdrs[64];
    long v;
    while ((c = getopt_long(argc, argv, "n:o:P:JfqkA:U:H:i:j:Nu:x:hV", longs, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (parse_long(optarg, 1, 64, &v) < 0)
                return usage_error("-n takes a number from 1 to 64, not", optarg);
            o.connections = (int)v;
            break;
        case 'o': o.output = optarg; break;
        case 'P': o.dir = optarg; break;
        case 'J': o.content_disposition = 1; break;
        case 'f': o.force = 1; break;
        case 'q': quiet = 1; break;
        case 'k': o.insecure = 1; break;
        case 'A':
        case 'U': o.user_agent = optarg; break;
        case 'H':
            if (nhdrs == 64)
                return usage_error("at most 64 headers", NULL);
            hdrs[nhdrs++] = optarg;
            break;
        case OPT_MIN_SPLIT:
            if (parse_size(optarg, &o.min_split) < 0)
                return usage_error("bad --min-split", optarg);
            break;
        case OPT_MAX_TRIES:
            if (parse_long(optarg, 1, 1000, &v) < 0)
                return usage_error("bad --max-tries", optarg);
            o.max_tries = (int)v;
            break;
        case OPT_CONNECT_TIMEOUT:
            if (parse_long(optarg, 1, 3600, &v) < 0)
                return usage_error("bad --connect-timeout", optarg);
            o.connect_timeout_ms = v * 1000;
            break;
        case OPT_STALL_TIMEOUT:
            if (parse_long(optarg, 1, 3600, &v) < 0)
                return usage_error("bad --stall-timeout", optarg);
            o.stall_timeout_ms = v * 1000;
            break;
        case OPT_FAIL_IF_CHANGED: o.on_change = SG_CHANGE_FAIL; break;
        case OPT_CHECKSUM: o.checksum = optarg; break;
        case 'i': input = optarg; break;
        case 'u': o.userpwd = optarg; break;
        case OPT_NETRC: o.netrc = 1; break;
        case OPT_JSON: json = 1; break;
        case OPT_RANGE: o.range = optarg; break;
        case OPT_LIMIT_RATE:
            if (parse_size(optarg, &o.max_rate) < 0 || o.max_rate < 4096)
                return usage_error("--limit-rate takes a size of at least "
                                   "4K, not",
                                   optarg);
            break;
        case 'x': o.proxy = optarg; break;
        case 'j':
            if (parse_long(optarg, 1, 256, &v) < 0)
                return usage_error("-j takes a number from 1 to 256, not",
                                   optarg);
            bo.jobs = (int)v;
            batch_only = 1;
            break;
        case OPT_MAX_PER_HOST:
            if (parse_long(optarg, 1, 256, &v) < 0)
                return usage_error("--max-per-host takes 1 to 256, not",
                                   optarg);
            bo.max_per_host = (int)v;
            batch_only = 1;
            break;
        case 'N': bo.refresh = 1; batch_only = 1; break;
        case OPT_SHARD: {
            int i, k, end = 0;
            if (sscanf(optarg, "%d/%d%n", &i, &k, &end) != 2 ||
                optarg[end] || k < 1 || i < 1 || i > k)
                return usage_error("--shard takes I/K with 1 <= I <= K, not",
                                   optarg);
            bo.shard_index = i;
            bo.shard_count = k;
            batch_only = 1;
            break;
        }
        case 'h':
            fputs(usage_text, stdout);
            fputs(usage_exit, stdout);
            return 0;
        case 'V': printf("segget %s\n", sg_version()); return 0;
        default: fprintf(stderr, "Try 'segget --help'.\n"); return 1;
        }
    }
    o.headers = hdrs;
    o.nheaders = nhdrs;
    if (input) {
        if (optind != argc)
            return usage_error("URLs go either on the command line or in "
                               "the -i file, not both",
                               NULL);
        bo.dl = o;
        if (sg_global_init() != SG_OK) {
            fprintf(stderr, "segget: cannot initialise libcurl\n");
            return 6;
        }
        int st = run_batch(input, &bo, quiet, json);
        sg_global_cleanup();
        return st;
    }
    if (batch_only)
        return usage_error("-j, -N, --max-per-host and --shard need -i", NULL);
    if (optind >= argc)
        return usage_error("no URL given", NULL);
    o.mirrors = (const char *const *)argv + optind + 1;
    o.nmirrors = argc - optind - 1;

    struct cli cl = {.total = -1, .json = json};
    progress_init(&cl.view, stderr, quiet || json);
    events_init(&cl.ev, stdout);
    o.progress = on_progress;
    o.notice = on_notice;
    o.userdata = &cl;

    if (sg_global_init() != SG_OK) {
        fprintf(stderr, "segget: cannot initialise libcurl\n");
        return 6;
    }
    sg_download *dl = NULL;
    sg_code rc = sg_download_new(&dl, argv[optind], &o);
    if (rc == SG_OK) {
        running = dl;
        cl.dl = dl;
        catch_signals();
        catch_tstp();
        if (!json)
            keys_start(&cl.keys, o.max_rate);
        cl.start = now_s();
        rc = sg_download_run(dl);
        running = NULL;
        keys_stop(&cl.keys);
    }
    progress_end(&cl.view);
    if (json) {
        const char *msg = dl ? sg_download_error(dl) : "";
        events_end(&cl.ev, dl ? sg_download_path(dl) : NULL, exit_status(rc),
                   msg[0] ? msg : sg_strerror(rc), now_s() - cl.start,
                   cl.total > 0 ? cl.total : 0);
        events_free(&cl.ev);
    }
    if (rc != SG_OK) {
        const char *msg = dl ? sg_download_error(dl) : "";
        fprintf(stderr, "segget: %s\n", msg[0] ? msg : sg_strerror(rc));
        if (rc == SG_EUSAGE)
            fprintf(stderr, "Try 'segget --help'.\n");
    } else if (!quiet && !json) {
        double secs = now_s() - cl.start;
        char size[32], rate[32];
        progress_bytes(size, sizeof size, (double)(cl.total > 0 ? cl.total : 0));
        progress_bytes(rate, sizeof rate,
                       secs > 0 && cl.total > 0 ? (double)cl.total / secs : 0);
        fprintf(stderr, "segget: saved %s (%s in %.1f s, %s/s)\n",
                sg_download_path(dl), size, secs, rate);
    }
    sg_download_free(dl);
    sg_global_cleanup();
    return exit_status(rc);
}
