/* test_heldlocks.c — the per-thread held-lock stacks (probes/heldlocks.c):
 * what the fork snapshot believes each thread holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fsan.h"

/* heldlocks.c scans the thread table for remote releases. */
struct fsan__thread fsan__threads[FSAN_MAX_THREADS];
_Atomic uint32_t fsan__threads_hwm;

static int setup(void **state)
{
    memset(fsan__threads, 0, sizeof fsan__threads);
    fsan__threads_hwm = 2;
    fsan__threads[0].state = FSAN_SLOT_LIVE;
    fsan__threads[1].state = FSAN_SLOT_LIVE;
    return 0;
}

static uint32_t count(struct fsan__thread *t)
{
    return atomic_load(&t->held_count);
}

static void test_heldlocks_push_pop(void **state)
{
    struct fsan__thread *t = &fsan__threads[0];
    fsan__held_push(t, 0x100, FSAN_LOCK_MUTEX, FSAN_MODE_EXCL, FSAN_KIND_NORMAL, 7);
    fsan__held_push(t, 0x200, FSAN_LOCK_MUTEX, FSAN_MODE_EXCL, FSAN_KIND_NORMAL, 8);
    assert_int_equal(count(t), 2);
    assert_int_equal(fsan__held_find(t, 0x100)->site, 7);
    assert_int_equal(t->last_site, 8);
    assert_int_equal(fsan__held_pop(t, 0x200), 1);
    assert_int_equal(count(t), 1);
    assert_null(fsan__held_find(t, 0x200));
    assert_int_equal(fsan__held_pop(t, 0x100), 1);
    assert_int_equal(count(t), 0);
}

static void test_heldlocks_pop_unknown_is_harmless(void **state)
{
    struct fsan__thread *t = &fsan__threads[0];
    fsan__held_push(t, 0x100, FSAN_LOCK_MUTEX, FSAN_MODE_EXCL, 0, 1);
    assert_int_equal(fsan__held_pop(t, 0x999), 0);
    assert_int_equal(count(t), 1);
}

static void test_heldlocks_out_of_order_release(void **state)
{
    struct fsan__thread *t = &fsan__threads[0];
    fsan__held_push(t, 0x100, FSAN_LOCK_MUTEX, FSAN_MODE_EXCL, 0, 1);
    fsan__held_push(t, 0x200, FSAN_LOCK_MUTEX, FSAN_MODE_EXCL, 0, 2);
    fsan__held_push(t, 0x300, FSAN_LOCK_MUTEX, FSAN_MODE_EXCL, 0, 3);
    assert_int_equal(fsan__held_pop(t, 0x100), 1); /* a hole at the bottom */
    assert_null(fsan__held_find(t, 0x100));
    assert_non_null(fsan__held_find(t, 0x300));
    assert_int_equal(fsan__held_pop(t, 0x300), 1);
    assert_int_equal(fsan__held_pop(t, 0x200), 1);
    assert_int_equal(count(t), 0); /* holes are trimmed */
}

static void test_heldlocks_recursive_depth(void **state)
{
    struct fsan__thread *t = &fsan__threads[0];
    fsan__held_push(t, 0x100, FSAN_LOCK_MUTEX, FSAN_MODE_EXCL, FSAN_KIND_RECURSIVE, 1);
    fsan__held_push(t, 0x100, FSAN_LOCK_MUTEX, FSAN_MODE_EXCL, FSAN_KIND_RECURSIVE, 2);
    assert_int_equal(count(t), 1);
    assert_int_equal(fsan__held_find(t, 0x100)->depth, 2);
    assert_int_equal(fsan__held_find(t, 0x100)->site, 1); /* the first acquisition */
    fsan__held_pop(t, 0x100);
    assert_non_null(fsan__held_find(t, 0x100)); /* still held once */
    fsan__held_pop(t, 0x100);
    assert_null(fsan__held_find(t, 0x100));
}

static void test_heldlocks_read_locks_deepen(void **state)
{
    struct fsan__thread *t = &fsan__threads[0];
    fsan__held_push(t, 0x100, FSAN_LOCK_RWLOCK, FSAN_MODE_READ, 0, 1);
    fsan__held_push(t, 0x100, FSAN_LOCK_RWLOCK, FSAN_MODE_READ, 0, 1);
    assert_int_equal(count(t), 1);
    assert_int_equal(fsan__held_find(t, 0x100)->depth, 2);
}

static void test_heldlocks_overflow_counted(void **state)
{
    struct fsan__thread *t = &fsan__threads[0];
    for (uintptr_t i = 0; i < FSAN_MAX_HELD + 5; i++)
        fsan__held_push(t, 0x1000 + i * 8, FSAN_LOCK_MUTEX, FSAN_MODE_EXCL, 0, 1);
    assert_int_equal(count(t), FSAN_MAX_HELD);
    assert_int_equal(t->held_overflow, 5);
    assert_null(fsan__held_find(t, 0x1000 + (FSAN_MAX_HELD + 1) * 8)); /* forgotten, not invented */
}

/* A semaphore taken by one thread and posted by another (CPython's
 * Condition does this) must not stay "held" by the first. */
static void test_heldlocks_remote_release(void **state)
{
    struct fsan__thread *waiter = &fsan__threads[0];
    fsan__held_push(waiter, 0x500, FSAN_LOCK_SEM, FSAN_MODE_EXCL, 0, 1);
    assert_int_equal(fsan__held_pop(&fsan__threads[1], 0x500), 0);
    assert_int_equal(fsan__held_pop_remote(0x500), 1);
    assert_null(fsan__held_find(waiter, 0x500));
    assert_int_equal(fsan__held_pop_remote(0x500), 0);
    /* The owner's stack recovers: the cleared entry is trimmed on the next pop. */
    fsan__held_push(waiter, 0x600, FSAN_LOCK_SEM, FSAN_MODE_EXCL, 0, 1);
    fsan__held_pop(waiter, 0x600);
    assert_int_equal(count(waiter), 0);
}

static void test_heldlocks_remote_release_skips_free_slots(void **state)
{
    struct fsan__thread *t = &fsan__threads[1];
    fsan__held_push(t, 0x700, FSAN_LOCK_SEM, FSAN_MODE_EXCL, 0, 1);
    t->state = FSAN_SLOT_FREE;
    assert_int_equal(fsan__held_pop_remote(0x700), 0);
}

/* A server's pattern (Redis's main thread): a lock held for long at the
 * bottom, and above it locks released out of order through the inline
 * fast path.  The holes they leave must not pile up until the stack looks
 * full: 10,000 rounds leave only the long-held lock, and nothing is
 * counted as overflow. */
static void test_heldlocks_fast_pop_leaves_no_holes(void **state)
{
    struct fsan__thread *t = &fsan__threads[0];
    fsan__held_push_fast(t, 0x100, FSAN_LOCK_MUTEX, FSAN_MODE_EXCL, 0, 1);
    for (int i = 0; i < 10000; i++) {
        fsan__held_push_fast(t, 0x200, FSAN_LOCK_MUTEX, FSAN_MODE_EXCL, 0, 2);
        fsan__held_push_fast(t, 0x300, FSAN_LOCK_MUTEX, FSAN_MODE_EXCL, 0, 3);
        assert_int_equal(fsan__held_pop_fast(t, 0x200), 1); /* not the top: a hole */
        fsan__held_push_fast(t, 0x400, FSAN_LOCK_MUTEX, FSAN_MODE_EXCL, 0, 4);
        assert_int_equal(fsan__held_pop_fast(t, 0x400), 1);
        assert_int_equal(fsan__held_pop_fast(t, 0x300), 1);
    }
    assert_int_equal(count(t), 1);
    assert_int_equal(t->held_overflow, 0);
    assert_non_null(fsan__held_find(t, 0x100));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_heldlocks_push_pop, setup),
        cmocka_unit_test_setup(test_heldlocks_pop_unknown_is_harmless, setup),
        cmocka_unit_test_setup(test_heldlocks_out_of_order_release, setup),
        cmocka_unit_test_setup(test_heldlocks_fast_pop_leaves_no_holes, setup),
        cmocka_unit_test_setup(test_heldlocks_recursive_depth, setup),
        cmocka_unit_test_setup(test_heldlocks_read_locks_deepen, setup),
        cmocka_unit_test_setup(test_heldlocks_overflow_counted, setup),
        cmocka_unit_test_setup(test_heldlocks_remote_release, setup),
        cmocka_unit_test_setup(test_heldlocks_remote_release_skips_free_slots, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
