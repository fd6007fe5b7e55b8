/* rules.h — the rule families, one file each (rules_*.c, mirroring the
 * runtime's probes/), and the one table of them that the driver in
 * rules.c runs over every trace. */
#ifndef FSAN_RULES_H
#define FSAN_RULES_H

#include "finding.h"

/* A family looks at one trace (in the context of the whole set) and
 * commits what it finds through the finding builder.  It decides itself
 * which traces concern it (most look at fork children only). */
typedef void fsan_rule_family(struct fsan_builder *c, const struct fsan_trace_set *set, const struct fsan_trace *t);

fsan_rule_family fsan_rules_locks;    /* child-deadlock, orphaned-lock, inherited-held-lock, threads-at-fork */
fsan_rule_family fsan_rules_loops;    /* shared-loop, stranded-loop */
fsan_rule_family fsan_rules_exit;     /* stdio-duplicate, duplicated-cleanup, skipped-cleanup, cow-amplification */
fsan_rule_family fsan_rules_pidcheck; /* cleared-cache */
fsan_rule_family fsan_rules_foreign;  /* foreign-handle */
fsan_rule_family fsan_rules_remedy;   /* remedied */

#endif
