/*
 * rule_alert.h — the alert a Sigma rule match makes of a normalized alert,
 * the same in the pipeline, at intake and in `koban test`
 * (docs/DESIGN.md, "Rules and policies in the pipeline"): kind = the rule's
 * id (else name, else title), title = the rule's title, severity = its
 * level, identity = the format's identity names then `rule.id`, and the
 * field `rule.id` added.
 *
 * Ownership: nothing is allocated here; the derived alert borrows the
 * source alert's strings, the rule's (live as long as its ruleset) and the
 * caller's identity array.
 */
#ifndef KOBAN_RULE_ALERT_H
#define KOBAN_RULE_ALERT_H

#include "formats/alert.h"
#include "formats/format.h"
#include "rules/sigma.h"

/* The rule's id, else its name, else its title, else "?". */
const char *rule_alert_id(const struct sigma_rule *r);

/* Writes the identity names of rule alerts of format f (NULL: none of the
 * format's) into names: the format's names, "rule.id", then NULL. Returns
 * the number of slots needed including the NULL; writes nothing past cap. */
size_t rule_alert_identity(const struct format *f, const char **names, size_t cap);

/* *out = a as the detection of rule r, with identity (NULL: a's). */
void rule_alert_make(const struct alert *a, const struct sigma_rule *r,
                     const char *const *identity, struct alert *out);

#endif
