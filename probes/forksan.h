/* forksan.h — the public C API of the forksan runtime.
 *
 * Every function is declared weak: a program or library that calls them
 * links and runs without the runtime, and can test for its presence:
 *
 *     if (forksan_is_active && forksan_is_active()) ...
 *
 * The runtime (libforksan.so, loaded with LD_PRELOAD or `forksan run`)
 * provides the definitions.
 */
#ifndef FORKSAN_H
#define FORKSAN_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when the runtime is loaded and watching this process. */
int forksan_is_active(void) __attribute__((weak));

/* The runtime's version string, e.g. "0.1.0". */
const char *forksan_version(void) __attribute__((weak));

/* A library that keeps state per process (keyed by getpid()) and has just
 * thrown away, in a forked child, what the parent built — a connection
 * pool, an instance cache — says so; forksan reports it as cleared-cache
 * (warning) at the caller, naming `what`.  Call it as
 *     if (forksan_cache_dropped) forksan_cache_dropped("connection pool");
 */
void forksan_cache_dropped(const char *what) __attribute__((weak));

/* Declares, where it is built, a per-process cache that the library will
 * drop in forked children (and report with forksan_cache_dropped under the
 * same name): the report then also shows where the parent built it.
 *     if (forksan_cache_declare) forksan_cache_declare("connection pool");
 * Names are compared in full; the first 47 bytes are kept. */
void forksan_cache_declare(const char *what) __attribute__((weak));

/* fork() in safe mode, whatever FORKSAN_OPTIONS says: before the fork,
 * C stdio output is flushed and other threads' locks are quiesced (taken,
 * within safe_quiesce_ms, as they are released, and released again in
 * both processes); in the child, locks a vanished thread held are
 * re-initialised when taken, the forking thread's recursive mutexes are
 * handed to the child's thread, and inherited epoll instances are copied
 * before first use.  Each remedy is reported as a `remedied` note.
 * Without the runtime it does not exist: call it as
 *     pid_t pid = forksan_safe_fork ? forksan_safe_fork() : fork(); */
pid_t forksan_safe_fork(void) __attribute__((weak));

#ifdef __cplusplus
}
#endif

#endif
