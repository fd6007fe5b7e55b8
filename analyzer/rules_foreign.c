/* rules_foreign.c — the rule about synchronization objects a process
 * never had (the runtime's probes/foreign.c): foreign-handle, a semaphore
 * handle that came from another process across an exec.
 */

#include "finding.h"
#include "rules.h"

/* A semaphore this process never created, opened or inherited. */
void fsan_rules_foreign(struct fsan_builder *c, const struct fsan_trace_set *set, const struct fsan_trace *t)
{
    (void)set;
    for (size_t i = 0; i < t->nforeigns; i++) {
        const struct fsan_rec_foreign *r = &t->foreigns[i];
        struct fsan_finding f;
        start_finding(&f, FSAN_RULE_FOREIGN_HANDLE, FSAN_SEV_ERROR,
                      xprintf(c, "process %u uses semaphore 0x%llx, which it never created, opened or inherited: the handle came from another process across an exec%s",
                              t->proc.pid, (unsigned long long)r->addr,
                              (r->flags & FSAN_FOREIGN_UNMAPPED) ? "; the address is not mapped here, so the call crashes the process (SIGSEGV)" : ""));
        loop_location(c, &f, t, FSAN_ROLE_USE, r->tid, r->site, r->pysite, xprintf(c, "used at:"));
        commit_finding(c, &f, t);
    }
}
