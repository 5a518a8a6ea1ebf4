/* SPDX-License-Identifier: MIT */
/*
 * wait.c - bounded waits for events (see wait.h).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wait.h"

#define POLL_MS 3

static char why[1024];

const char *wait_failure(void)
{
    return why;
}

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Has child pid ended?  Peeks without reaping; describes how in buf. */
static int ended(pid_t pid, char *buf, size_t cap)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
        snprintf(buf, cap, "is not a child of the test");
        return 1;
    }
    if (si.si_pid != pid)
        return 0;
    if (si.si_code == CLD_EXITED)
        snprintf(buf, cap, "exited with %d", si.si_status);
    else
        snprintf(buf, cap, "was killed by signal %d", si.si_status);
    return 1;
}

typedef int (*cond_fn)(const void *arg);

/* Poll cond(arg) until it holds (1), pid ends first (0), or the deadline
 * passes (the test fails, after killing pid). */
static int wait_for(cond_fn cond, const void *arg, pid_t pid, int timeout_ms,
                    const char *what)
{
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        if (cond(arg))
            return 1;
        char how[64];
        if (pid > 0 && ended(pid, how, sizeof how)) {
            /* It may have made the event just before it ended. */
            if (cond(arg))
                return 1;
            snprintf(why, sizeof why, "segget %s before %s; its stderr: %s",
                     how, what, last_stderr());
            return 0;
        }
        if (now_ms() > deadline) {
            if (pid > 0) {
                kill(pid, SIGKILL);
                int st;
                waitpid(pid, &st, 0);
            }
            cr_assert_fail("waited %d ms for %s; it never came (segget's "
                           "stderr: %s)",
                           timeout_ms, what, last_stderr());
        }
        nap_ms(POLL_MS);
    }
}

int wait_until(int (*cond)(const void *arg), const void *arg, pid_t pid,
               int timeout_ms, const char *what)
{
    return wait_for(cond, arg, pid, timeout_ms, what);
}

static int cond_exists(const void *arg)
{
    return exists(arg);
}

int wait_exists(const char *path, pid_t pid, int timeout_ms)
{
    char what[700];
    snprintf(what, sizeof what, "%s to appear", path);
    return wait_for(cond_exists, path, pid, timeout_ms, what);
}

struct text {
    const char *path, *needle;
};

static int cond_text(const void *arg)
{
    const struct text *t = arg;
    FILE *f = fopen(t->path, "rb");
    if (!f)
        return 0;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    size_t k = strlen(t->needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(buf + i, t->needle, k) == 0)
            return 1;
    return 0;
}

int wait_text(const char *path, const char *needle, pid_t pid, int timeout_ms)
{
    struct text t = {path, needle};
    char what[800];
    snprintf(what, sizeof what, "\"%s\" in %s", needle, path);
    return wait_for(cond_text, &t, pid, timeout_ms, what);
}

long long journal_committed(const char *jpath)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st;
    long long v = -1;
    if (exists(jpath) &&
        sqlite3_open_v2(jpath, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT total(done - start) FROM segment", -1,
                           &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v;
}

int journal_segments(const char *jpath, long long (*seg)[3], int max)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st;
    int n = -1;
    if (exists(jpath) &&
        sqlite3_open_v2(jpath, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db,
                           "SELECT start, end, done FROM segment ORDER BY "
                           "start",
                           -1, &st, NULL) == SQLITE_OK) {
        int rc;
        n = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max) {
            for (int i = 0; i < 3; i++)
                seg[n][i] = sqlite3_column_int64(st, i);
            n++;
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            n = -1;
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return n;
}

struct commit {
    char part[700], journal[700];
    long long above;
};

static int cond_committed(const void *arg)
{
    const struct commit *c = arg;
    return exists(c->part) && journal_committed(c->journal) > c->above;
}

int wait_committed(const char *output, long long above, pid_t pid,
                   int timeout_ms)
{
    struct commit c;
    snprintf(c.part, sizeof c.part, "%s.part", output);
    snprintf(c.journal, sizeof c.journal, "%s.segget", output);
    c.above = above;
    char what[800];
    snprintf(what, sizeof what,
             "a checkpoint of %s claiming more than %lld "
             "bytes",
             c.journal, above);
    return wait_for(cond_committed, &c, pid, timeout_ms, what);
}

/* wchar of /proc/PID/io, or -1. */
static long long wchar(pid_t pid)
{
    char p[64], line[128];
    snprintf(p, sizeof p, "/proc/%d/io", (int)pid);
    FILE *f = fopen(p, "r");
    long long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "wchar: %lld", &v) == 1)
            break;
    if (f)
        fclose(f);
    return v;
}

long long proc_written(pid_t pid)
{
    return wchar(pid);
}

struct written {
    pid_t pid;
    long long bytes;
};

static int cond_written(const void *arg)
{
    const struct written *w = arg;
    return wchar(w->pid) > w->bytes;
}

int wait_written(pid_t pid, long long bytes, int timeout_ms)
{
    struct written w = {pid, bytes};
    char what[100];
    snprintf(what, sizeof what, "segget to write more than %lld bytes", bytes);
    return wait_for(cond_written, &w, pid, timeout_ms, what);
}

struct reqs {
    const srv *s;
    int status, above;
};

static int cond_requests(const void *arg)
{
    const struct reqs *r = arg;
    return srv_requests(r->s, r->status) > r->above;
}

int wait_requests(const srv *s, int status, int above, pid_t pid,
                  int timeout_ms)
{
    struct reqs r = {s, status, above};
    char what[200];
    snprintf(what, sizeof what,
             "more than %d requests with status %d in the server's log", above,
             status);
    return wait_for(cond_requests, &r, pid, timeout_ms, what);
}

/* Is socket inode in the /proc/net table: any entry (listen_only 0, for
 * /proc/net/unix) or a listening one (listen_only 1, for tcp and tcp6)? */
static int in_table(const char *table, unsigned long inode, int listen_only)
{
    FILE *f = fopen(table, "r");
    if (!f)
        return 0;
    char line[512];
    int found = 0;
    if (!fgets(line, sizeof line, f)) { /* header */
        fclose(f);
        return 0;
    }
    while (!found && fgets(line, sizeof line, f)) {
        unsigned long ino = 0;
        unsigned st = 0;
        if (listen_only) {
            /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
            if (sscanf(line, "%*s %*s %*s %x %*s %*s %*s %*s %*s %lu", &st,
                       &ino) == 2)
                found = ino == inode && st == 0x0A; /* LISTEN */
        } else {
            /* Num RefCount Protocol Flags Type St Inode Path */
            if (sscanf(line, "%*s %*s %*s %*s %*s %*s %lu", &ino) == 1)
                found = ino == inode;
        }
    }
    fclose(f);
    return found;
}

/* TCP client sockets of process pid: socket descriptors that are neither
 * a listening TCP socket nor a Unix socket (nginx's channels).  A
 * connection the peer reset has left /proc/net/tcp but is counted here
 * until the server closes it, which it does after logging its request. */
static int client_sockets(pid_t pid)
{
    char d[64];
    snprintf(d, sizeof d, "/proc/%d/fd", (int)pid);
    DIR *dir = opendir(d);
    if (!dir)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        char p[320], link[128];
        snprintf(p, sizeof p, "%s/%s", d, e->d_name);
        ssize_t k = readlink(p, link, sizeof link - 1);
        if (k <= 0)
            continue;
        link[k] = '\0';
        unsigned long ino;
        if (sscanf(link, "socket:[%lu]", &ino) != 1)
            continue;
        if (in_table("/proc/net/unix", ino, 0) ||
            in_table("/proc/net/tcp", ino, 1) ||
            in_table("/proc/net/tcp6", ino, 1))
            continue;
        n++;
    }
    closedir(dir);
    return n;
}

/* Children of process parent (nginx's workers), at most cap in kids;
 * returns how many. */
static int children(pid_t parent, pid_t *kids, int cap)
{
    DIR *proc = opendir("/proc");
    if (!proc)
        return 0;
    int n = 0;
    struct dirent *e;
    while (n < cap && (e = readdir(proc))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0)
            continue;
        char p[64], buf[512];
        snprintf(p, sizeof p, "/proc/%ld/stat", pid);
        FILE *f = fopen(p, "r");
        if (!f)
            continue;
        size_t k = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[k] = '\0';
        const char *r = strrchr(buf, ')');
        int ppid;
        if (r && sscanf(r + 1, " %*c %d", &ppid) == 1 && ppid == parent)
            kids[n++] = (pid_t)pid;
    }
    closedir(proc);
    return n;
}

int srv_open_connections(const srv *s)
{
    if (s->pid <= 0)
        return 0;
    int n = client_sockets(s->pid);
    pid_t kids[16];
    int k = children(s->pid, kids, 16);
    for (int i = 0; i < k; i++)
        n += client_sockets(kids[i]);
    return n;
}

static int cond_ready(const void *arg)
{
    const srv *s = arg;
    char p[64], comm[64] = "";
    snprintf(p, sizeof p, "/proc/%d/comm", (int)s->pid);
    FILE *f = fopen(p, "r");
    if (!f)
        return 1; /* gone: nothing to stop */
    if (!fgets(comm, sizeof comm, f))
        comm[0] = '\0';
    fclose(f);
    if (strncmp(comm, "nginx", 5) != 0)
        return 1; /* the fault server, or not yet exec'd (then SIGTERM's
                   * default action ends it) */
    pid_t kid;
    return children(s->pid, &kid, 1) > 0;
}

void wait_srv_ready(const srv *s, int timeout_ms)
{
    if (s->pid > 0)
        wait_for(cond_ready, s, 0, timeout_ms,
                 "nginx to start its worker (a SIGTERM before may be lost)");
}

static int cond_idle(const void *arg)
{
    return srv_open_connections(arg) == 0;
}

void wait_srv_idle(const srv *s, int timeout_ms)
{
    wait_for(cond_idle, s, 0, timeout_ms,
             "the server to close every client connection");
}

static int cond_acceptq_full(const void *arg)
{
    int fd = *(const int *)arg;
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    /* For a listening socket: unacked is the accept queue's length,
     * sacked its limit; the kernel calls it full past the limit. */
    return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
           ti.tcpi_unacked > ti.tcpi_sacked;
}

void wait_accept_queue_full(int fd, int timeout_ms)
{
    wait_for(cond_acceptq_full, &fd, 0, timeout_ms,
             "the listener's accept queue to fill");
}

char proc_state(pid_t pid)
{
    char p[64], buf[512];
    snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(p, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *r = strrchr(buf, ')');
    return r && r[1] == ' ' ? r[2] : 0;
}

struct pstate {
    pid_t pid;
    char state;
};

static int cond_state(const void *arg)
{
    const struct pstate *p = arg;
    return proc_state(p->pid) == p->state;
}

int wait_state(pid_t pid, char state, int timeout_ms)
{
    struct pstate p = {pid, state};
    char what[100];
    snprintf(what, sizeof what, "process %d to be in state %c", (int)pid,
             state);
    return wait_for(cond_state, &p, pid, timeout_ms, what);
}
