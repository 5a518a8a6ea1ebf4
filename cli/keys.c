/* SPDX-License-Identifier: MIT */
/*
 * keys.c - reading control keys from the terminal (see keys.h).
 */
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <termios.h>
#include <unistd.h>

#include "keys.h"

#define MIN_LIMIT (128 * 1024)
#define MAX_LIMIT (INT64_C(1) << 40) /* 1 TiB/s: "+" stops doubling */

static struct termios saved;
static volatile int taken;

/* Is this process in the terminal's foreground job?  A background job
 * that read the terminal or changed its mode would be stopped (SIGTTIN,
 * SIGTTOU): "segget URL &" must just run. */
static int foreground(void)
{
    return tcgetpgrp(STDIN_FILENO) == getpgrp();
}

void keys_start(keys *k, int64_t limit)
{
    k->on = 0;
    k->limit = limit;
    if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO) || !foreground() ||
        tcgetattr(STDIN_FILENO, &saved) < 0)
        return;
    struct termios t = saved;
    t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0)
        k->on = taken = 1;
}

void keys_restore(void)
{
    if (!taken)
        return;
    /* Moved to the background meanwhile ("bg"): with SIGTTOU blocked the
     * terminal is still restored, and the job not stopped for it. */
    sigset_t tt, old;
    sigemptyset(&tt);
    sigaddset(&tt, SIGTTOU);
    (void)sigprocmask(SIG_BLOCK, &tt, &old);
    (void)tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    (void)sigprocmask(SIG_SETMASK, &old, NULL);
}

void keys_stop(keys *k)
{
    keys_restore();
    taken = 0;
    k->on = 0;
}

static const char *rate_message(int64_t limit)
{
    static char msg[64];
    if (limit >= 1 << 20)
        snprintf(msg, sizeof msg, "rate limit %.1f MiB/s",
                 (double)limit / (1 << 20));
    else
        snprintf(msg, sizeof msg, "rate limit %.0f KiB/s",
                 (double)limit / 1024);
    return msg;
}

const char *keys_poll(keys *k, sg_download *dl, const sg_progress *p)
{
    char buf[16];
    const char *msg = NULL;
    ssize_t n;
    /* Never wait for a key: read only what poll() says is there (a
     * terminal back in canonical mode would otherwise block until a whole
     * line is typed). */
    struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
    while (k->on && foreground() && poll(&pfd, 1, 0) == 1 &&
           (pfd.revents & POLLIN) &&
           (n = read(STDIN_FILENO, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            switch (buf[i]) {
            case 'p':
                sg_download_pause(dl, 1);
                msg = "paused; press c or Enter to continue";
                break;
            case 'c':
            case '\n':
            case '\r':
                if (p->state == SG_STATE_PAUSED) {
                    sg_download_pause(dl, 0);
                    msg = "continuing";
                }
                break;
            case '+':
                if (k->limit > 0) {
                    k->limit = k->limit >= MAX_LIMIT / 2 ? MAX_LIMIT
                                                         : k->limit * 2;
                    sg_download_set_rate(dl, k->limit);
                    msg = rate_message(k->limit);
                }
                break;
            case '-': {
                /* Not under 128 KiB/s: at 64 connections that is still
                 * 2 KiB/s each, above the 1 KiB/s stall floor. */
                int64_t base = k->limit > 0 ? k->limit : (int64_t)p->rate;
                k->limit = base / 2 > MIN_LIMIT ? base / 2 : MIN_LIMIT;
                sg_download_set_rate(dl, k->limit);
                msg = rate_message(k->limit);
                break;
            }
            default:
                break;
            }
        }
    }
    return msg;
}
