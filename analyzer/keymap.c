/* keymap.c — see keymap.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keymap.h"

static size_t slot_of(const struct fsan_keymap *m, uint64_t key)
{
    size_t i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 17) & (m->cap - 1);
    while (m->slots[i].used && m->slots[i].key != key)
        i = (i + 1) & (m->cap - 1);
    return i;
}

int fsan_keymap_get(const struct fsan_keymap *m, uint64_t key, uint64_t *value)
{
    if (!m->cap)
        return 0;
    const struct fsan_keyslot *s = &m->slots[slot_of(m, key)];
    if (s->used && value)
        *value = s->value;
    return s->used;
}

/* Sets key to value.  0, or -ENOMEM (the map is unchanged). */
int fsan_keymap_put(struct fsan_keymap *m, uint64_t key, uint64_t value)
{
    if ((m->n + 1) * 4 > m->cap * 3) { /* keep it at most 3/4 full */
        struct fsan_keymap grown = {calloc(m->cap ? m->cap * 2 : 64, sizeof *grown.slots), m->cap ? m->cap * 2 : 64, 0};
        if (!grown.slots)
            return -ENOMEM;
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots[i].used)
                grown.slots[slot_of(&grown, m->slots[i].key)] = m->slots[i];
        grown.n = m->n;
        free(m->slots);
        *m = grown;
    }
    struct fsan_keyslot *s = &m->slots[slot_of(m, key)];
    m->n += !s->used;
    *s = (struct fsan_keyslot){key, value, 1};
    return 0;
}

void fsan_keymap_free(struct fsan_keymap *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}

