/* progress.c — see progress.h.  One phase at a time: the analyzer is
 * single-threaded. */
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

#define SHOW_AFTER_NS 1000000000ull /* a phase shorter than this says nothing */
#define EVERY_NS 200000000ull       /* at most five updates a second */

static struct {
    const char *what;
    size_t total;
    uint64_t start, last;
    int tty, shown;
} phase;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void fsan_progress_start(const char *what, size_t total)
{
    phase.what = what;
    phase.total = total;
    phase.start = phase.last = now_ns();
    phase.tty = isatty(STDERR_FILENO);
    phase.shown = 0;
}

void fsan_progress_step(size_t done)
{
    /* Ask the clock once every 64 steps: a step can be a microsecond. */
    if (!phase.tty || (done & 63) != 0)
        return;
    uint64_t t = now_ns();
    if (t - phase.start < SHOW_AFTER_NS || (phase.shown && t - phase.last < EVERY_NS))
        return;
    phase.last = t;
    phase.shown = 1;
    fprintf(stderr, "\rforksan: %s: %zu of %zu", phase.what, done, phase.total);
    fflush(stderr);
}

void fsan_progress_end(void)
{
    if (phase.shown)
        fputs("\r\033[K", stderr);
    phase.shown = 0;
    phase.tty = 0;
}
