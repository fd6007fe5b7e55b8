/* catalogue.h — lookup in the rule catalogue (rules.def). */
#ifndef FSAN_CATALOGUE_H
#define FSAN_CATALOGUE_H

#include "model.h"

struct fsan_rule_info {
    const char *id;
    enum fsan_severity default_severity;
    const char *title;
    const char *explanation;
};

#define FSAN_RULE(id, cname, sev, title, expl) FSAN_RULE_##cname,
enum fsan_rule_index {
#include "rules.def"
    FSAN_RULE_COUNT
};
#undef FSAN_RULE

const struct fsan_rule_info *fsan_rule_info(enum fsan_rule_index i);
const struct fsan_rule_info *fsan_rule_find(const char *id); /* NULL if unknown */

#endif
