/*
 * route.h — the notification routing file: which receivers exist, which of
 * them an issue goes to, and the flood, reminder, escalation and ops
 * settings. The file's reference, with examples: docs/ROUTING.md.
 *
 *   koban_url: http://koban.internal:8478
 *   receivers:
 *     - {name: slack-sec, type: slack, token: ${SLACK_TOKEN}, channel: C0123}
 *     - {name: pd, type: pagerduty, token_file: /etc/koban/pd.key, rate: 5/s}
 *   route:
 *     receiver: slack-sec
 *     routes:
 *       - {match: {severity: ">= high"}, receiver: pd, continue: true}
 *   flood: {rate: 10/h, burst: 5}
 *   reminders: {medium: 24h, high: 1h}
 *   escalate: {after: 2, receiver: pd}
 *   ops: {receiver: slack-sec, mention: "@security-oncall"}
 *
 * The route tree follows Alertmanager's semantics: a node matches when all
 * its matchers match (the root always matches); its children are tried in
 * order; the first matching child takes the issue (recursively) unless it
 * has continue: true, in which case the later siblings are tried too; when
 * no child matched, the node itself takes it. A node that takes an issue
 * sends it to its receiver, or, without one, to the nearest ancestor's. An
 * issue of severity none is never routed. Without a route: key the tree is
 * built from the receivers' types (route_is_default): slack gets low,
 * github medium and above, pagerduty high and above, webhook low and above.
 *
 * Errors name the file, line and key: "routes.yaml:12: receivers[1].token:
 * environment variable SLACK_TOKEN is not set".
 *
 * Ownership: route_load_* returns a route_set the caller frees with
 * route_set_free. Every pointer an accessor returns (receiver configs and
 * their strings, the flood configs, the mention) is borrowed from the set
 * and lives as long as it. A loaded set is never modified: any number of
 * threads may call route_match and the accessors on it at once.
 */
#ifndef KOBAN_ROUTE_H
#define KOBAN_ROUTE_H

#include "lib/json.h"
#include "lib/kb.h"
#include "notify/flood.h"
#include "notify/receiver.h"

#define ROUTE_MAX_FILE (1 << 20) /* bytes of a routing file */
#define ROUTE_MAX_RECEIVERS 256
#define ROUTE_MAX_NODES 4096     /* route nodes, the root included */
#define ROUTE_MAX_DEPTH 16       /* the root is depth 0 */
#define ROUTE_MAX_VALUES 256     /* values in one matcher's list */
#define ROUTE_MAX_LABELS 32      /* label matchers in one match */
#define ROUTE_MAX_VALUE 8192     /* bytes of one expanded string value */
#define ROUTE_MAX_CONCURRENCY 16 /* a receiver's concurrency */
#define ROUTE_MAX_ESCALATE_AFTER 1000

struct route_set;

/* Reads and parses a routing file (at most ROUTE_MAX_FILE bytes). A
 * relative token_file is taken from the routing file's folder. KB_EIO when
 * the file cannot be read, KB_ETOOBIG past a bound, KB_EINVAL with why =
 * "FILE:LINE: key.path: reason" for anything wrong in it. */
kb_err route_load_file(const char *path, struct route_set **out, struct kb_why *why);

/* Parses a routing file held in memory; name is used in error messages
 * only, and a relative token_file is taken from the current directory.
 * Errors as route_load_file. */
kb_err route_load_buffer(const char *text, size_t len, const char *name, struct route_set **out,
                         struct kb_why *why);

/* Frees the set and everything borrowed from it; NULL is allowed. */
void route_set_free(struct route_set *rs);

/* ---- receivers ------------------------------------------------------------ */

/* Number of receivers, in file order; indexes below are 0..n-1. */
size_t route_nreceivers(const struct route_set *rs);

/* Receiver i's configuration, ready for receiver_new(): ${VAR}s expanded,
 * token_file read, koban_url filled from the file's koban_url. */
const struct recv_config *route_receiver(const struct route_set *rs, size_t i);

/* The index of the receiver named name; KB_ENOTFOUND when there is none. */
kb_err route_receiver_index(const struct route_set *rs, const char *name, size_t *i);

/* Receiver i's delivery rate limit from its `rate:` key, in requests per
 * second (5/m is 0.0833...); 0 when it has none (unlimited). */
double route_receiver_rate(const struct route_set *rs, size_t i);

/* Receiver i's `concurrency:` (1..ROUTE_MAX_CONCURRENCY); 0 when unset. */
unsigned route_receiver_concurrency(const struct route_set *rs, size_t i);

/* ---- the route tree ------------------------------------------------------- */

/* What routing looks at. labels, when non-NULL, is the labels
 * object already parsed; otherwise labels_json ("{...}" text, or NULL for
 * none) is parsed when a label matcher is reached. Label values match only
 * when they are JSON strings; labels that do not parse are taken as none. */
struct route_input {
    int severity;                    /* enum kb_severity (formats/alert.h) */
    const char *source;              /* NULL: matches no source matcher */
    const char *kind;                /* NULL: matches no kind matcher */
    const char *labels_json;         /* borrowed for the call */
    const struct json_value *labels; /* borrowed for the call */
};

/* The receivers an issue goes to: their indexes, in the order the tree
 * reaches them, each once. Writes at most max of them to out and returns
 * how many it wrote (0 for severity none or out of range). Passing
 * max = ROUTE_MAX_RECEIVERS never cuts the list. */
size_t route_match(const struct route_set *rs, const struct route_input *in, size_t *out,
                   size_t max);

/* True when the file had no route: and the tree was built from the
 * receivers' types (see the top of this file). */
bool route_is_default(const struct route_set *rs);

/* Number of nodes in the tree, the root included. */
size_t route_nnodes(const struct route_set *rs);

/* ---- settings ------------------------------------------------------------- */

/* The file's koban_url (base of links to issues), or NULL when unset. */
const char *route_koban_url(const struct route_set *rs);

/* Flood control per identity (`flood:`) and per rule (`flood_rule:`), ready
 * for flood_new(); NULL when turned off. Defaults: 10/h burst 5 per
 * identity, 100/h burst 20 per rule. */
const struct flood_config *route_flood(const struct route_set *rs);
const struct flood_config *route_flood_rule(const struct route_set *rs);

/* How long after its last notification an unacknowledged issue of this
 * severity is notified again, in ms; 0: never. The interval of a severity
 * is that of the highest severity at or below it named under `reminders:`
 * (default: medium 24h, high 1h, critical 30m). */
int64_t route_reminder_ms(const struct route_set *rs, int severity);

/* Escalation: true when `escalate:` is set, with *after = N and *receiver
 * its index. Reminder number k (1-based) of an unacknowledged issue also
 * goes to that receiver when k > N. Either pointer may be NULL. */
bool route_escalate(const struct route_set *rs, unsigned *after, size_t *receiver);

/* Where koban's own operational errors go: true when `ops:` is set, with
 * *receiver its index and *mention its text (NULL when unset). Either
 * pointer may be NULL. */
bool route_ops(const struct route_set *rs, size_t *receiver, const char **mention);

#endif
