/* rules_loops.c — the rules about event loops a fork child inherits (the
 * runtime's probes/loops.c): shared-loop, when the child uses the parent's
 * epoll instance, which is one kernel object shared by both, and
 * stranded-loop, when it wakes or waits on a loop whose driving thread
 * did not survive the fork.
 */
#include <stdlib.h>

#include "finding.h"
#include "rules.h"

static const struct fsan_rec_loop_use *first_use(const struct fsan_trace *t, int32_t epfd, uint32_t kind)
{
    for (size_t i = 0; i < t->nloop_uses; i++)
        if (t->loop_uses[i].epfd == epfd && t->loop_uses[i].kind == kind)
            return &t->loop_uses[i];
    return NULL;
}

static void loop_common_locations(struct fsan_builder *c, struct fsan_finding *f, const struct fsan_trace *t,
                                  const struct fsan_trace_loop *l)
{
    char *creator = thread_label(c, t, l->rec.creator_tid);
    loop_location(c, f, t, FSAN_ROLE_CREATED, l->rec.creator_tid, l->rec.create_site, l->rec.create_pysite,
                  xprintf(c, "the epoll instance (fd %d) was created by %s at:", l->rec.epfd, creator ? creator : "a thread"));
    free(creator);
    if (l->rec.flags & FSAN_LOOP_DRIVER_VANISHED) {
        const struct fsan_rec_thread *th = thread_by_tid(t, l->rec.driver_tid);
        if (th)
            thread_location(c, f, t, th);
    }
    fork_location(c, f, t);
}

static const char *use_words(uint32_t kind)
{
    switch (kind) {
    case FSAN_LOOPUSE_CTL: return "changes the parent's interest list (epoll_ctl) at:";
    case FSAN_LOOPUSE_WAIT: return "waits on the parent's epoll instance at:";
    default: return "wakes the loop (writes to its wake-up descriptor) at:";
    }
}

void fsan_rules_loops(struct fsan_builder *c, const struct fsan_trace_set *set, const struct fsan_trace *t)
{
    if (t->proc.kind != FSAN_PROC_FORK)
        return;
    if (child_execed(set, t))
        return;
    for (size_t i = 0; i < t->nloops; i++) {
        const struct fsan_trace_loop *l = &t->loops[i];
        int stranded = (l->rec.flags & FSAN_LOOP_DRIVER_VANISHED) != 0;
        const struct fsan_rec_loop_use *uses[] = {first_use(t, l->rec.epfd, FSAN_LOOPUSE_CTL),
                                                  first_use(t, l->rec.epfd, FSAN_LOOPUSE_WAIT),
                                                  first_use(t, l->rec.epfd, FSAN_LOOPUSE_WAKE)};
        for (int k = 0; k < 2; k++) { /* shared-loop: the kernel object is the parent's */
            if (!uses[k])
                continue;
            struct fsan_finding f;
            start_finding(&f, FSAN_RULE_SHARED_LOOP, FSAN_SEV_ERROR,
                          xprintf(c, "the forked child %s epoll instance fd %d, which is the parent's own kernel object: %s",
                                  k == 0 ? "edits the interest list of" : "waits on", l->rec.epfd,
                                  k == 0 ? "the parent's loop now watches (or stops watching) what the child says"
                                         : "the child steals events meant for the parent"));
            loop_location(c, &f, t, FSAN_ROLE_USE, uses[k]->tid, uses[k]->site, uses[k]->pysite,
                          xprintf(c, "the child %s", use_words(uses[k]->kind)));
            loop_common_locations(c, &f, t, l);
            commit_finding(c, &f, t);
        }
        if (!stranded)
            continue;
        const struct fsan_rec_loop_use *use = uses[2] ? uses[2] : uses[1];
        /* A loop the child never wakes or waits on costs it nothing: the
         * child that builds its own loop (closing the old one or not) is
         * the correct pattern, and threads-at-fork already names the
         * vanished driver. */
        if (!use)
            continue;
        struct fsan_finding f;
        char *driver = thread_label(c, t, l->rec.driver_tid);
        start_finding(&f, FSAN_RULE_STRANDED_LOOP, FSAN_SEV_ERROR,
                      xprintf(c, "the forked child %s the event loop on epoll fd %d, whose driving %s does not exist in the child: nobody will ever run what it asks",
                              use->kind == FSAN_LOOPUSE_WAKE ? "wakes" : "waits on", l->rec.epfd, driver ? driver : "thread"));
        free(driver);
        loop_location(c, &f, t, FSAN_ROLE_USE, use->tid, use->site, use->pysite, xprintf(c, "the child %s", use_words(use->kind)));
        loop_common_locations(c, &f, t, l);
        commit_finding(c, &f, t);
    }
}
