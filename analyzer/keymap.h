/* keymap.h — a map from 64-bit keys to 64-bit values (open addressing,
 * linear probing): how the analyzer finds what it already has — a
 * finding by its fingerprint, a process already counted, an address
 * space text already read — without a scan per question.  A zeroed struct
 * is an empty map. */
#ifndef FSAN_KEYMAP_H
#define FSAN_KEYMAP_H

#include <stddef.h>
#include <stdint.h>

struct fsan_keyslot {
    uint64_t key, value;
    int used;
};

struct fsan_keymap {
    struct fsan_keyslot *slots;
    size_t cap, n; /* cap is 0 or a power of two */
};

/* 1 when key is in the map (*value, when not NULL, is its value), else 0. */
int fsan_keymap_get(const struct fsan_keymap *m, uint64_t key, uint64_t *value);
/* Sets key to value.  0, or -ENOMEM (the map is unchanged). */
int fsan_keymap_put(struct fsan_keymap *m, uint64_t key, uint64_t value);
void fsan_keymap_free(struct fsan_keymap *m);

#endif
