/* render.h — the report renderers, one per format (text, JSON, SARIF,
 * HTML).  Each takes the finished report model (common/model.h) and
 * writes it; none changes it.  Return 0 or a negative errno. */
#ifndef FSAN_RENDER_H
#define FSAN_RENDER_H

#include <stdio.h>

#include "model.h"

/* Text report options. */
struct fsan_text_options {
    int color; /* ANSI colour */
    int tree;  /* also print the process tree */
};

int fsan_render_text(FILE *out, const struct fsan_report *r, int forksan_pid);
int fsan_render_text_opts(FILE *out, const struct fsan_report *r, int forksan_pid,
                          const struct fsan_text_options *opts);
int fsan_render_json(FILE *out, const struct fsan_report *r);
int fsan_render_sarif(FILE *out, const struct fsan_report *r);
int fsan_render_html(FILE *out, const struct fsan_report *r);

#endif
