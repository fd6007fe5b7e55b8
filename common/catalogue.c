/* catalogue.c — the rule catalogue as data, read by every renderer and by
 * `forksan explain`.  The rules themselves live in rules.def. */
#include <string.h>

#include "catalogue.h"

#define FSAN_RULE(id, cname, sev, title, expl, fix_c, fix_py, example) {id, sev, title, expl, fix_c, fix_py, example},
static const struct fsan_rule_info rules[] = {
#include "rules.def"
};
#undef FSAN_RULE

const struct fsan_rule_info *fsan_rule_info(enum fsan_rule_index i)
{
    return (unsigned)i < FSAN_RULE_COUNT ? &rules[i] : NULL;
}

const struct fsan_rule_info *fsan_rule_find(const char *id)
{
    for (size_t i = 0; i < FSAN_RULE_COUNT; i++)
        if (strcmp(rules[i].id, id) == 0)
            return &rules[i];
    return NULL;
}
