/* SPDX-License-Identifier: MIT */
/*
 * harness.c - nginx, files and child processes for the integration tests.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "content.h"
#include "harness.h"

static char stderr_path[256];
static char tmp_root[128];

static const char *nginx_bin(void)
{
    return access("/usr/sbin/nginx", X_OK) == 0 ? "/usr/sbin/nginx" : "nginx";
}

void rm_tree(const char *path)
{
    pid_t pid = fork();
    if (pid == 0) {
        execlp("rm", "rm", "-rf", path, (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
}

const char *tmp_dir(void)
{
    static char d[128];
    snprintf(d, sizeof d, "/tmp/sg-test-XXXXXX");
    cr_assert_not_null(mkdtemp(d));
    snprintf(tmp_root, sizeof tmp_root, "%s", d);
    char dl[160];
    snprintf(dl, sizeof dl, "%s/dl", d);
    cr_assert_eq(mkdir(dl, 0755), 0);
    snprintf(stderr_path, sizeof stderr_path, "%s/stderr.txt", d);
    strcat(d, "/dl");
    return d;
}

void tmp_cleanup(void)
{
    if (tmp_root[0])
        rm_tree(tmp_root);
    tmp_root[0] = '\0';
}

/* Make the server's directories and a listening socket on 127.0.0.1:0. */
static int srv_prepare(srv *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->root, sizeof s->root, "/tmp/sg-nginx-XXXXXX");
    cr_assert_not_null(mkdtemp(s->root));
    chmod(s->root, 0755);
    snprintf(s->www, sizeof s->www, "%s/www", s->root);
    char p[256];
    cr_assert_eq(mkdir(s->www, 0755), 0);
    snprintf(p, sizeof p, "%s/logs", s->root);
    cr_assert_eq(mkdir(p, 0755), 0);

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(fd, 512), 0);
    socklen_t al = sizeof a;
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    s->port = ntohs(a.sin_port);
    return fd;
}

void fsrv_start(srv *s, const char *const *args)
{
    int fd = srv_prepare(s);
    const char *bin = getenv("FAULTSRV_BIN");
    cr_assert_not_null(bin, "FAULTSRV_BIN is not set (run 'make test')");
    char fds[16], log[256];
    snprintf(fds, sizeof fds, "%d", fd);
    snprintf(log, sizeof log, "%s/logs/access.log", s->root);
    const char *argv[64] = {"faultsrv", fds, "--log", log};
    int n = 4;
    for (int i = 0; args && args[i] && n < 62; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(fd);
    s->pid = pid;
}

int same_content(const char *path, uint64_t seed, int64_t size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    static unsigned char got[1 << 16], want[1 << 16];
    int64_t off = 0;
    int same = 1;
    for (;;) {
        size_t n = fread(got, 1, sizeof got, f);
        if (n == 0)
            break;
        content_fill(seed, (uint64_t)off, want, n);
        if (off + (int64_t)n > size || memcmp(got, want, n) != 0) {
            same = 0;
            break;
        }
        off += (int64_t)n;
    }
    fclose(f);
    return same && off == size;
}

static void nginx_start_fds(srv *s, const char *server_conf, int tls,
                            const int *extra, int nextra)
{
    int fd = srv_prepare(s);
    char tlsconf[600] = "";
    if (tls) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd,
                 "openssl req -x509 -newkey ec -pkeyopt "
                 "ec_paramgen_curve:prime256v1 -nodes -days 1 -subj "
                 "/CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
                 "-keyout %s/key.pem -out %s/cert.pem 2>/dev/null",
                 s->root, s->root);
        cr_assert_eq(system(cmd), 0, "openssl could not make a certificate");
        snprintf(tlsconf, sizeof tlsconf,
                 "ssl_certificate %s/cert.pem; ssl_certificate_key "
                 "%s/key.pem;",
                 s->root, s->root);
    }
    char p[256];
    snprintf(p, sizeof p, "%s/nginx.conf", s->root);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fprintf(f,
            "daemon off; master_process on; worker_processes 1;\n"
            "%s"
            "pid %s/nginx.pid; error_log %s/logs/error.log;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            " log_format sg '$status $body_bytes_sent \"$http_range\" $connection"
            " $server_protocol $msec $request_time xs=$http_x_secret"
            " auth=$http_authorization ref=$http_referer ck=$http_cookie"
            " uri=$uri';\n"
            " access_log %s/logs/access.log sg;\n"
            " client_body_temp_path %s/t1; proxy_temp_path %s/t2;\n"
            " fastcgi_temp_path %s/t3; uwsgi_temp_path %s/t4;\n"
            " scgi_temp_path %s/t5;\n"
            " sendfile on; keepalive_requests 10000;\n"
            " limit_conn_zone $binary_remote_addr zone=perip:1m;\n"
            " server { listen 127.0.0.1:%d%s; root %s; %s %s }\n"
            "}\n",
            geteuid() == 0 ? "user root;\n" : "", s->root, s->root, s->root,
            s->root, s->root, s->root, s->root, s->root, s->port,
            tls == 2 ? " ssl http2" : tls ? " ssl" : "", s->www, tlsconf,
            server_conf ? server_conf : "");
    fclose(f);

    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        char env[16 * 520];
        int at = snprintf(env, sizeof env, "%d;", fd);
        for (int i = 0; i < nextra && at < (int)sizeof env - 16; i++)
            at += snprintf(env + at, sizeof env - (size_t)at, "%d;", extra[i]);
        setenv("NGINX", env, 1);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        execl(nginx_bin(), "nginx", "-p", s->root, "-c", p, (char *)NULL);
        _exit(127);
    }
    close(fd);
    for (int i = 0; i < nextra; i++)
        close(extra[i]);
    s->pid = pid;
}

static void nginx_start(srv *s, const char *server_conf, int tls)
{
    nginx_start_fds(s, server_conf, tls, NULL, 0);
}

void srv_start_ports(srv *s, const char *server_conf, int n, int *ports)
{
    cr_assert(n >= 0 && n <= 512);
    int fds[512];
    size_t cap = (size_t)n * 32 + (server_conf ? strlen(server_conf) : 0) + 1;
    char *conf = malloc(cap);
    cr_assert_not_null(conf);
    size_t at = 0;
    conf[0] = '\0';
    for (int i = 0; i < n; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        cr_assert_geq(fds[i], 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t al = sizeof a;
        cr_assert_eq(bind(fds[i], (struct sockaddr *)&a, sizeof a), 0);
        cr_assert_eq(listen(fds[i], 512), 0);
        cr_assert_eq(getsockname(fds[i], (struct sockaddr *)&a, &al), 0);
        ports[i] = ntohs(a.sin_port);
        at += (size_t)snprintf(conf + at, cap - at, "listen 127.0.0.1:%d; ",
                               ports[i]);
    }
    snprintf(conf + at, cap - at, "%s", server_conf ? server_conf : "");
    nginx_start_fds(s, conf, 0, fds, n);
    free(conf);
}

void srv_start(srv *s, const char *server_conf)
{
    nginx_start(s, server_conf, 0);
}

void srv_start_tls(srv *s, const char *server_conf)
{
    nginx_start(s, server_conf, 1);
}

void srv_start_h2(srv *s, const char *server_conf)
{
    nginx_start(s, server_conf, 2);
}

int srv_overlaps(const srv *s)
{
    char p[256];
    snprintf(p, sizeof p, "%s/logs/access.log", s->root);
    FILE *f = fopen(p, "r");
    if (!f)
        return 0;
    struct { long conn; double a, b; } r[4096];
    int n = 0, overlaps = 0;
    char line[512], proto[32];
    while (fgets(line, sizeof line, f) && n < 4096) {
        char *q = strrchr(line, '"');
        double end, took;
        if (q && sscanf(q + 1, "%ld %31s %lf %lf", &r[n].conn, proto, &end,
                        &took) == 4) {
            r[n].a = end - took;
            r[n].b = end;
            n++;
        }
    }
    fclose(f);
    /* Two requests on one connection whose lifetimes overlap by more than
     * the log's millisecond resolution were multiplexed. */
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (r[i].conn == r[j].conn && r[i].a + 0.002 < r[j].b &&
                r[j].a + 0.002 < r[i].b)
                overlaps++;
    return overlaps;
}

int srv_connections(const srv *s, const char *protocol)
{
    char p[256];
    snprintf(p, sizeof p, "%s/logs/access.log", s->root);
    FILE *f = fopen(p, "r");
    if (!f)
        return 0;
    long seen[1024];
    int n = 0;
    char line[512], proto[32];
    long conn;
    while (fgets(line, sizeof line, f)) {
        char *q = strrchr(line, '"'); /* after the quoted range */
        if (!q || sscanf(q + 1, "%ld %31s", &conn, proto) != 2 ||
            strcmp(proto, protocol) != 0)
            continue;
        int known = 0;
        for (int i = 0; i < n; i++)
            known |= seen[i] == conn;
        if (!known && n < 1024)
            seen[n++] = conn;
    }
    fclose(f);
    return n;
}

const char *srv_url_tls(const srv *s, const char *name)
{
    static char u[512];
    snprintf(u, sizeof u, "https://127.0.0.1:%d/%s", s->port, name);
    return u;
}

void srv_stop(srv *s)
{
    if (s->pid > 0) {
        /* nginx loses a SIGTERM that comes before its master loop runs
         * (a server stopped just after its start): ask again until it
         * goes, and after ten seconds, kill it. */
        int st;
        for (int i = 0; waitpid(s->pid, &st, WNOHANG) == 0; i++) {
            kill(s->pid, i < 50 ? SIGTERM : SIGKILL);
            struct timespec ts = {0, 200 * 1000000L};
            if (waitpid(s->pid, &st, WNOHANG) != 0)
                break;
            nanosleep(&ts, NULL);
        }
        s->pid = 0;
    }
    if (s->root[0])
        rm_tree(s->root);
}

const char *srv_url(const srv *s, const char *name)
{
    static char u[512];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/%s", s->port, name);
    return u;
}

const char *srv_file(srv *s, const char *name, int64_t size, uint64_t seed)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", s->www, name);
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1, buf[8192];
    while (size > 0) {
        for (size_t i = 0; i < 8192; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[i] = x;
        }
        size_t n = size > (int64_t)sizeof buf ? sizeof buf : (size_t)size;
        cr_assert_eq(fwrite(buf, 1, n, f), n);
        size -= (int64_t)n;
    }
    cr_assert_eq(fclose(f), 0);
    return p;
}

static FILE *open_log(const srv *s)
{
    char p[256];
    snprintf(p, sizeof p, "%s/logs/access.log", s->root);
    return fopen(p, "r");
}

int64_t srv_bytes_sent(const srv *s)
{
    FILE *f = open_log(s);
    if (!f)
        return 0;
    int64_t sum = 0;
    int status;
    long long b;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%d %lld", &status, &b) == 2)
            sum += b;
    fclose(f);
    return sum;
}

int64_t srv_bytes_for(const srv *s, const char *uri, int *requests)
{
    FILE *f = open_log(s);
    int64_t sum = 0;
    *requests = 0;
    if (!f)
        return 0;
    char line[1024], want[512];
    snprintf(want, sizeof want, " uri=%s\n", uri);
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line), w = strlen(want);
        long long b;
        int status;
        if (n >= w && strcmp(line + n - w, want) == 0 &&
            sscanf(line, "%d %lld", &status, &b) == 2) {
            sum += b;
            (*requests)++;
        }
    }
    fclose(f);
    return sum;
}

void srv_log_reset(const srv *s)
{
    char p[256];
    snprintf(p, sizeof p, "%s/logs/access.log", s->root);
    FILE *f = fopen(p, "w");
    if (f)
        fclose(f);
}

int64_t srv_slow_bytes(const srv *s)
{
    FILE *f = open_log(s);
    if (!f)
        return 0;
    int64_t sum = 0;
    int status;
    long long b;
    char line[512], speed[8];
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%d %lld %*s %*s %*s %7s", &status, &b, speed) == 3 &&
            strcmp(speed, "slow") == 0)
            sum += b;
    fclose(f);
    return sum;
}

int srv_requests(const srv *s, int want)
{
    FILE *f = open_log(s);
    if (!f)
        return 0;
    int count = 0, status;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%d", &status) == 1 && (!want || status == want))
            count++;
    fclose(f);
    return count;
}

static const char *extra_env[5];

void segget_env(const char *kv)
{
    if (!kv) {
        memset(extra_env, 0, sizeof extra_env);
        return;
    }
    for (int i = 0; i < 4; i++)
        if (!extra_env[i]) {
            extra_env[i] = kv;
            return;
        }
}

void segget_shim(const char *mode_env)
{
    static char preload[600];
    const char *so = getenv("FAILSYNC_SO");
    cr_assert_not_null(so, "FAILSYNC_SO is not set (run 'make test')");
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", so);
    segget_env(preload);
    segget_env(mode_env);
    /* Under ASan the shim comes before its runtime; it intercepts no
     * allocation, so that order is harmless. */
    segget_env("ASAN_OPTIONS=verify_asan_link_order=0");
}

static const char *stdin_path, *stdout_path;
static int own_pgrp;

/* The last segget spawned with --json and a file for its standard output:
 * its events are checked when wait_child() or wait_child_ms() reaps it. */
static pid_t json_pid;
static char *json_out;

static void json_spawned(pid_t pid, const char *const *argv)
{
    int json = 0;
    for (int i = 0; argv[i]; i++)
        json |= strcmp(argv[i], "--json") == 0;
    if (!json || !stdout_path)
        return;
    free(json_out);
    json_out = strdup(stdout_path);
    cr_assert_not_null(json_out);
    json_pid = pid;
}

/* pid ended with status (128+signal if killed). */
static void json_reaped(pid_t pid, int status)
{
    if (pid != json_pid || !json_out)
        return;
    json_pid = 0;
    events_check(json_out, status < 128 ? status : -1);
}

void events_check(const char *path, int exit_status)
{
    const char *tool = "tests/validate-events";
    cr_assert_eq(access(tool, X_OK), 0,
                 "%s: run the tests from the source tree", tool);
    size_t n = 2 * strlen(path) + 96;
    char *cmd = malloc(n), *log = malloc(n);
    cr_assert(cmd && log);
    (void)snprintf(log, n, "%s.invalid", path);
    if (exit_status >= 0)
        (void)snprintf(cmd, n, "%s --exit %d '%s' 2>'%s'", tool, exit_status,
                       path, log);
    else
        (void)snprintf(cmd, n, "%s '%s' 2>'%s'", tool, path, log);
    int rc = system(cmd);
    static char why[4096];
    why[0] = '\0';
    FILE *f = fopen(log, "r");
    if (f) {
        why[fread(why, 1, sizeof why - 1, f)] = '\0';
        fclose(f);
    }
    (void)unlink(log);
    cr_expect_eq(rc, 0, "--json events of %s are not valid (segget exit "
                        "%d):\n%s",
                 path, exit_status, why);
    free(cmd);
    free(log);
}

void segget_own_pgrp(int on)
{
    own_pgrp = on;
}

void segget_stdin(const char *path)
{
    stdin_path = path;
}

void segget_stdout(const char *path)
{
    stdout_path = path;
}

pid_t spawn_segget(const char *cwd, const char *const *argv)
{
    const char *bin = getenv("SEGGET_BIN");
    cr_assert_not_null(bin, "SEGGET_BIN is not set (run 'make test')");
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        const char *args[64] = {"segget"};
        int n = 1;
        for (; argv[n - 1] && n < 63; n++)
            args[n] = argv[n - 1];
        args[n] = NULL;
        if (chdir(cwd) < 0)
            _exit(126);
        if (own_pgrp)
            (void)setpgid(0, 0);
        for (int i = 0; extra_env[i]; i++) {
            const char *kv = extra_env[i];
            if (strncmp(kv, "SG_TEST_RLIMIT_FSIZE=", 21) == 0) {
                /* Applied here, to the child, like "ulimit -f". */
                struct rlimit rl;
                rl.rlim_cur = rl.rlim_max = (rlim_t)atoll(kv + 21);
                setrlimit(RLIMIT_FSIZE, &rl);
                continue;
            }
            if (strncmp(kv, "SG_TEST_RLIMIT_NOFILE=", 22) == 0) {
                /* SOFT:HARD, like "ulimit -Sn SOFT -Hn HARD". */
                struct rlimit rl;
                char *colon;
                rl.rlim_cur = (rlim_t)strtoll(kv + 22, &colon, 10);
                rl.rlim_max = (rlim_t)atoll(colon + 1);
                setrlimit(RLIMIT_NOFILE, &rl);
                continue;
            }
            putenv((char *)kv);
        }
        int fd = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0)
            dup2(fd, 2);
        int devnull = open("/dev/null", O_RDWR);
        int in = stdin_path ? open(stdin_path, O_RDONLY) : devnull;
        dup2(in < 0 ? devnull : in, 0);
        int out = stdout_path ? open(stdout_path, O_WRONLY | O_CREAT | O_TRUNC,
                                     0644)
                              : devnull;
        dup2(out < 0 ? devnull : out, 1);
        execv(bin, (char *const *)args);
        _exit(127);
    }
    json_spawned(pid, argv);
    return pid;
}

static long peak_rss_kb;

long last_peak_rss_kb(void)
{
    return peak_rss_kb;
}

int wait_child(pid_t pid, int timeout_s)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int st;
        struct rusage ru;
        pid_t r = wait4(pid, &st, WNOHANG, &ru);
        if (r == pid) {
            peak_rss_kb = ru.ru_maxrss;
            int status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            json_reaped(pid, status);
            return status;
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > timeout_s) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            cr_assert_fail("segget ran longer than %d s", timeout_s);
        }
        nap_ms(5);
    }
}

int run_segget(const char *cwd, const char *const *argv, int timeout_s)
{
    return wait_child(spawn_segget(cwd, argv), timeout_s);
}

const char *last_stderr(void)
{
    static char buf[16384];
    buf[0] = '\0';
    FILE *f = fopen(stderr_path, "r");
    if (f) {
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = '\0';
        fclose(f);
    }
    return buf;
}

int same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    static char ba[1 << 16], bb[1 << 16];
    while (same) {
        size_t na = fread(ba, 1, sizeof ba, fa);
        size_t nb = fread(bb, 1, sizeof bb, fb);
        if (na != nb || memcmp(ba, bb, na) != 0)
            same = 0;
        if (na == 0)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

int dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* --- Added for the regression tests (test_regress.c) --- */

#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>

int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int poll_until(int (*pred)(void *), void *arg, int timeout_ms)
{
    int64_t until = mono_ms() + timeout_ms;
    for (;;) {
        if (pred(arg))
            return 1;
        if (mono_ms() >= until)
            return 0;
        nap_ms(10);
    }
}

int file_has_line(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    static char line[1 << 16];
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

int child_ended(pid_t pid)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           si.si_pid == pid;
}

int wait_for_line(const char *path, const char *needle, pid_t pid,
                  int timeout_ms)
{
    int64_t until = mono_ms() + timeout_ms;
    for (;;) {
        if (file_has_line(path, needle))
            return 1;
        if (pid > 0 && child_ended(pid))
            return file_has_line(path, needle) ? 1 : -1;
        if (mono_ms() >= until)
            return 0;
        nap_ms(10);
    }
}

int wait_child_ms(pid_t pid, int timeout_ms)
{
    int64_t until = mono_ms() + timeout_ms;
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            int status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            json_reaped(pid, status);
            return status;
        }
        if (mono_ms() >= until)
            return -1;
        nap_ms(5);
    }
}

const char *srv_log_path(const srv *s)
{
    static char p[256];
    snprintf(p, sizeof p, "%s/logs/access.log", s->root);
    return p;
}

void pty_spawn(pty_run *p, const char *cwd, const char *const *argv)
{
    pty_spawn_size(p, cwd, argv, 70, 24);
}

void pty_spawn_size(pty_run *p, const char *cwd, const char *const *argv,
                    int cols, int rows)
{
    const char *bin = getenv("SEGGET_BIN");
    cr_assert_not_null(bin, "SEGGET_BIN is not set (run 'make test')");
    p->pid = 0;
    p->len = 0;
    p->status = -1;
    p->out[0] = '\0';
    /* posix_openpt(), unlockpt() and ptsname() as Linux does them (the
     * build's feature macros leave those XSI names undeclared). */
    p->master = open("/dev/ptmx", O_RDWR | O_NOCTTY);
    cr_assert_geq(p->master, 0, "/dev/ptmx: %s", strerror(errno));
    int unlock = 0;
    unsigned ptn = 0;
    cr_assert_eq(ioctl(p->master, TIOCSPTLCK, &unlock), 0);
    cr_assert_eq(ioctl(p->master, TIOCGPTN, &ptn), 0);
    char slave[64];
    snprintf(slave, sizeof slave, "/dev/pts/%u", ptn);
    struct winsize ws = {.ws_row = (unsigned short)rows,
                         .ws_col = (unsigned short)cols};
    (void)ioctl(p->master, TIOCSWINSZ, &ws);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        const char *args[64] = {"segget"};
        int n = 1;
        for (; argv[n - 1] && n < 63; n++)
            args[n] = argv[n - 1];
        args[n] = NULL;
        close(p->master);
        /* A new session whose controlling terminal is the pty: segget is
         * its foreground job, as when typed at a shell prompt. */
        if (setsid() < 0)
            _exit(126);
        int fd = open(slave, O_RDWR);
        if (fd < 0)
            _exit(126);
        (void)ioctl(fd, TIOCSCTTY, 0);
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
        if (chdir(cwd) < 0)
            _exit(126);
        for (int i = 0; extra_env[i]; i++)
            if (strncmp(extra_env[i], "SG_TEST_RLIMIT_FSIZE=", 21) != 0)
                putenv((char *)extra_env[i]);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(bin, (char *const *)args);
        _exit(127);
    }
    p->pid = pid;
}

void pty_drain(pty_run *p, int ms)
{
    if (p->master < 0)
        return;
    for (;;) {
        struct pollfd pf = {.fd = p->master, .events = POLLIN};
        int r = poll(&pf, 1, ms);
        if (r <= 0)
            return;
        char buf[8192];
        ssize_t n = read(p->master, buf, sizeof buf);
        if (n <= 0)
            return; /* EIO once the terminal has no process left */
        if (p->len + (size_t)n >= sizeof p->out) {
            /* Keep the newer half. */
            size_t keep = sizeof p->out / 2;
            memmove(p->out, p->out + p->len - keep, keep);
            p->len = keep;
        }
        memcpy(p->out + p->len, buf, (size_t)n);
        p->len += (size_t)n;
        p->out[p->len] = '\0';
        ms = 0;
    }
}

/* Reap the child if it ended; 1 when it has. */
static int pty_reap(pty_run *p)
{
    if (p->pid <= 0)
        return 1;
    int st;
    if (waitpid(p->pid, &st, WNOHANG) != p->pid)
        return 0;
    p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    p->pid = 0;
    pty_drain(p, 0);
    return 1;
}

int pty_wait_output(pty_run *p, const char *needle, int timeout_ms)
{
    int64_t until = mono_ms() + timeout_ms;
    for (;;) {
        pty_drain(p, 10);
        if (strstr(p->out, needle))
            return 1;
        if (pty_reap(p) || mono_ms() >= until)
            return strstr(p->out, needle) != NULL;
    }
}

void pty_type(pty_run *p, const char *bytes, size_t n)
{
    while (n > 0) {
        ssize_t w = write(p->master, bytes, n);
        if (w < 0 && errno == EINTR)
            continue;
        cr_assert_gt(w, 0, "writing to the terminal: %s", strerror(errno));
        bytes += w;
        n -= (size_t)w;
    }
}

int pty_wait_exit(pty_run *p, int timeout_ms)
{
    int64_t until = mono_ms() + timeout_ms;
    for (;;) {
        if (pty_reap(p))
            return p->status;
        if (mono_ms() >= until)
            return -1;
        pty_drain(p, 5);
    }
}

long pty_lflag(const pty_run *p)
{
    struct termios t;
    /* On Linux the master reports the terminal's (the slave's) modes. */
    if (p->master < 0 || tcgetattr(p->master, &t) < 0)
        return -1;
    return (long)t.c_lflag;
}

void pty_close(pty_run *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGKILL);
        int st;
        waitpid(p->pid, &st, 0);
        p->pid = 0;
    }
    if (p->master >= 0)
        close(p->master);
    p->master = -1;
}

/* One request of the access log: its connection, when it ran, and whether
 * srv_usage() asks about it. */
struct logreq {
    long conn;
    double a, b; /* start and end (s) */
    int proto;   /* spoke the protocol asked for */
    int mine;    /* its URI begins with the prefix */
};

static int by_start(const void *x, const void *y)
{
    const struct logreq *p = x, *q = y;
    return (p->a > q->a) - (p->a < q->a);
}

srv_use srv_usage(const srv *s, const char *prefix, const char *protocol,
                  int skip)
{
    srv_use u = {0};
    FILE *f = open_log(s);
    if (!f)
        return u;
    struct logreq *r = NULL;
    size_t n = 0, cap = 0;
    char line[1024], proto[32];
    while (fgets(line, sizeof line, f)) {
        char *q = strrchr(line, '"'); /* after the quoted range */
        const char *uri = strstr(line, " uri=");
        double end, took;
        long conn;
        if (!q || !uri ||
            sscanf(q + 1, "%ld %31s %lf %lf", &conn, proto, &end, &took) != 4)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            r = realloc(r, cap * sizeof *r);
            cr_assert_not_null(r);
        }
        uri += 5;
        r[n++] = (struct logreq){
            .conn = conn,
            .a = end - took,
            .b = end,
            .proto = protocol && strcmp(proto, protocol) == 0,
            .mine = !prefix || strncmp(uri, prefix, strlen(prefix)) == 0,
        };
    }
    fclose(f);
    qsort(r, n, sizeof *r, by_start);
    for (size_t i = 0; i < n && skip > 0; i++)
        if (r[i].mine) {
            r[i].mine = 0;
            skip--;
        }
    for (size_t i = 0; i < n; i++) {
        if (!r[i].mine)
            continue;
        if (!u.requests++)
            u.first = r[i].a;
        if (r[i].b > u.last)
            u.last = r[i].b;
        u.proto += r[i].proto;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = r[j].mine && r[j].conn == r[i].conn;
        u.conns += !seen;
        /* As srv_overlaps(): by more than the log's resolution.  A pair
         * of two of them is counted once. */
        for (size_t j = 0; j < n; j++)
            if (j != i && (!r[j].mine || j > i) && r[j].conn == r[i].conn &&
                r[i].a + 0.002 < r[j].b && r[j].a + 0.002 < r[i].b)
                u.overlaps++;
    }
    free(r);
    return u;
}
