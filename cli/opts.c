/* SPDX-License-Identifier: MIT */
/*
 * opts.c - the command line of segget: options, --help, usage errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

enum {
    OPT_MIN_SPLIT = 256,
    OPT_MAX_TRIES,
    OPT_CONNECT_TIMEOUT,
    OPT_STALL_TIMEOUT,
    OPT_FAIL_IF_CHANGED,
    OPT_CHECKSUM,
    OPT_CHECKSUM_FILE,
    OPT_MAX_PER_HOST,
    OPT_SHARD,
    OPT_REPORT,
    OPT_NETRC,
    OPT_JSON,
    OPT_LIMIT_RATE,
    OPT_RANGE,
    OPT_BUFFER,
    OPT_NO_VERIFY,
    OPT_RETRY,
    OPT_CREATE_DIRS,
    OPT_LOAD_COOKIES,
    OPT_INTERFACE,
    OPT_CACERT,
    OPT_CAPATH,
    OPT_TIMEOUT,
    OPT_NO_CONFIG,
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
    "  -o, --output FILE      save as FILE (default: name from the URL);\n"
    "                         '-' writes the bytes to standard output in\n"
    "                         order, each once its response passed every\n"
    "                         check (not resumable)\n"
    "      --buffer SIZE      with -o -: memory for the connections working\n"
    "                         ahead of the output (default 64M)\n"
    "  -P, --dir DIR          save into DIR (made if missing)\n"
    "  -J, --content-disposition  without -o, use the name the server\n"
    "                         proposes, stripped of any directory\n"
    "  -f, --force            replace an existing file; discard a stray\n"
    "                         .part or a damaged or foreign journal\n"
    "  -c, --continue, -O, -L  accepted as curl and wget take them: segget\n"
    "                         always resumes, names the file from the URL\n"
    "                         and follows redirects\n"
    "      --create-dirs      make the missing directories of -o FILE\n"
    "  -q, -s, --quiet, --silent  no progress or notices, errors only\n"
    "  -v, --verbose          every request and response header line on\n"
    "                         stderr (credentials and cookies redacted)\n"
    "      --json             events as JSON lines on standard output\n"
    "                         (schema in README.md) instead of progress\n"
    "      --min-split SIZE   smallest range per connection (default 1M)\n"
    "      --max-tries N      tries per range before giving up (default 5)\n"
    "      --retry N          as curl: N tries more (--max-tries N+1)\n"
    "      --connect-timeout S  seconds to connect (default 30)\n"
    "      --stall-timeout S  retry a connection slower than 1 KiB/s for S\n"
    "                         seconds (default 30)\n"
    "      --timeout S        as wget: both timeouts above\n";

/* C compilers need to accept string literals of only 4095 bytes. */
static const char usage_more[] =
    "      --fail-if-changed  if the remote file changed since a partial\n"
    "                         download, stop (exit 5) instead of restarting\n"
    "      --checksum ALGO=HEX  md5, sha1, sha256, sha512, crc32, crc32c or\n"
    "                         crc64nvme: the file must match it before it\n"
    "                         gets its name (exit 10); without it, the\n"
    "                         strongest checksum the server declares\n"
    "                         (Repr-Digest, Digest, Content-MD5,\n"
    "                         x-amz-checksum-*, x-goog-hash) is checked\n"
    "      --no-verify        do not check the server's checksums\n"
    "      --checksum-file FILE  a checksum list (SHA256SUMS, MD5SUMS,\n"
    "                         Fedora's CHECKSUM): its entry for the file's\n"
    "                         name is the checksum; with -i, for every entry\n"
    "  -k, --insecure         do not verify TLS certificates\n"
    "      --cacert FILE      trust the CA certificates in FILE (PEM)\n"
    "                         instead of the system's (default:\n"
    "                         $CURL_CA_BUNDLE, else $SSL_CERT_FILE)\n"
    "      --capath DIR       the same from a hashed directory (default:\n"
    "                         $SSL_CERT_DIR)\n"
    "  -A, -U, --user-agent UA  User-Agent header\n"
    "  -H, --header 'N: V'    an extra request header (repeatable); never\n"
    "                         sent to another host after a redirect;\n"
    "                         -H @FILE takes one header per line of FILE\n"
    "  -e, --referer URL      send Referer: URL (to the URL's own host)\n"
    "  -b, --cookie DATA|FILE  'name=value; ...' for the URL's own host, or\n"
    "                         a Netscape cookie file (as --load-cookies)\n"
    "      --load-cookies FILE  a Netscape cookie file: each cookie goes\n"
    "                         where its domain and path match\n"
    "  -u, --user USER:PASS   HTTP authentication for the URL's own host\n"
    "      --netrc            take credentials from ~/.netrc when it has them\n"
    "  -x, --proxy URL        use this proxy (default: the http_proxy,\n"
    "                         https_proxy, all_proxy and no_proxy variables)\n"
    "  -4, -6                 connect over IPv4 only (IPv6 only)\n"
    "      --interface NAME   connect from this interface or address\n"
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
    "                         of the queue, split by a hash of each URL;\n"
    "                         auto: the part a Slurm job array or srun gives\n"
    "      --report FILE      with -i: write the batch's last JSON event\n"
    "                         (counts, bytes, shard, failures) to FILE\n"
    "      --no-config        do not read ~/.config/segget/config (or\n"
    "                         $XDG_CONFIG_HOME/segget/config): one long\n"
    "                         option per line, before the command line's\n"
    "  -h, --help             this text\n"
    "  -V, --version          version\n"
    "\n";

/* C compilers need to accept string literals of only 4095 bytes. */
static const char usage_notes[] =
    "While downloading, NAME.part holds the data and NAME.segget the\n"
    "journal; NAME appears only after the data is verified.  Run again,\n"
    "a command resumes (also from a new URL of the same file), or with\n"
    "one HEAD finds NAME already complete (exit 0) or changed (exit 5).\n"
    "\n"
    "Queue files: one URL per line; blank lines and # comments are ignored.\n"
    "Indented lines under a URL set its options: out=NAME (a relative path\n"
    "in the -P directory), checksum=ALGO:HEX (as --checksum), n=N.  The queue's\n"
    "state is kept in DIR/.segget-queue (.segget-queue-IofK with --shard):\n"
    "rerun the same command to skip finished files and resume the rest.\n"
    "With -i the exit status is that of the first failed entry.\n"
    "\n";

/* The rest of --help: C compilers need to accept string literals of
 * only 4095 bytes. */
static const char usage_exit[] =
    "Exit status:\n"
    "   0 the file is complete and verified (or already was)\n"
    "   1 usage: bad option, URL or directory\n"
    "   2 network failure, retries exhausted\n"
    "   3 the server answered with an HTTP error status\n"
    "   4 the server violated the protocol (bad Content-Range, ...)\n"
    "   5 the remote file changed (see --fail-if-changed), or changed\n"
    "     since the existing file was downloaded\n"
    "   6 local I/O error (disk full, fdatasync failed) or out of memory\n"
    "   7 the journal is damaged or belongs to another download\n"
    "   8 TLS failure\n"
    "   9 refused as unsafe (file exists, symlink, in use by another "
    "segget)\n"
    "  10 checksum mismatch\n"
    "  11 interrupted; rerun the same command to resume\n"
    "  12 with -o -: the output's reader went away before the end\n";

void cli_trace(const char *line, void *ud)
{
    (void)ud;
    fprintf(stderr, "%s\n", line);
}

void cli_hint(sg_code rc)
{
    switch (rc) {
    case SG_EUSAGE:
        fprintf(stderr, "Try 'segget --help'.\n");
        break;
    case SG_EUNSAFE:
    case SG_EJOURNAL:
        fprintf(stderr, "segget: -f (--force) forces it\n");
        break;
    case SG_ETLS:
        fprintf(stderr, "segget: to trust a private CA, pass --cacert FILE "
                        "(or set SSL_CERT_FILE); -k skips the check\n");
        break;
    default:
        break;
    }
}

int cli_exit_status(sg_code rc)
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
    case SG_EPIPE: return 12;
    case SG_EJOURNAL: return 7;
    case SG_ETLS: return 8;
    case SG_EUNSAFE: return 9;
    case SG_ECHECKSUM: return 10;
    case SG_EINTERRUPTED: return 11;
    }
    return 2;
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

/* The long options, also for the config file (config.c). */
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
    {"checksum-file", required_argument, NULL, OPT_CHECKSUM_FILE},
    {"input-file", required_argument, NULL, 'i'},
    {"jobs", required_argument, NULL, 'j'},
    {"max-per-host", required_argument, NULL, OPT_MAX_PER_HOST},
    {"refresh", no_argument, NULL, 'N'},
    {"shard", required_argument, NULL, OPT_SHARD},
    {"report", required_argument, NULL, OPT_REPORT},
    {"user", required_argument, NULL, 'u'},
    {"netrc", no_argument, NULL, OPT_NETRC},
    {"json", no_argument, NULL, OPT_JSON},
    {"limit-rate", required_argument, NULL, OPT_LIMIT_RATE},
    {"range", required_argument, NULL, OPT_RANGE},
    {"buffer", required_argument, NULL, OPT_BUFFER},
    {"continue", no_argument, NULL, 'c'},
    {"remote-name", no_argument, NULL, 'O'},
    {"location", no_argument, NULL, 'L'},
    {"silent", no_argument, NULL, 's'},
    {"verbose", no_argument, NULL, 'v'},
    {"retry", required_argument, NULL, OPT_RETRY},
    {"create-dirs", no_argument, NULL, OPT_CREATE_DIRS},
    {"referer", required_argument, NULL, 'e'},
    {"cookie", required_argument, NULL, 'b'},
    {"load-cookies", required_argument, NULL, OPT_LOAD_COOKIES},
    {"ipv4", no_argument, NULL, '4'},
    {"ipv6", no_argument, NULL, '6'},
    {"interface", required_argument, NULL, OPT_INTERFACE},
    {"cacert", required_argument, NULL, OPT_CACERT},
    {"capath", required_argument, NULL, OPT_CAPATH},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"no-config", no_argument, NULL, OPT_NO_CONFIG},
    {"no-verify", no_argument, NULL, OPT_NO_VERIFY},
    {"proxy", required_argument, NULL, 'x'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

int cli_long_option(const char *name, size_t n, int *takes)
{
    for (size_t i = 0; longs[i].name; i++)
        if (strlen(longs[i].name) == n && strncmp(longs[i].name, name, n) == 0) {
            *takes = longs[i].has_arg == required_argument;
            return 1;
        }
    return 0;
}

static int usage_error_hint(const char *what, const char *arg,
                            const char *hint)
{
    fprintf(stderr, "segget: %s %s; %s\nTry 'segget --help'.\n", what, arg,
            hint);
    return 1;
}

/* getopt's complaint about opt (0: the long option argv[optind - 1]),
 * in segget's words: it needs a value (missing), or is unknown. */
static const char *complaint(int missing, char **argv, int opt)
{
    static char m[200], name[160];
    if (opt)
        snprintf(name, sizeof name, "-%c", opt);
    else
        snprintf(name, sizeof name, "%.150s", argv[optind - 1]);
    if (missing)
        snprintf(m, sizeof m, "%s needs a value", name);
    else
        snprintf(m, sizeof m, "unknown option %s", name);
    return m;
}

/* "Name: value", kept for the whole run. */
static const char *header_line(const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 3;
    char *h = malloc(n);
    if (h)
        snprintf(h, n, "%s: %s", name, value);
    return h;
}

/* -H @FILE: one header per line (blank lines skipped, CR stripped).
 * Returns 0, or the exit status of the usage error it reported. */
static int header_file(const char *path, const char **hdrs, int *n)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        fprintf(stderr, "segget: -H @%s: %s\n", path, strerror(errno));
        return 1;
    }
    char line[8192];
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        char *h = strdup(line);
        if (*n == CLI_MAX_HEADERS || !h) {
            free(h);
            rc = usage_error("at most 64 headers", NULL);
            break;
        }
        hdrs[(*n)++] = h;
    }
    if (f != stdin)
        fclose(f);
    return rc;
}

int cli_parse(int argc, char **argv, cli_opts *cl)
{
    memset(cl, 0, sizeof *cl);
    sg_batch_options_init(&cl->bo);
    sg_options_init(&cl->o);
    sg_options *o = &cl->o;
    sg_batch_options *bo = &cl->bo;
    int c, nhdrs = 0, batch_only = 0, buffer = 0;
    long v;
    opterr = 0; /* its messages name the binary's path: ours say segget */
    while ((c = getopt_long(argc, argv, ":n:o:P:JfqkA:U:H:i:j:Nu:x:hVcOLsve:b:46",
                            longs, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (parse_long(optarg, 1, 64, &v) < 0)
                return usage_error("-n takes a number from 1 to 64, not", optarg);
            o->connections = (int)v;
            break;
        case 'o': o->output = optarg; break;
        case 'P': o->dir = optarg; break;
        case 'J': o->content_disposition = 1; break;
        case 'f': o->force = 1; break;
        case 'q':
        case 's': cl->quiet = 1; break;
        case 'c':
        case 'O':
        case 'L': break; /* what segget does anyway */
        case 'v': cl->verbose = 1; break;
        case OPT_NO_CONFIG: break; /* seen by cli_config */
        case OPT_RETRY:
            if (parse_long(optarg, 0, 999, &v) < 0)
                return usage_error("--retry takes a number from 0 to 999, "
                                   "not",
                                   optarg);
            o->max_tries = (int)v + 1;
            break;
        case OPT_CREATE_DIRS: o->create_dirs = 1; break;
        case 'e':
        case 'b':
            if (c == 'b' && !strchr(optarg, '=')) {
                o->cookie_file = optarg; /* curl's rule: no '=', a file */
                break;
            }
            if (nhdrs == CLI_MAX_HEADERS)
                return usage_error("at most 64 headers", NULL);
            if (!(cl->hdrs[nhdrs++] = header_line(c == 'e' ? "Referer"
                                                           : "Cookie",
                                                  optarg)))
                return usage_error("out of memory", NULL);
            break;
        case OPT_LOAD_COOKIES: o->cookie_file = optarg; break;
        case '4': o->ip_version = 4; break;
        case '6': o->ip_version = 6; break;
        case OPT_INTERFACE: o->interface = optarg; break;
        case OPT_CACERT: o->cacert = optarg; break;
        case OPT_CAPATH: o->capath = optarg; break;
        case OPT_TIMEOUT:
            if (parse_long(optarg, 1, 3600, &v) < 0)
                return usage_error("bad --timeout", optarg);
            o->connect_timeout_ms = o->stall_timeout_ms = v * 1000;
            break;
        case 'k': o->insecure = 1; break;
        case 'A':
        case 'U': o->user_agent = optarg; break;
        case 'H':
            if (optarg[0] == '@') {
                int r = header_file(optarg + 1, cl->hdrs, &nhdrs);
                if (r)
                    return r;
                break;
            }
            if (nhdrs == CLI_MAX_HEADERS)
                return usage_error("at most 64 headers", NULL);
            cl->hdrs[nhdrs++] = optarg;
            break;
        case OPT_MIN_SPLIT:
            if (parse_size(optarg, &o->min_split) < 0)
                return usage_error("bad --min-split", optarg);
            break;
        case OPT_MAX_TRIES:
            if (parse_long(optarg, 1, 1000, &v) < 0)
                return usage_error("bad --max-tries", optarg);
            o->max_tries = (int)v;
            break;
        case OPT_CONNECT_TIMEOUT:
            if (parse_long(optarg, 1, 3600, &v) < 0)
                return usage_error("bad --connect-timeout", optarg);
            o->connect_timeout_ms = v * 1000;
            break;
        case OPT_STALL_TIMEOUT:
            if (parse_long(optarg, 1, 3600, &v) < 0)
                return usage_error("bad --stall-timeout", optarg);
            o->stall_timeout_ms = v * 1000;
            break;
        case OPT_FAIL_IF_CHANGED: o->on_change = SG_CHANGE_FAIL; break;
        case OPT_CHECKSUM: o->checksum = optarg; break;
        case OPT_CHECKSUM_FILE: o->checksum_file = optarg; break;
        case 'i': cl->input = optarg; break;
        case 'u': o->userpwd = optarg; break;
        case OPT_NETRC: o->netrc = 1; break;
        case OPT_JSON: cl->json = 1; break;
        case OPT_RANGE: o->range = optarg; break;
        case OPT_NO_VERIFY: o->no_verify = 1; break;
        case OPT_BUFFER:
            if (parse_size(optarg, &o->buffer) < 0 ||
                o->buffer < (1 << 20) || o->buffer > (INT64_C(16) << 30))
                return usage_error("--buffer takes a size from 1M to 16G, "
                                   "not",
                                   optarg);
            buffer = 1;
            break;
        case OPT_LIMIT_RATE:
            if (parse_size(optarg, &o->max_rate) < 0 || o->max_rate < 4096)
                return usage_error("--limit-rate takes a size of at least "
                                   "4K, not",
                                   optarg);
            break;
        case 'x':
            if (optarg[strspn(optarg, "0123456789")] == '\0')
                return usage_error_hint(
                    "-x takes a proxy URL, not", optarg,
                    "for that many connections (aria2c's -x) use -n");
            o->proxy = optarg;
            break;
        case 'j':
            if (parse_long(optarg, 1, 256, &v) < 0)
                return usage_error("-j takes a number from 1 to 256, not",
                                   optarg);
            bo->jobs = (int)v;
            batch_only = 1;
            break;
        case OPT_MAX_PER_HOST:
            if (parse_long(optarg, 1, 256, &v) < 0)
                return usage_error("--max-per-host takes 1 to 256, not",
                                   optarg);
            bo->max_per_host = (int)v;
            batch_only = 1;
            break;
        case 'N': bo->refresh = 1; batch_only = 1; break;
        case OPT_REPORT:
            cl->report = optarg;
            batch_only = 1;
            break;
        case OPT_SHARD: {
            int i, k, end = 0;
            if (strcmp(optarg, "auto") == 0) {
                if (sg_batch_shard_auto(&i, &k, cl->shard_said,
                                        sizeof cl->shard_said) < 0) {
                    fprintf(stderr, "segget: %s\n", cl->shard_said);
                    return 1;
                }
            } else if (sscanf(optarg, "%d/%d%n", &i, &k, &end) != 2 ||
                optarg[end] || k < 1 || i < 1 || i > k)
                return usage_error("--shard takes I/K with 1 <= I <= K, not",
                                   optarg);
            bo->shard_index = i;
            bo->shard_count = k;
            batch_only = 1;
            break;
        }
        case 'h':
            fputs(usage_text, stdout);
            fputs(usage_more, stdout);
            fputs(usage_notes, stdout);
            fputs(usage_exit, stdout);
            return 0;
        case 'V':
            printf("segget %s\n%s\n", sg_version(), sg_version_details());
            return 0;
        case ':':
            return usage_error(complaint(1, argv, optopt),
                               NULL);
        default:
            return usage_error(complaint(0, argv, optopt),
                               NULL);
        }
    }
    o->headers = cl->hdrs;
    o->nheaders = nhdrs;
    /* As curl does: a CA bundle from the environment when none is
     * given. */
    if (!o->cacert && !o->capath) {
        const char *f = getenv("CURL_CA_BUNDLE");
        o->cacert = f && f[0] ? f : getenv("SSL_CERT_FILE");
        o->capath = getenv("SSL_CERT_DIR");
        if (o->cacert && !o->cacert[0])
            o->cacert = NULL;
        if (o->capath && !o->capath[0])
            o->capath = NULL;
    }
    if (cl->input) {
        if (optind != argc)
            return usage_error("URLs go either on the command line or in "
                               "the -i file, not both",
                               NULL);
        return -1;
    }
    if (batch_only)
        return usage_error("-j, -N, --max-per-host, --shard and --report need -i", NULL);
    if (o->output && strcmp(o->output, "-") == 0) {
        if (cl->json)
            return usage_error("--json writes to standard output, which -o - "
                               "gives to the data",
                               NULL);
        if (o->dir || o->content_disposition)
            return usage_error("-o - writes no file: -P and -J do not apply",
                               NULL);
        if (fcntl(STDOUT_FILENO, F_GETFD) < 0)
            return usage_error("-o - writes to standard output, which is "
                               "closed",
                               NULL);
        if (isatty(STDOUT_FILENO))
            return usage_error("-o - would write the file to the terminal; "
                               "pipe it into a program or redirect it",
                               NULL);
        o->output = NULL;
        o->output_fd = STDOUT_FILENO;
    } else if (buffer) {
        return usage_error("--buffer goes with -o -", NULL);
    }
    if (optind >= argc)
        return usage_error("no URL given", NULL);
    cl->url = argv[optind];
    cl->mirrors = (const char *const *)argv + optind + 1;
    cl->nmirrors = argc - optind - 1;
    return -1;
}
