/* SPDX-License-Identifier: MIT */
/*
 * The flags curl, wget and aria2 users type, each shown reaching the
 * server (nginx's log records Referer, Cookie and Authorization) or
 * libcurl (TLS trust, address family, interface, timeouts) with its
 * effect; and the words segget uses when an option is wrong.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "cases.h"
#include "harness.h"

#define MiB (INT64_C(1) << 20)

static srv S;
static const char *dir;

static void up(void)
{
    memset(&S, 0, sizeof S);
    dir = tmp_dir();
}

static void down(void)
{
    segget_env(NULL);
    if (S.root[0])
        srv_stop(&S);
    memset(&S, 0, sizeof S);
    tmp_cleanup();
}

TestSuite(flags, .init = up, .fini = down, .timeout = 120);

/* 1 when nginx's log has a line containing needle. */
static int logged(const char *needle)
{
    char p[300], line[2048];
    snprintf(p, sizeof p, "%s/logs/access.log", S.root);
    FILE *f = fopen(p, "r");
    int found = 0;
    while (f && !found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    if (f)
        fclose(f);
    return found;
}

/* Requests nginx logged, and how many of them contain needle. */
static int logged_count(const char *needle, int *all)
{
    char p[300], line[2048];
    snprintf(p, sizeof p, "%s/logs/access.log", S.root);
    FILE *f = fopen(p, "r");
    int n = 0;
    *all = 0;
    while (f && fgets(line, sizeof line, f)) {
        (*all)++;
        n += strstr(line, needle) != NULL;
    }
    if (f)
        fclose(f);
    return n;
}

static const char *www(void)
{
    return srv_file(&S, "f.bin", 3 * MiB + 7, 91);
}

Test(flags, the_habits_of_curl_and_wget_are_accepted)
{
    srv_start(&S, "");
    const char *f = www();
    const char *argv[] = {"-c", "-O", "-L", "-s", "--continue", "--location",
                          srv_url(&S, "f.bin"), NULL};
    cr_assert_eq(run_segget(dir, argv, 60), 0, "%s", last_stderr());
    cr_assert(same_file(f, case_path(dir, "f.bin")));
    cr_assert_str_eq(last_stderr(), "", "-s printed: %s", last_stderr());
}

Test(flags, verbose_shows_both_ways_and_hides_secrets)
{
    srv_start(&S, "");
    www();
    const char *argv[] = {"-v", "-n", "2", "-u", "me:s3cr3t-pw", "-b",
                          "session=t0ken", srv_url(&S, "f.bin"), NULL};
    cr_assert_eq(run_segget(dir, argv, 60), 0, "%s", last_stderr());
    const char *e = last_stderr();
    cr_assert(strstr(e, "> HEAD /f.bin HTTP/1.1"), "%s", e);
    cr_assert(strstr(e, "> GET /f.bin HTTP/1.1"), "%s", e);
    cr_assert(strstr(e, "> Range: bytes="), "%s", e);
    cr_assert(strstr(e, "< HTTP/1.1 206"), "%s", e);
    cr_assert(strstr(e, "< Content-Range: bytes "), "%s", e);
    cr_assert(strstr(e, "> Authorization: [redacted]"), "%s", e);
    cr_assert(strstr(e, "> Cookie: [redacted]"), "%s", e);
    cr_assert(!strstr(e, "s3cr3t") && !strstr(e, "t0ken") &&
                  !strstr(e, "bWU6"),
              "a secret in the trace: %s", e);
    /* ... while they did reach the server. */
    cr_assert(logged("ck=session=t0ken"));
    cr_assert(logged("auth=Basic "));
}

Test(flags, retry_counts_as_curl_counts)
{
    const char *f[] = {"--fail-status", "503", "--fail-count", "2",
                       "--retry-after", "0", NULL};
    case_fault(&S, 1 * MiB, 92, f);
    const char *none[] = {"-q", "--retry", "0", "-n", "1", "-o", "a.bin",
                          srv_url(&S, "f"), NULL};
    int st = run_segget(dir, none, 60);
    cr_assert_neq(st, 0, "no retry, yet it succeeded");
    srv_stop(&S);
    memset(&S, 0, sizeof S);
    case_fault(&S, 1 * MiB, 92, f);
    const char *three[] = {"-q", "--retry", "3", "-n", "1", "-o", "b.bin",
                           srv_url(&S, "f"), NULL};
    st = run_segget(dir, three, 60);
    cr_assert_eq(st, 0, "exit %d: %s", st, last_stderr());
    cr_assert(same_content(case_path(dir, "b.bin"), 92, 1 * MiB));
}

Test(flags, create_dirs_makes_the_outputs_directories)
{
    srv_start(&S, "");
    const char *f = www();
    const char *no[] = {"-q", "-o", "a/b/c.bin", srv_url(&S, "f.bin"), NULL};
    cr_assert_eq(run_segget(dir, no, 60), 1, "%s", last_stderr());
    const char *yes[] = {"-q", "--create-dirs", "-o", "a/b/c.bin",
                         srv_url(&S, "f.bin"), NULL};
    cr_assert_eq(run_segget(dir, yes, 60), 0, "%s", last_stderr());
    cr_assert(same_file(f, case_path(dir, "a/b/c.bin")));
}

Test(flags, referer_cookie_and_header_files_reach_the_server)
{
    srv_start(&S, "");
    www();
    char hf[600], jar[600];
    snprintf(hf, sizeof hf, "%s/../headers.txt", dir);
    case_write(hf, "X-Secret: s3cr3t\r\n\nX-Other: 1\n");
    static char hat[610];
    snprintf(hat, sizeof hat, "@%s", hf);
    const char *a[] = {"-q", "-e", "https://example.org/page", "-b",
                       "flavour=oat; size=2", "-H", hat, "-o", "a.bin",
                       srv_url(&S, "f.bin"), NULL};
    cr_assert_eq(run_segget(dir, a, 60), 0, "%s", last_stderr());
    cr_assert(logged("ref=https://example.org/page"));
    cr_assert(logged("ck=flavour=oat; size=2"));
    cr_assert(logged("xs=s3cr3t"));
    /* A Netscape cookie file, by -b and by --load-cookies. */
    snprintf(jar, sizeof jar, "%s/../cookies.txt", dir);
    case_write(jar, "# Netscape HTTP Cookie File\n"
                    "127.0.0.1\tFALSE\t/\tFALSE\t0\tjar\tfrom-file\n");
    const char *b[] = {"-q", "-b", jar, "-o", "b.bin", srv_url(&S, "f.bin"),
                       NULL};
    cr_assert_eq(run_segget(dir, b, 60), 0, "%s", last_stderr());
    cr_assert(logged("ck=jar=from-file"));
    srv_log_reset(&S);
    const char *c[] = {"-q", "-n", "4", "--load-cookies", jar, "-o",
                       "c.bin", srv_url(&S, "f.bin"), NULL};
    cr_assert_eq(run_segget(dir, c, 60), 0, "%s", last_stderr());
    /* Every request carried it: the probe and each range. */
    int all, with = logged_count("ck=jar=from-file", &all);
    cr_assert(all >= 3 && with == all, "%d of %d requests", with, all);
}

Test(flags, address_family_and_interface)
{
    srv_start(&S, "");
    www();
    const char *four[] = {"-q", "-4", "--interface", "lo", "-o", "a.bin",
                          srv_url(&S, "f.bin"), NULL};
    cr_assert_eq(run_segget(dir, four, 60), 0, "%s", last_stderr());
    /* An IPv4 server cannot be reached over IPv6 alone. */
    const char *six[] = {"-q", "-6", "--max-tries", "1", "-o", "b.bin",
                         srv_url(&S, "f.bin"), NULL};
    cr_assert_eq(run_segget(dir, six, 60), 2, "%s", last_stderr());
    const char *nif[] = {"-q", "--interface", "no-such-if0", "--max-tries",
                         "1", "-o", "c.bin", srv_url(&S, "f.bin"), NULL};
    cr_assert_neq(run_segget(dir, nif, 60), 0);
    cr_assert(strstr(last_stderr(), "no-such-if0"), "%s", last_stderr());
}

Test(flags, a_private_ca_is_trusted_with_cacert_or_the_environment)
{
    /* The variables the tests set, and only those (this process's
     * children inherit the rest). */
    unsetenv("CURL_CA_BUNDLE");
    unsetenv("SSL_CERT_FILE");
    unsetenv("SSL_CERT_DIR");
    srv_start_tls(&S, "");
    const char *f = www();
    static char cert[300];
    snprintf(cert, sizeof cert, "%s/cert.pem", S.root);
    const char *url = srv_url_tls(&S, "f.bin");
    const char *plain[] = {"-q", "--max-tries", "1", "-o", "a.bin", url,
                           NULL};
    cr_assert_eq(run_segget(dir, plain, 60), 8, "%s", last_stderr());
    cr_assert(strstr(last_stderr(), "--cacert") &&
                  strstr(last_stderr(), "-k"),
              "the TLS error does not say what to do: %s", last_stderr());
    const char *ca[] = {"-q", "--cacert", cert, "-o", "b.bin", url, NULL};
    cr_assert_eq(run_segget(dir, ca, 60), 0, "%s", last_stderr());
    cr_assert(same_file(f, case_path(dir, "b.bin")));
    static char env1[400], env2[400];
    snprintf(env1, sizeof env1, "SSL_CERT_FILE=%s", cert);
    segget_env(env1);
    const char *e1[] = {"-q", "-o", "c.bin", url, NULL};
    cr_assert_eq(run_segget(dir, e1, 60), 0, "%s", last_stderr());
    segget_env(NULL);
    snprintf(env2, sizeof env2, "CURL_CA_BUNDLE=%s", cert);
    segget_env(env2);
    const char *e2[] = {"-q", "-o", "d.bin", url, NULL};
    cr_assert_eq(run_segget(dir, e2, 60), 0, "%s", last_stderr());
    segget_env(NULL);
    /* A hashed directory: --capath, and SSL_CERT_DIR. */
    static char cadir[400], env3[500];
    snprintf(cadir, sizeof cadir, "%s/ca", S.root);
    static char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s' && cp '%s' '%s/private.pem' && "
             "openssl rehash '%s' 2>/dev/null",
             cadir, cert, cadir, cadir);
    cr_assert_eq(system(cmd), 0);
    const char *cp[] = {"-q", "--capath", cadir, "-o", "e.bin", url, NULL};
    cr_assert_eq(run_segget(dir, cp, 60), 0, "%s", last_stderr());
    snprintf(env3, sizeof env3, "SSL_CERT_DIR=%s", cadir);
    segget_env(env3);
    const char *e3[] = {"-q", "-o", "f.bin", url, NULL};
    cr_assert_eq(run_segget(dir, e3, 60), 0, "%s", last_stderr());
    segget_env(NULL);
}

Test(flags, timeout_bounds_connecting_and_stalls)
{
    /* A server that takes the connection and never answers: with
     * --timeout 1 the run gives up in seconds, not after the 30 s
     * default. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(fd, 16), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    static char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/f", ntohs(a.sin_port));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const char *argv[] = {"-q", "--timeout", "1", "--max-tries", "1", url,
                          NULL};
    int st = run_segget(dir, argv, 60);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    close(fd);
    double secs = (double)(t1.tv_sec - t0.tv_sec) +
                  (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_assert_eq(st, 2, "exit %d: %s", st, last_stderr());
    cr_assert_lt(secs, 10.0, "%.1f s", secs);
}

Test(flags, option_errors_speak_as_segget)
{
    const char *a[] = {"-Z", "http://127.0.0.1:9/x", NULL};
    cr_assert_eq(run_segget(dir, a, 30), 1);
    cr_assert(strncmp(last_stderr(), "segget: unknown option -Z", 25) == 0,
              "%s", last_stderr());
    const char *b[] = {"--nope", "http://127.0.0.1:9/x", NULL};
    cr_assert_eq(run_segget(dir, b, 30), 1);
    cr_assert(strncmp(last_stderr(), "segget: unknown option --nope", 29) ==
                  0,
              "%s", last_stderr());
    const char *c[] = {"http://127.0.0.1:9/x", "-n", NULL};
    cr_assert_eq(run_segget(dir, c, 30), 1);
    cr_assert(strncmp(last_stderr(), "segget: -n needs a value", 24) == 0,
              "%s", last_stderr());
    /* aria2c's -x16 */
    const char *d[] = {"-x16", "http://127.0.0.1:9/x", NULL};
    cr_assert_eq(run_segget(dir, d, 30), 1);
    cr_assert(strstr(last_stderr(), "-n"), "%s", last_stderr());
}

Test(flags, a_failure_through_a_proxy_names_it)
{
    srv_start(&S, "");
    www();
    const char *argv[] = {"-q", "-x", "http://127.0.0.1:9", "--max-tries",
                          "1", srv_url(&S, "f.bin"), NULL};
    cr_assert_eq(run_segget(dir, argv, 60), 2, "%s", last_stderr());
    cr_assert(strstr(last_stderr(), "through the proxy http://127.0.0.1:9"),
              "%s", last_stderr());
}

Test(flags, a_config_file_holds_defaults_and_no_config_skips_it)
{
    srv_start(&S, "");
    www();
    static char xdg[600], env[700];
    char cfg[700];
    snprintf(xdg, sizeof xdg, "%s/../xdg", dir);
    snprintf(cfg, sizeof cfg, "%s/segget", xdg);
    char cmd[1600];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", cfg);
    cr_assert_eq(system(cmd), 0);
    snprintf(cfg, sizeof cfg, "%s/segget/config", xdg);
    case_write(cfg, "# defaults\n\nreferer = https://cfg.example/\n"
                    "--header X-Secret: from-config\n"
                    "connections 2\n"
                    "quiet\n");
    snprintf(env, sizeof env, "XDG_CONFIG_HOME=%s", xdg);
    segget_env(env);
    const char *a[] = {"-o", "a.bin", srv_url(&S, "f.bin"), NULL};
    cr_assert_eq(run_segget(dir, a, 60), 0, "%s", last_stderr());
    cr_assert(logged("ref=https://cfg.example/"));
    cr_assert(logged("xs=from-config"));
    cr_assert_str_eq(last_stderr(), "", "quiet from the file: %s",
                     last_stderr());
    /* The command line wins, and --no-config skips the file. */
    srv_log_reset(&S);
    const char *b[] = {"--no-config", "-o", "b.bin", srv_url(&S, "f.bin"),
                       NULL};
    cr_assert_eq(run_segget(dir, b, 60), 0, "%s", last_stderr());
    cr_assert(!logged("xs=from-config"));
    /* A line that is not an option: its file and line are named. */
    case_write(cfg, "connections 2\nbogus-option 1\n");
    const char *c[] = {"-o", "c.bin", srv_url(&S, "f.bin"), NULL};
    cr_assert_eq(run_segget(dir, c, 60), 1);
    cr_assert(strstr(last_stderr(), "config, line 2: unknown option"), "%s",
              last_stderr());
    segget_env(NULL);
}

Test(flags, version_names_the_libraries)
{
    char out[600];
    snprintf(out, sizeof out, "%s/../version.txt", dir);
    segget_stdout(out);
    const char *a[] = {"--version", NULL};
    cr_assert_eq(run_segget(dir, a, 30), 0);
    segget_stdout(NULL);
    FILE *f = fopen(out, "r");
    char text[2048] = "";
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f)
        fclose(f);
    text[n] = '\0';
    cr_assert(strstr(text, "segget ") && strstr(text, "libcurl ") &&
                  strstr(text, "OpenSSL") && strstr(text, "SQLite ") &&
                  strstr(text, "features:"),
              "%s", text);
}

Test(flags, bash_completion_offers_the_options)
{
    char cmd[1200], out[600];
    snprintf(out, sizeof out, "%s/../compl.txt", dir);
    snprintf(cmd, sizeof cmd,
             "bash -c 'source completions/segget.bash; COMP_WORDS=(segget "
             "--con); COMP_CWORD=1; _segget; echo \"${COMPREPLY[*]}\"' > '%s'",
             out);
    cr_assert_eq(system(cmd), 0);
    FILE *f = fopen(out, "r");
    char text[1024] = "";
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f)
        fclose(f);
    text[n] = '\0';
    cr_assert(strstr(text, "--connections") && strstr(text, "--continue") &&
                  strstr(text, "--connect-timeout") &&
                  !strstr(text, "--json"),
              "%s", text);
}

/* A batch goes through the same connection settings: the referer and the
 * cookie file reach every request, and -v traces them. */
Test(flags, a_batch_carries_the_same_flags)
{
    srv_start(&S, "");
    www();
    srv_file(&S, "g.bin", 200000, 94);
    char jar[600], q[600], text[1200];
    snprintf(jar, sizeof jar, "%s/../cookies.txt", dir);
    case_write(jar, "127.0.0.1\tFALSE\t/\tFALSE\t0\tjar\tbatch\n");
    snprintf(q, sizeof q, "%s/../q.txt", dir);
    char u1[300];
    snprintf(u1, sizeof u1, "%s", srv_url(&S, "f.bin")); /* (static) */
    snprintf(text, sizeof text, "%s\n%s\n", u1, srv_url(&S, "g.bin"));
    case_write(q, text);
    const char *a[] = {"-v", "-e", "https://batch.example/", "--load-cookies",
                       jar, "-i", q, NULL};
    cr_assert_eq(run_segget(dir, a, 60), 0, "%s", last_stderr());
    int all, ref = logged_count("ref=https://batch.example/", &all);
    int ck = logged_count("ck=jar=batch", &all);
    cr_assert(all >= 2 && ref == all && ck == all,
              "%d and %d of %d requests", ref, ck, all);
    cr_assert(strstr(last_stderr(), "> GET /g.bin HTTP/1.1") &&
                  strstr(last_stderr(), "> Cookie: [redacted]"),
              "%s", last_stderr());
}
