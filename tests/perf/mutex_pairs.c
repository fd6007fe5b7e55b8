/* mutex_pairs.c N — N uncontended pthread_mutex_lock + unlock pairs on one
 * normal mutex, from one call site each: what lockpath_instructions.py
 * counts under callgrind, bare and under the runtime. */
#include <pthread.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&m);
        pthread_mutex_unlock(&m);
    }
    return 0;
}
