/* SPDX-License-Identifier: MIT */
/*
 * harness.h - what the integration tests share: a real nginx on 127.0.0.1,
 * generated files, and segget run as a child process.
 *
 * The test binds a listening socket on 127.0.0.1:0 itself and hands it to
 * nginx through nginx's NGINX environment variable (the inherited-socket
 * mechanism of binary upgrades).  The port is therefore known and already
 * accepting before nginx starts: no port race, no readiness polling.  Each
 * server lives in its own temporary directory, removed by srv_stop().
 */
#ifndef SG_HARNESS_H
#define SG_HARNESS_H

#include <stdint.h>
#include <sys/types.h>

typedef struct srv {
    char root[128]; /* temp dir: www/, logs/, nginx.conf */
    char www[160];
    int port;
    pid_t pid;
} srv;

/* Start nginx serving s->www with extra directives inside server {}
 * (for example "limit_rate 8m;" or "max_ranges 0;"; the zone "perip" of
 * limit_conn, keyed by the client's address, is declared).  Fails the
 * test on error. */
void srv_start(srv *s, const char *server_conf);

/* Start the fault server (FAULTSRV_BIN) with the given options
 * (NULL-terminated), logging to the same place srv_bytes_sent() reads. */
void fsrv_start(srv *s, const char *const *args);

/* 1 when the file at path holds exactly size bytes of resource seed. */
int same_content(const char *path, uint64_t seed, int64_t size);

/* Start nginx as srv_start() does, but serving HTTPS with a fresh
 * self-signed certificate for 127.0.0.1 (made with the openssl command). */
void srv_start_tls(srv *s, const char *server_conf);

/* Start nginx as srv_start() does, listening on n more ports of
 * 127.0.0.1 as well (n <= 512), each a host of its own to a client:
 * ports[i] gets each. */
void srv_start_ports(srv *s, const char *server_conf, int n, int *ports);

/* Likewise with HTTP/2 offered (ALPN). */
void srv_start_h2(srv *s, const char *server_conf);

/* Distinct connections nginx logged for requests of protocol
 * ("HTTP/1.1", "HTTP/2.0"). */
int srv_connections(const srv *s, const char *protocol);

/* Pairs of requests that overlapped in time on one connection (HTTP/2
 * streams multiplexed together). */
int srv_overlaps(const srv *s);

/* "https://127.0.0.1:PORT/name" in a static buffer. */
const char *srv_url_tls(const srv *s, const char *name);

/* How the requests nginx logged for URIs that begin with prefix (NULL:
 * every request) used connections, leaving out the first skip of them to
 * begin (a batch file's first GET, say). */
typedef struct srv_use {
    int requests; /* how many */
    int conns;    /* distinct connections they came on */
    int proto;    /* how many spoke the protocol asked for */
    int overlaps; /* pairs of one of them and another request (for any
                     URI) that ran at once on one connection: HTTP/2
                     streams multiplexed together */
    double first, last; /* when the first began and the last ended (s,
                           the server's clock), 0 without requests */
} srv_use;
srv_use srv_usage(const srv *s, const char *prefix, const char *protocol,
                  int skip);

/* Stop the server (nginx or fault server) and remove its directory. */
void srv_stop(srv *s);

/* "http://127.0.0.1:PORT/name" in a static buffer. */
const char *srv_url(const srv *s, const char *name);

/* Create www/name with size pseudo-random bytes from seed; returns the
 * path in a static buffer. */
const char *srv_file(srv *s, const char *name, int64_t size, uint64_t seed);

/* Sum of body bytes nginx sent (from its access log) and the number of
 * logged requests with the given status (0: all). */
int64_t srv_bytes_sent(const srv *s);
int srv_requests(const srv *s, int status);

/* Body bytes nginx sent for uri ("/a.bin"), and in *requests how many
 * requests asked for it. */
int64_t srv_bytes_for(const srv *s, const char *uri, int *requests);

/* Empty the access log (nginx appends, so later lines land at the start). */
void srv_log_reset(const srv *s);

/* Body bytes the fault server sent over its slow connections. */
int64_t srv_slow_bytes(const srv *s);

/* A fresh temporary directory for downloads, in a static buffer;
 * tmp_cleanup() removes it with the run's stderr file. */
const char *tmp_dir(void);
void tmp_cleanup(void);

/* rm -rf */
void rm_tree(const char *path);

/* Run segget (SEGGET_BIN) with argv (NULL-terminated, without argv[0]) in
 * directory cwd; stderr goes to cwd/../stderr.txt unless capture is NULL.
 * Returns the exit status (128+signal if killed); fails the test after
 * timeout_s seconds. */
int run_segget(const char *cwd, const char *const *argv, int timeout_s);

/* The peak resident set of the last child wait_child reaped, in KiB. */
long last_peak_rss_kb(void);

/* Extra environment for the next spawned segget ("NAME=value", NULL to
 * clear); at most four entries; "SG_TEST_RLIMIT_FSIZE=N" and
 * "SG_TEST_RLIMIT_NOFILE=SOFT:HARD" set those limits on the child
 * instead. */
void segget_env(const char *kv);

/* Run the next segget processes under the LD_PRELOAD shim (FAILSYNC_SO)
 * in the given SG_SHIM mode ("sync", "full:N", "order"); segget_env(NULL)
 * ends it.  The mode string must outlive those runs. */
void segget_shim(const char *mode_env);

/* Standard input of the next spawned seggets: the file at path (NULL:
 * /dev/null again).  The string must outlive those runs. */
void segget_stdin(const char *path);

/* Standard output of the next spawned seggets: the file at path
 * (truncated), or /dev/null again with NULL.  When such a segget runs
 * with --json, wait_child() and wait_child_ms() check its events with
 * events_check() as they reap it. */
void segget_stdout(const char *path);

/* Check the --json events in the file at path against
 * doc/segget-events.schema.json (tests/validate-events, python3's
 * jsonschema): every line one valid event and, with exit_status >= 0
 * (the status segget exited with), the last and only finish or error
 * event saying that status.  Fails the test (and goes on) otherwise. */
void events_check(const char *path, int exit_status);

/* With on, the next spawned seggets lead their own process group (one
 * that job-control stops apply to: it is not orphaned). */
void segget_own_pgrp(int on);

/* Start segget without waiting; returns its pid. */
pid_t spawn_segget(const char *cwd, const char *const *argv);

/* Wait for pid up to timeout_s; returns the exit status or 128+signal. */
int wait_child(pid_t pid, int timeout_s);

/* Contents of the last run's stderr, in a static buffer. */
const char *last_stderr(void);

/* 1 when the two files hold the same bytes. */
int same_file(const char *a, const char *b);

/* Number of directory entries in dir (without . and ..). */
int dir_entries(const char *dir);

/* 1 if path exists. */
int exists(const char *path);

/* Sleep ms milliseconds (fault injection timing only). */
void nap_ms(long ms);



/* --- Added for the regression tests (test_regress.c) --- */

/* Milliseconds on the monotonic clock. */
int64_t mono_ms(void);

/* Call pred(arg) every 10 ms until it returns non-zero (returns 1) or
 * timeout_ms passed (returns 0).  Waiting for an event, never a guess. */
int poll_until(int (*pred)(void *), void *arg, int timeout_ms);

/* 1 when the file at path has a line containing needle. */
int file_has_line(const char *path, const char *needle);

/* Wait up to timeout_ms for a line containing needle in the file at path;
 * 1 when it came, 0 on timeout, -1 when pid (if > 0) ended first (pid is
 * not reaped: wait_child() still gets its status). */
int wait_for_line(const char *path, const char *needle, pid_t pid,
                  int timeout_ms);

/* 1 when the child pid has ended (not reaped). */
int child_ended(pid_t pid);

/* Wait up to timeout_ms for pid; its exit status (128+signal if killed),
 * or -1 when it is still running (then it is left running). */
int wait_child_ms(pid_t pid, int timeout_ms);

/* The server's access log (nginx or fault server), in a static buffer. */
const char *srv_log_path(const srv *s);

/* segget on a pseudo-terminal 70 columns wide (pty_spawn_size: any
 * size): standard input, output and error are the terminal, which is its
 * controlling terminal and has it as the foreground job, as in an
 * interactive shell.  Everything it writes
 * is collected in out (when it overflows, the newer half is kept).  The
 * environment of segget_env()/segget_shim() applies (not
 * SG_TEST_RLIMIT_FSIZE). */
typedef struct pty_run {
    pid_t pid;   /* 0 once reaped */
    int master;  /* -1 once closed */
    int status;  /* exit status once reaped (128+signal if killed) */
    size_t len;
    char out[256 * 1024];
} pty_run;

void pty_spawn(pty_run *p, const char *cwd, const char *const *argv);

/* pty_spawn on a terminal cols wide and rows high. */
void pty_spawn_size(pty_run *p, const char *cwd, const char *const *argv,
                    int cols, int rows);

/* Read what is pending (waiting up to ms for the first bytes). */
void pty_drain(pty_run *p, int ms);

/* Wait up to timeout_ms, reading the terminal, until its output holds
 * needle (returns 1), or the process ended or time ran out (returns 0). */
int pty_wait_output(pty_run *p, const char *needle, int timeout_ms);

/* Type bytes on the terminal. */
void pty_type(pty_run *p, const char *bytes, size_t n);

/* Wait up to timeout_ms, reading the terminal, for the process to end;
 * its status, or -1 when it still runs. */
int pty_wait_exit(pty_run *p, int timeout_ms);

/* The terminal's local modes (c_lflag), or -1. */
long pty_lflag(const pty_run *p);

/* Kill the process if it still runs, reap it and close the terminal. */
void pty_close(pty_run *p);

#endif
