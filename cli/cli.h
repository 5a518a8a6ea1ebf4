/* SPDX-License-Identifier: MIT */
/*
 * cli.h - what the files of the segget command share: its options, the
 * exit statuses, and the signal flags.  Uses only <segget.h>.
 */
#ifndef SG_CLI_H
#define SG_CLI_H

#include <signal.h>
#include <stddef.h>

#include <segget.h>

#define CLI_MAX_HEADERS 64

/* The command line, parsed. */
typedef struct cli_opts {
    sg_options o;         /* for a single download (and a batch's files) */
    sg_batch_options bo;  /* with -i */
    const char *input;    /* -i FILE, or NULL */
    const char *report;   /* --report FILE, or NULL */
    const char *url;      /* the URL of a single download */
    const char *const *mirrors;
    int nmirrors;
    int quiet, json;
    int verbose;          /* -v: the header lines both ways on stderr */
    const char *hdrs[CLI_MAX_HEADERS];
    char shard_said[256]; /* --shard auto: where the shard came from */
} cli_opts;

/* Is name (n bytes, without "--") a long option?  *takes: it takes a
 * value. */
int cli_long_option(const char *name, size_t n, int *takes);

/* The config file's options (config.c) go before the command line's:
 * *argc and *argv may be replaced (the new array lives until exit).
 * Returns -1 to go on, or an exit status after a message (a line of the
 * file that is not an option: 1). */
int cli_config(int *argc, char ***argv);

/* Parse argv into *c.  Returns -1 to go on, or an exit status (--help,
 * --version: 0; a usage error, already reported: 1). */
int cli_parse(int argc, char **argv, cli_opts *c);

/* After the error line of a single download: what the user can do about
 * rc, on stderr (usage: --help; refused or foreign journal: -f; TLS:
 * --cacert and -k), or nothing. */
void cli_hint(sg_code rc);

/* -v: a header line or libcurl's note (sg_notice_fn), on stderr. */
void cli_trace(const char *line, void *ud);

/* The exit status documented in --help for a result. */
int cli_exit_status(sg_code rc);

/* Set by the SIGINT/SIGTERM handler, which does nothing else but ask the
 * running download or batch to stop; the main thread restores the
 * terminal when it sees it. */
extern volatile sig_atomic_t cli_signalled;

/* Catch SIGINT and SIGTERM for dl or b (either may be NULL): the first
 * asks it to stop (exit 11), a second kills. */
void cli_catch_signals(sg_download *dl, sg_batch *b);

/* segget -i: run the batch of c.  Returns the exit status. */
int cli_batch(cli_opts *c);

#endif
