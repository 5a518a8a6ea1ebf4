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

#include "progress.h"

enum {
    OPT_MIN_SPLIT = 256,
    OPT_MAX_TRIES,
    OPT_CONNECT_TIMEOUT,
    OPT_STALL_TIMEOUT,
    OPT_FAIL_IF_CHANGED,
    OPT_CHECKSUM,
};

static const char usage_text[] =
    "Usage: segget [options] URL\n"
    "Download URL over several connections into a preallocated file; rerun\n"
    "the same command after an interruption to fetch only what is missing.\n"
    "\n"
    "  -n, --connections N    parallel connections, 1-64 (default 8)\n"
    "  -o, --output FILE      save as FILE (default: name from the URL)\n"
    "  -P, --dir DIR          save into DIR (must exist)\n"
    "  -J, --content-disposition  without -o, use the name the server\n"
    "                         proposes, stripped of any directory\n"
    "  -f, --force            replace an existing file; discard a stray\n"
    "                         .part or a damaged or foreign journal\n"
    "  -q, --quiet            no progress or notices, errors only\n"
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
    "  -h, --help             this text\n"
    "  -V, --version          version\n"
    "\n"
    "While downloading, NAME.part holds the data and NAME.segget the\n"
    "journal; NAME appears only after the data is verified.\n"
    "\n"
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

static void on_signal(int sig)
{
    (void)sig;
    if (running)
        sg_download_cancel(running);
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
    double start;
    int64_t total;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_progress(const sg_progress *p, void *ud)
{
    struct cli *c = ud;
    if (p->total >= 0)
        c->total = p->total;
    progress_update(p, &c->view);
}

static void on_notice(const char *msg, void *ud)
{
    struct cli *c = ud;
    progress_notice(msg, &c->view);
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
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    sg_options o;
    sg_options_init(&o);
    int quiet = 0, c, nhdrs = 0;
    const char *hdrs[64];
    long v;
    while ((c = getopt_long(argc, argv, "n:o:P:JfqkA:U:H:hV", longs, NULL)) != -1) {
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
        case 'h': fputs(usage_text, stdout); return 0;
        case 'V': printf("segget %s\n", sg_version()); return 0;
        default: fprintf(stderr, "Try 'segget --help'.\n"); return 1;
        }
    }
    if (optind != argc - 1)
        return usage_error(optind >= argc ? "no URL given"
                                           : "exactly one URL, please",
                           NULL);

    o.headers = hdrs;
    o.nheaders = nhdrs;
    struct cli cl = {.total = -1};
    progress_init(&cl.view, stderr, quiet);
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
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sa.sa_flags = (int)SA_RESETHAND; /* a second signal kills */
        sigemptyset(&sa.sa_mask);
        running = dl;
        (void)sigaction(SIGINT, &sa, NULL);
        (void)sigaction(SIGTERM, &sa, NULL);
        (void)signal(SIGPIPE, SIG_IGN);
        /* A file size limit must be an error (EFBIG), not a kill. */
        (void)signal(SIGXFSZ, SIG_IGN);
        cl.start = now_s();
        rc = sg_download_run(dl);
        running = NULL;
    }
    progress_end(&cl.view);
    if (rc != SG_OK) {
        const char *msg = dl ? sg_download_error(dl) : "";
        fprintf(stderr, "segget: %s\n", msg[0] ? msg : sg_strerror(rc));
        if (rc == SG_EUSAGE)
            fprintf(stderr, "Try 'segget --help'.\n");
    } else if (!quiet) {
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
