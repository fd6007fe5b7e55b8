/* heldlocks.c — which locks each thread holds, right now.
 *
 * Every thread owns a small stack of held-lock entries in its slot of the
 * thread table.  Acquiring pushes (or deepens an entry for a recursive hold),
 * releasing pops.  At fork the child reads every slot: the frozen copy of the
 * parent's memory says exactly which locks each thread held at the instant
 * of fork.
 *
 * DESIGN
 * No global lock: only the owning thread pushes and trims its stack, and it
 * publishes a push by storing held_count with release order after the entry
 * is written.  One exception keeps semaphores honest: a semaphore is
 * released (sem_post) by whichever thread likes — CPython's Condition wakes
 * a waiter by releasing a lock the waiter took — so a post by a thread that
 * does not hold it clears the holder's entry remotely, with a
 * compare-and-swap on the entry's address (never touching held_count).  The
 * owner trims cleared entries lazily.  A full stack counts the overflow and
 * forgets the hold: a missed hold can only hide a finding, never invent one.
 *
 * The slots above the top are kept plain (struct fsan__held in fsan.h): a
 * slot claimed for a thread starts plain, and whatever drops slots from the
 * top (a pop, a trim) clears them.  The uncontended mutex then costs two
 * stores to push and one compare of the top to pop (locks.c).
 */
#include "fsan.h"

static struct fsan__held *find_entry(struct fsan__thread *t, uintptr_t addr, uint32_t count)
{
    for (uint32_t i = count; i-- > 0;)
        if (atomic_load_explicit(&t->held[i].addr, memory_order_relaxed) == addr)
            return &t->held[i];
    return NULL;
}

struct fsan__held *fsan__held_find(struct fsan__thread *t, uintptr_t addr)
{
    return find_entry(t, addr, atomic_load_explicit(&t->held_count, memory_order_acquire));
}

void fsan__held_trim(struct fsan__thread *t)
{
    uint32_t count = atomic_load_explicit(&t->held_count, memory_order_relaxed);
    while (count > 0 && atomic_load_explicit(&t->held[count - 1].addr, memory_order_relaxed) == 0)
        fsan__held_clear(&t->held[--count]);
    atomic_store_explicit(&t->held_count, count, memory_order_release);
}

void fsan__held_push(struct fsan__thread *t, uintptr_t addr, uint16_t type, uint16_t mode,
                     uint32_t kind, uint32_t site)
{
    uint32_t count = atomic_load_explicit(&t->held_count, memory_order_relaxed);
    /* Recursive mutexes, read locks and counting semaphores can be held
     * more than once by one thread: deepen the existing entry. */
    if (type != FSAN_LOCK_MUTEX || (kind & FSAN_KIND_TYPE_MASK) == FSAN_KIND_RECURSIVE) {
        struct fsan__held *e = find_entry(t, addr, count);
        if (e) {
            e->depth++;
            return;
        }
    }
    if (count == FSAN_MAX_HELD) {
        fsan__held_trim(t);
        count = atomic_load_explicit(&t->held_count, memory_order_relaxed);
        if (count == FSAN_MAX_HELD) {
            t->held_overflow++;
            return;
        }
    }
    fsan__held_append(t, count, addr, type, mode, kind, site);
}

/* Returns 1 when the thread held addr (one level of it is now released). */
int fsan__held_pop(struct fsan__thread *t, uintptr_t addr)
{
    uint32_t count = atomic_load_explicit(&t->held_count, memory_order_relaxed);
    struct fsan__held *e = find_entry(t, addr, count);
    if (!e)
        return 0;
    if (e->depth > 1) {
        e->depth--;
        return 1;
    }
    int mine = 1;
    if (e->type == FSAN_LOCK_SEM) { /* may race with a remote release */
        uintptr_t expected = addr;
        mine = atomic_compare_exchange_strong(&e->addr, &expected, 0);
    } else {
        atomic_store_explicit(&e->addr, 0, memory_order_relaxed);
    }
    if (e == &t->held[count - 1] || !mine)
        fsan__held_trim(t);
    return mine;
}

/* A semaphore posted by a thread that does not hold it: release the hold
 * of whichever thread does.  Returns 1 when a holder was found. */
int fsan__held_pop_remote(uintptr_t addr)
{
    uint32_t hwm = atomic_load_explicit(&fsan__threads_hwm, memory_order_acquire);
    for (uint32_t i = 0; i < hwm; i++) {
        struct fsan__thread *t = &fsan__threads[i];
        if (atomic_load_explicit(&t->state, memory_order_relaxed) != FSAN_SLOT_LIVE)
            continue;
        uint32_t count = atomic_load_explicit(&t->held_count, memory_order_acquire);
        for (uint32_t j = 0; j < count; j++) {
            uintptr_t expected = addr;
            if (atomic_compare_exchange_strong(&t->held[j].addr, &expected, 0))
                return 1;
        }
    }
    return 0;
}

void fsan__held_reset(struct fsan__thread *t)
{
    atomic_store_explicit(&t->held_count, 0, memory_order_release);
    t->held_overflow = 0;
}

/* Not at every reset: a fork child resets the slot of every thread that
 * vanished, and each page it writes there is a copy-on-write fault.  A
 * slot is cleared once, when a thread claims it. */
void fsan__held_init(struct fsan__thread *t)
{
    fsan__held_reset(t);
    for (uint32_t i = 0; i < FSAN_MAX_HELD; i++)
        fsan__held_clear(&t->held[i]);
}
