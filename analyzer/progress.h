/* progress.h — "forksan: reading traces: 41000 of 100000" on stderr while
 * a long report is made, so that a person at a terminal knows it is
 * working.  Only when stderr is a terminal and only once a phase has run
 * for a second: short reports, pipelines and CI logs never see it.  The
 * line is erased before anything else is printed. */
#ifndef FSAN_PROGRESS_H
#define FSAN_PROGRESS_H

#include <stddef.h>

/* A phase of total steps, named by what ("reading traces"). */
void fsan_progress_start(const char *what, size_t total);
/* done steps of the phase are finished. */
void fsan_progress_step(size_t done);
/* The phase is over: erases the line if one was shown. */
void fsan_progress_end(void);

#endif
