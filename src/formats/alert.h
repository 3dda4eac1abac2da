/*
 * alert.h — the common alert format every source is normalized into.
 * Documented for users in docs/ALERT_FORMAT.md; keep the two in step.
 *
 * An alert borrows: every kb_str points either into the raw event (which the
 * caller owns) or into the arena the normalizer was given. An alert lives as
 * long as both. Missing fields are normal: they are KB_STR_NULL.
 */
#ifndef KOBAN_ALERT_H
#define KOBAN_ALERT_H

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/jsonw.h"
#include "lib/kb.h"

/* The five severities; ordered, so comparisons work. */
enum kb_severity {
    KB_SEV_NONE = 0,
    KB_SEV_LOW = 1,
    KB_SEV_MEDIUM = 2,
    KB_SEV_HIGH = 3,
    KB_SEV_CRITICAL = 4,
};
#define KB_SEV_COUNT 5

/* "none", "low", "medium", "high", "critical"; "?" out of range. */
const char *kb_severity_name(int sev);
/* Parses a severity name (case-insensitive). KB_EINVAL when unknown. */
kb_err kb_severity_parse(const char *s, int *out);

#define ALERT_MAX_FIELDS 32

/* A source-specific extracted field (e.g. sshd "src_port"). */
struct alert_field {
    const char *name; /* static string or arena */
    struct kb_str value;
};

struct alert {
    const char *source;           /* format name ("guardduty"), static */
    struct kb_str kind;           /* category: GuardDuty type, SCC category,
                                     CloudTrail "eventSource:eventName", ... */
    struct kb_str native_id;      /* the source's own id for the event/finding */
    int64_t time_ms;              /* event time (ms since epoch); 0 = unknown */
    struct kb_str title;          /* one line a human reads first */
    struct kb_str description;    /* longer text when the source has one */
    struct kb_str native_severity;/* as the source wrote it ("8.0", "HIGH") */
    int severity;                 /* koban severity (enum kb_severity) */
    struct kb_str account;        /* AWS account id / GCP project */
    struct kb_str region;         /* cloud region or zone */
    struct kb_str resource;       /* the affected resource (ARN, name, path) */
    struct kb_str actor_user;     /* who did it (principal, user name) */
    struct kb_str actor_ip;       /* from where */
    struct kb_str host;           /* host/agent name for host sources */
    struct kb_str outcome;        /* "success" / "failure" when known */
    struct kb_str state;          /* native lifecycle: SCC ACTIVE/INACTIVE,
                                     Alertmanager firing/resolved */
    struct alert_field fields[ALERT_MAX_FIELDS];
    uint32_t nfields;
    struct kb_str raw;            /* the original event, verbatim */
    const struct json_value *json;/* the parsed original (NULL for text) */
    const char *const *identity;  /* names (see alert_get) whose values form
                                     the issue identity; NULL-terminated */
};

/* Zeroes *a and sets source and identity. */
void alert_init(struct alert *a, const char *source, const char *const *identity);

/* Adds an extracted field. KB_ETOOBIG past ALERT_MAX_FIELDS. Empty values
 * are skipped (KB_OK). */
kb_err alert_add_field(struct alert *a, const char *name, struct kb_str value);

/* Returns a field by its normalized name: "source", "kind", "native_id",
 * "title", "description", "native_severity", "severity", "account",
 * "region", "resource", "actor.user", "actor.ip", "host", "outcome",
 * "state", or an extracted field's name. KB_STR_NULL when absent. */
struct kb_str alert_get(const struct alert *a, const char *name);

/* Writes the alert as one JSON object (the documented format), including
 * "raw" (the original JSON verbatim, or a string for text events). */
void alert_write_json(const struct alert *a, struct jw *w);

#endif
