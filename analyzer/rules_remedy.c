/* rules_remedy.c — the rule about what safe mode changed (the runtime's
 * probes/safe.c): remedied, one note per remedy a fork child's trace
 * records, saying what was done, where, and what risk remains.
 *
 * DESIGN
 * A remedy is a fact the runtime made true, not a guess: the note is
 * written from the REMEDY record alone, with the locations the record
 * names (where the child met the hazard, where the lock was taken or the
 * epoll instance created, the fork).  The fingerprint is the rule and
 * those sites, so a pre-fork server whose thousand children each get the
 * same remedy shows one note with a count.
 */
#include <stdlib.h>

#include "finding.h"
#include "rules.h"

static const char *lock_words(uint16_t type)
{
    switch (type) {
    case FSAN_LOCK_MUTEX: return "mutex";
    case FSAN_LOCK_RWLOCK: return "rwlock";
    case FSAN_LOCK_SEM: return "semaphore";
    default: return "lock";
    }
}

static const char *skip_words(uint32_t reason)
{
    switch (reason) {
    case FSAN_RMR_UNMAPPED: return "the lock's memory is no longer mapped, so it was not touched";
    case FSAN_RMR_STREAM_BUSY: return "a stdio stream with unflushed output was locked by a thread at the fork, so it was not flushed (its bytes may be written twice)";
    case FSAN_RMR_EPOLL_FULL: return "the epoll instance had more registrations than the runtime tracks, so the child still shares the parent's";
    case FSAN_RMR_EPOLL_FAILED: return "the child's own copy of the epoll instance could not be made, so the child still shares the parent's";
    case FSAN_RMR_DESTROYED: return "a semaphore another thread held was destroyed while safe mode waited for it before the fork, so it was left alone";
    case FSAN_RMR_SIGNAL_HANDLER: return "the fork was made in a signal handler, where the program may have been stopped holding any lock or buffer: safe mode remedied nothing for this child (it still ends rather than hang on a lock it cannot get)";
    default: return "no reason recorded";
    }
}

static char *remedy_message(struct fsan_builder *c, const struct fsan_trace *t, const struct fsan_rec_remedy *r)
{
    const char *lock = lock_words(r->lock_type);
    char *holder = r->holder_tid ? thread_label(c, t, r->holder_tid) : NULL;
    char *msg = NULL;
    switch (r->kind) {
    case FSAN_REMEDY_FLUSH:
        msg = xprintf(c, "safe mode flushed %llu unflushed byte%s of the stdio stream on fd %lld before the fork, so the child will not write them again; "
                      "output the program buffers in its own layers (a language runtime's buffers) is not flushed",
                      (unsigned long long)r->amount, r->amount == 1 ? "" : "s", (long long)(int64_t)r->object);
        break;
    case FSAN_REMEDY_QUIESCE:
        msg = xprintf(c, "safe mode waited %llu us before the fork for %s to release %s 0x%llx, took it across the fork and released it in parent and child, "
                      "so the child found it free; the parent's thread was held up for that long",
                      (unsigned long long)r->amount, holder ? holder : "another thread", lock, (unsigned long long)r->object);
        break;
    case FSAN_REMEDY_REINIT:
        msg = xprintf(c, "safe mode re-initialised %s 0x%llx, held at fork by %s which does not exist in the child, when the child took it, instead of letting the child block forever; "
                      "the data it protected may be half-updated in the child",
                      lock, (unsigned long long)r->object, holder ? holder : "a thread");
        break;
    case FSAN_REMEDY_ADOPT:
        msg = xprintf(c, "safe mode made the child's thread the owner of %s 0x%llx, which the forking thread held at fork, so the child can lock it again and unlock it as the parent's thread could",
                      lock, (unsigned long long)r->object);
        break;
    case FSAN_REMEDY_EPOLL:
        msg = xprintf(c, "safe mode gave the child its own epoll instance in place of the parent's on fd %lld, with the same %llu registration%s, before the child's first use, "
                      "so the child no longer edits the parent's interest list or steals its events; the descriptors registered are still shared with the parent",
                      (long long)(int64_t)r->object, (unsigned long long)r->amount, r->amount == 1 ? "" : "s");
        break;
    default:
        msg = xprintf(c, "safe mode could not remedy a hazard: %s", skip_words(r->reason));
        break;
    }
    free(holder);
    return msg;
}

static void remedy_locations(struct fsan_builder *c, struct fsan_finding *f, const struct fsan_trace *t,
                             const struct fsan_rec_remedy *r)
{
    int lock = r->kind == FSAN_REMEDY_QUIESCE || r->kind == FSAN_REMEDY_REINIT || r->kind == FSAN_REMEDY_ADOPT;
    if (r->site || r->pysite) {
        enum fsan_role role = r->kind == FSAN_REMEDY_EPOLL ? FSAN_ROLE_USE : FSAN_ROLE_ATTEMPT;
        loop_location(c, f, t, role, r->tid, r->site, r->pysite,
                      xstrdup(c, role == FSAN_ROLE_USE ? "the child first used it at:" : "the child took it at:"));
    }
    if (r->acquire_site || (lock && python_stack(t, FSAN_PYREF_HELD, r->object))) {
        struct fsan_location *loc =
            site_location(c, f, t, r->kind == FSAN_REMEDY_EPOLL ? FSAN_ROLE_CREATED : FSAN_ROLE_ACQUIRED,
                          lock ? r->holder_tid : 0, r->acquire_site,
                          xstrdup(c, r->kind == FSAN_REMEDY_EPOLL ? "the epoll instance was created at:"
                                                                  : "the lock was taken in the parent at:"));
        if (lock)
            finish_location(c, loc, t, FSAN_PYREF_HELD, r->object, 0);
    }
    fork_location(c, f, t);
}

void fsan_rules_remedy(struct fsan_builder *c, const struct fsan_trace_set *set, const struct fsan_trace *t)
{
    (void)set;
    for (size_t i = 0; i < t->nremedies; i++) {
        const struct fsan_rec_remedy *r = &t->remedies[i];
        struct fsan_finding f;
        start_finding(&f, FSAN_RULE_REMEDIED, FSAN_SEV_NOTE, remedy_message(c, t, r));
        remedy_locations(c, &f, t, r);
        commit_finding(c, &f, t);
    }
}
