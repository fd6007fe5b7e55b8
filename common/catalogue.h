/* catalogue.h — lookup in the rule catalogue (rules.def). */
#ifndef FSAN_CATALOGUE_H
#define FSAN_CATALOGUE_H

#include "model.h"

struct fsan_rule_info {
    const char *id;
    enum fsan_severity default_severity;
    const char *title;       /* one line */
    const char *explanation; /* what the hazard is and why it happens */
    const char *fix_c;       /* how to fix it in C */
    const char *fix_python;  /* how to fix it in Python */
    const char *example;     /* a minimal program that has it (C or Python) */
};

#define FSAN_RULE(id, cname, sev, title, expl, fix_c, fix_py, example) FSAN_RULE_##cname,
enum fsan_rule_index {
#include "rules.def"
    FSAN_RULE_COUNT
};
#undef FSAN_RULE

const struct fsan_rule_info *fsan_rule_info(enum fsan_rule_index i);
const struct fsan_rule_info *fsan_rule_find(const char *id); /* NULL if unknown */

#endif
