/* SPDX-License-Identifier: MIT */
/*
 * wait.h - waiting for events, never for time.
 *
 * An integration test that must act "once the download has started" (kill
 * it, pause it, start a second one) waits for the event that proves it:
 * a file appearing, a journal commit, a request in the server's log, a
 * line of output, the server having closed every connection.  Each helper
 * polls every few milliseconds until its event or a deadline; at the
 * deadline it fails the test with a message naming the event.
 *
 * pid is the segget the event depends on (0: none).  If it ends before
 * the event, the helper returns 0 without reaping it (wait_child() still
 * collects its status) and wait_failure() says how it ended; callers for
 * which that is an error write AWAIT(helper(...)).  On a timeout the
 * helper kills pid before failing, so no download outlives the test.
 */
#ifndef SG_WAIT_H
#define SG_WAIT_H

#include <criterion/criterion.h>
#include <sys/types.h>

#include "harness.h"

/* Deadline for events that a healthy run reaches within a second or two:
 * generous, because a loaded machine may be slow; reaching it fails the
 * test, it never lets it go on. */
#define WAIT_MS 30000

/* Fail the test unless the wait saw its event. */
#define AWAIT(call) cr_assert((call), "%s", wait_failure())

/* Why the last wait returned 0: which event, and how pid ended. */
const char *wait_failure(void);

/* cond(arg) holds, for events the helpers below do not cover; what names
 * the event in messages. */
int wait_until(int (*cond)(const void *arg), const void *arg, pid_t pid,
               int timeout_ms, const char *what);

/* path exists. */
int wait_exists(const char *path, pid_t pid, int timeout_ms);

/* The file at path contains needle (a pty transcript, a stderr or --json
 * stdout file). */
int wait_text(const char *path, const char *needle, pid_t pid, int timeout_ms);

/* The download to output (NAME) has recorded its plan (NAME.part exists:
 * segget creates it after the journal holds the download) and its journal
 * NAME.segget claims more than above bytes, that is a checkpoint committed
 * written data.  The journal is read only once NAME.part exists: earlier,
 * segget may be switching a new journal to WAL mode, which a reader's lock
 * would make fail (segget sets no busy timeout). */
int wait_committed(const char *output, long long above, pid_t pid,
                   int timeout_ms);

/* Process pid has passed more than bytes to write(2) and pwrite(2)
 * ("wchar" of /proc/PID/io; send(2) on sockets is not counted): for
 * segget, data written to NAME.part, since the journal's writes before the
 * first checkpoint come to about 20 KiB.  This is the event for "bytes are
 * written", which a graceful stop (SIGTERM, a pause) commits; unlike a
 * checkpoint it does not wait for fdatasync, which is slow on a busy
 * disk. */
int wait_written(pid_t pid, long long bytes, int timeout_ms);

/* What process pid has passed to write(2) and pwrite(2) so far (the
 * "wchar" that wait_written counts), or -1 when it cannot be read. */
long long proc_written(pid_t pid);

/* Bytes the journal jpath (NAME.segget) claims, read-only; -1 when it
 * cannot be read. */
long long journal_committed(const char *jpath);

/* The segments the journal jpath records, read-only, ordered by start:
 * at most max rows of {start, end, done} into seg.  Their number, or -1
 * when the journal cannot be read (see wait_committed: read it only once
 * NAME.part exists). */
int journal_segments(const char *jpath, long long (*seg)[3], int max);

/* The server logged more than above requests with status (0: any). */
int wait_requests(const srv *s, int status, int above, pid_t pid,
                  int timeout_ms);

/* The server holds no client connection: every request it was serving
 * has ended and is in its log (nginx and the fault server log a request
 * before they close its connection).  Used after a kill or a pause, before
 * reading the log. */
void wait_srv_idle(const srv *s, int timeout_ms);

/* The server is past its start-up, so srv_stop() cannot hang: nginx
 * loses a SIGTERM that arrives after it installed its handlers and before
 * its master loop blocks signals (it records the signal, then waits in
 * sigsuspend() for another).  Its master forks the worker after blocking
 * them, so a worker is the event.  The fault server needs no wait (SIGTERM
 * kills it at any time).  Call it before stopping a server that may have
 * served nothing yet. */
void wait_srv_ready(const srv *s, int timeout_ms);

/* Client connections the server holds open now. */
int srv_open_connections(const srv *s);

/* The accept queue of listening TCP socket fd is full (per TCP_INFO), so
 * the kernel drops further SYNs. */
void wait_accept_queue_full(int fd, int timeout_ms);

/* Process pid is in state ('T': stopped), per /proc/PID/stat. */
int wait_state(pid_t pid, char state, int timeout_ms);

/* The state letter of process pid, or 0 when it is gone. */
char proc_state(pid_t pid);

#endif
