/*
 * fmt_syslog.c — the syslog text format: one line becomes one alert.
 *
 * syslog_parse() splits the header; this file maps it onto the alert and
 * extracts fields from the messages of sshd, sudo and PAM (any program).
 * The field names, kinds, outcomes and severities are documented in
 * docs/ALERT_FORMAT.md ("## syslog"); keep the two in step.
 *
 * Extraction uses small message patterns: literal text with placeholders
 * (%u user, %i address, %p port, %m auth method, %h host name, %n number,
 * %* ignored, %r the rest of the message). A placeholder ends at the first
 * place where the literal after it matches, never spans a blank (except %u:
 * sshd logs user names as sent, " 0101" included, and %r) and is at most
 * CAP_MAX bytes, so matching is a single left-to-right pass with no
 * backtracking. A pattern matches a prefix of the message
 * (sshd appends " ssh2", " [preauth]" and the like).
 */
#include "formats/formats_internal.h"
#include "formats/syslog_parse.h"

#include <arpa/inet.h>

static const char *const syslog_identity[] = {"host", "kind", "actor.user", "actor.ip",
                                              NULL};

#define TITLE_MAX 200 /* bytes of the message shown as the title */

/* ---- patterns ---- */

enum cap { CAP_USER, CAP_IP, CAP_PORT, CAP_METHOD, CAP_HOST, CAP_NUM, CAP_REST, CAP_N };

struct caps {
    struct kb_str v[CAP_N];
};

static int cap_index(char t)
{
    switch (t) {
    case 'u': return CAP_USER;
    case 'i': return CAP_IP;
    case 'p': return CAP_PORT;
    case 'm': return CAP_METHOD;
    case 'h': return CAP_HOST;
    case 'n': return CAP_NUM;
    case 'r': return CAP_REST;
    default: return -1; /* %* */
    }
}

#define CAP_MAX 256 /* bytes a placeholder (other than %r) may span */

static bool match(const char *pat, struct kb_str s, struct caps *cp)
{
    memset(cp, 0, sizeof *cp);
    size_t i = 0;
    while (*pat) {
        if (pat[0] != '%') {
            size_t ln = strcspn(pat, "%");
            if (s.n - i < ln || memcmp(s.p + i, pat, ln) != 0)
                return false;
            i += ln;
            pat += ln;
            continue;
        }
        char t = pat[1];
        pat += 2;
        size_t start = i, ln = strcspn(pat, "%");
        if (t == 'r') {
            i = s.n;
        } else if (ln == 0) {
            while (i < s.n && s.p[i] != ' ' && i - start < CAP_MAX)
                i++;
        } else {
            while (!(s.n - i >= ln && memcmp(s.p + i, pat, ln) == 0)) {
                if (i >= s.n || (s.p[i] == ' ' && t != 'u') || i - start >= CAP_MAX)
                    return false;
                i++;
            }
        }
        int k = cap_index(t);
        if (k >= 0)
            cp->v[k] = (struct kb_str){s.p + start, i - start};
    }
    return true;
}

/* ---- helpers ---- */

static bool has_prefix(struct kb_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n >= n && memcmp(s.p, lit, n) == 0;
}

static struct kb_str drop(struct kb_str s, size_t n)
{
    return (struct kb_str){s.p + n, s.n - n};
}

static struct kb_str trim(struct kb_str s)
{
    while (s.n && (s.p[0] == ' ' || s.p[0] == '\t'))
        s = drop(s, 1);
    while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
        s.n--;
    return s;
}

/* Is s an IPv4 or IPv6 address (not a host name)? */
static bool is_ip(struct kb_str s)
{
    char tmp[INET6_ADDRSTRLEN];
    unsigned char bin[sizeof(struct in6_addr)];
    if (s.n == 0 || s.n >= sizeof tmp)
        return false;
    memcpy(tmp, s.p, s.n);
    tmp[s.n] = '\0';
    return inet_pton(AF_INET, tmp, bin) == 1 || inet_pton(AF_INET6, tmp, bin) == 1;
}

/* a followed by b, copied into the arena; KB_STR_NULL past its limit. */
static struct kb_str join(struct arena *ar, struct kb_str a, struct kb_str b)
{
    char *p = arena_alloc(ar, a.n + b.n + 1);
    if (!p)
        return KB_STR_NULL;
    if (a.n)
        memcpy(p, a.p, a.n);
    if (b.n)
        memcpy(p + a.n, b.p, b.n);
    p[a.n + b.n] = '\0';
    return (struct kb_str){p, a.n + b.n};
}

/* The value of "key=" in a PAM-style "k1=v1 k2= k3=v3" list (a value ends
 * at a blank). KB_STR_NULL when absent or empty. */
static struct kb_str kv_get(struct kb_str s, const char *key)
{
    size_t kn = strlen(key);
    for (size_t i = 0; i + kn < s.n; i++) {
        if ((i == 0 || s.p[i - 1] == ' ') && memcmp(s.p + i, key, kn) == 0 &&
            s.p[i + kn] == '=') {
            size_t b = i + kn + 1, e = b;
            while (e < s.n && s.p[e] != ' ')
                e++;
            return e > b ? (struct kb_str){s.p + b, e - b} : KB_STR_NULL;
        }
    }
    return KB_STR_NULL;
}

/* ---- what extraction produces ---- */

struct extract {
    struct kb_str kind;      /* set: overrides "syslog:<app>" */
    const char *outcome;     /* static vocabulary, or NULL */
    int severity;            /* koban severity implied by the event */
    struct kb_str user, ip, port, method, rdns, rhost, ruser, target_user, command, tty,
        pwd, count;
    bool invalid_user;       /* sshd said the user does not exist */
};

/* Sets the address: an IP goes to src_ip, a name to rhost. */
static void set_addr(struct extract *x, struct kb_str a)
{
    if (is_ip(a))
        x->ip = a;
    else if (a.n)
        x->rhost = a;
}

/* ---- PAM (any program) ---- */

/* "pam_unix(sshd:auth): authentication failure; logname= uid=0 ... rhost=1.2.3.4
 * user=root", "session opened for user root(uid=0) by (uid=0)", "check pass;
 * user unknown", "PAM 2 more authentication failures; ...". base: the
 * program name without "(pam_unix)". */
static kb_err extract_pam(struct kb_str msg, struct kb_str base, struct arena *ar,
                          struct extract *x, bool *matched)
{
    struct caps c;
    const char *suffix = NULL;
    *matched = false;
    if (match("authentication failure; %r", msg, &c) ||
        match("PAM %n more authentication failure%r", msg, &c)) {
        suffix = ":pam_auth_failure";
        x->outcome = "failure";
        x->severity = KB_SEV_LOW;
        x->count = c.v[CAP_NUM];
        struct kb_str kv = c.v[CAP_REST];
        x->user = kv_get(kv, "user");
        x->ruser = kv_get(kv, "ruser");
        x->tty = kv_get(kv, "tty");
        x->rhost = kv_get(kv, "rhost"); /* always kept: may be a name */
        if (is_ip(x->rhost))
            x->ip = x->rhost;
    } else if (match("check pass; user unknown", msg, &c)) {
        suffix = ":pam_user_unknown";
        x->outcome = "invalid_user";
        x->severity = KB_SEV_LOW;
    } else if (match("session opened for user %u", msg, &c)) {
        suffix = ":session_opened";
        x->outcome = "success";
        x->user = c.v[CAP_USER];
    } else if (match("session closed for user %u", msg, &c)) {
        suffix = ":session_closed";
        x->user = c.v[CAP_USER];
    } else {
        return KB_OK;
    }
    /* newer PAM writes "root(uid=0)" */
    for (size_t i = 0; i < x->user.n; i++)
        if (x->user.p[i] == '(') {
            x->user.n = i;
            break;
        }
    *matched = true;
    x->kind = join(ar, base, kb_str_c(suffix));
    return x->kind.p ? KB_OK : KB_ETOOBIG;
}

/* ---- sshd ---- */

enum { M_METHOD = 1, M_INVALID = 2 };

struct sshd_rule {
    const char *pat;
    const char *kind;    /* with M_METHOD: a prefix the method is appended to */
    const char *outcome;
    int severity;
    int flags;
};

/* Messages of OpenSSH's sshd (auth.c, sshd.c, packet.c), most specific
 * first. "error: " / "fatal: " and Solaris "[ID n facility.level] " are
 * stripped before matching. */
static const struct sshd_rule sshd_rules[] = {
    {"Accepted %m for %u from %i port %p", "sshd:accepted_", "success", KB_SEV_NONE, M_METHOD},
    {"Failed %m for invalid user %u from %i port %p", "sshd:failed_", "failure", KB_SEV_LOW,
     M_METHOD | M_INVALID},
    {"Failed %m for %u from %i port %p", "sshd:failed_", "failure", KB_SEV_LOW, M_METHOD},
    {"Postponed %m for invalid user %u from %i port %p", "sshd:postponed_", NULL, KB_SEV_NONE,
     M_METHOD | M_INVALID},
    {"Postponed %m for %u from %i port %p", "sshd:postponed_", NULL, KB_SEV_NONE, M_METHOD},
    {"Invalid user %u from %i port %p", "sshd:invalid_user", "invalid_user", KB_SEV_LOW,
     M_INVALID},
    {"Invalid user %u from %i", "sshd:invalid_user", "invalid_user", KB_SEV_LOW, M_INVALID},
    {"input_userauth_request: invalid user %u [preauth]", "sshd:invalid_user", "invalid_user",
     KB_SEV_LOW, M_INVALID},
    {"input_userauth_request: invalid user %u", "sshd:invalid_user", "invalid_user",
     KB_SEV_LOW, M_INVALID},
    {"PAM: User not known to the underlying authentication module for illegal user %u from %i",
     "sshd:invalid_user", "invalid_user", KB_SEV_LOW, M_INVALID},
    {"PAM: unknown user for illegal user %u from %i", "sshd:invalid_user", "invalid_user",
     KB_SEV_LOW, M_INVALID},
    {"PAM: authentication error for illegal user %u from %i", "sshd:failed_pam", "failure",
     KB_SEV_LOW, M_INVALID},
    {"PAM: authentication error for %u from %i", "sshd:failed_pam", "failure", KB_SEV_LOW, 0},
    {"User %u from %i not allowed because %r", "sshd:user_not_allowed", "denied", KB_SEV_LOW,
     0},
    {"reverse mapping checking getaddrinfo for %h [%i] failed", "sshd:break_in_attempt", NULL,
     KB_SEV_LOW, 0},
    {"Address %i maps to %h, but this does not map back to the address",
     "sshd:break_in_attempt", NULL, KB_SEV_LOW, 0},
    {"maximum authentication attempts exceeded for invalid user %u from %i port %p",
     "sshd:max_auth_attempts", "failure", KB_SEV_LOW, M_INVALID},
    {"maximum authentication attempts exceeded for %u from %i port %p",
     "sshd:max_auth_attempts", "failure", KB_SEV_LOW, 0},
    {"Disconnecting: Too many authentication failures for %u", "sshd:max_auth_attempts",
     "failure", KB_SEV_LOW, 0},
    {"Disconnecting: Too many authentication failures", "sshd:max_auth_attempts", "failure",
     KB_SEV_LOW, 0},
    {"Disconnecting invalid user %u %i port %p: Too many authentication failures",
     "sshd:max_auth_attempts", "failure", KB_SEV_LOW, M_INVALID},
    {"Disconnecting authenticating user %u %i port %p: Too many authentication failures",
     "sshd:max_auth_attempts", "failure", KB_SEV_LOW, 0},
    {"PAM service(sshd) ignoring max retries; %n > %*", "sshd:max_auth_attempts", "failure",
     KB_SEV_LOW, 0},
    {"Connection closed by invalid user %u %i port %p", "sshd:connection_closed", "disconnect",
     KB_SEV_NONE, M_INVALID},
    {"Connection closed by authenticating user %u %i port %p", "sshd:connection_closed",
     "disconnect", KB_SEV_NONE, 0},
    {"Connection closed by user %u %i port %p", "sshd:connection_closed", "disconnect",
     KB_SEV_NONE, 0},
    {"Connection closed by %i port %p", "sshd:connection_closed", "disconnect", KB_SEV_NONE, 0},
    {"Connection closed by %i", "sshd:connection_closed", "disconnect", KB_SEV_NONE, 0},
    {"Connection reset by invalid user %u %i port %p", "sshd:connection_reset", "disconnect",
     KB_SEV_NONE, M_INVALID},
    {"Connection reset by authenticating user %u %i port %p", "sshd:connection_reset",
     "disconnect", KB_SEV_NONE, 0},
    {"Connection reset by %i port %p", "sshd:connection_reset", "disconnect", KB_SEV_NONE, 0},
    {"Received disconnect from %i port %p:%n: %r", "sshd:disconnect", "disconnect",
     KB_SEV_NONE, 0},
    {"Received disconnect from %i: %n: %r", "sshd:disconnect", "disconnect", KB_SEV_NONE, 0},
    {"Disconnected from invalid user %u %i port %p", "sshd:disconnect", "disconnect",
     KB_SEV_NONE, M_INVALID},
    {"Disconnected from authenticating user %u %i port %p", "sshd:disconnect", "disconnect",
     KB_SEV_NONE, 0},
    {"Disconnected from user %u %i port %p", "sshd:disconnect", "disconnect", KB_SEV_NONE, 0},
    {"Disconnected from %i port %p", "sshd:disconnect", "disconnect", KB_SEV_NONE, 0},
    {"Disconnecting invalid user %u %i port %p", "sshd:disconnect", "disconnect", KB_SEV_NONE,
     M_INVALID},
    {"Did not receive identification string from %i port %p", "sshd:no_identification", NULL,
     KB_SEV_NONE, 0},
    {"Did not receive identification string from %i", "sshd:no_identification", NULL,
     KB_SEV_NONE, 0},
    {"Bad protocol version identification %*' from %i port %p", "sshd:bad_protocol", NULL,
     KB_SEV_NONE, 0},
    {"Unable to negotiate with %i port %p: %r", "sshd:negotiation_failed", NULL, KB_SEV_NONE,
     0},
    {"Unable to negotiate with %i: %r", "sshd:negotiation_failed", NULL, KB_SEV_NONE, 0},
    {"Connection from %i port %p", "sshd:connection", NULL, KB_SEV_NONE, 0},
};

/* "keyboard-interactive/pam" -> auth_method "keyboard-interactive", kind
 * suffix "keyboard_interactive"; anything unexpected -> "other". */
static struct kb_str method_kind(struct arena *ar, const char *prefix, struct kb_str m)
{
    char tmp[33];
    size_t n = 0;
    for (; n < m.n && n < 32; n++) {
        char ch = m.p[n];
        if (ch == '-')
            ch = '_';
        else if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')))
            break;
        tmp[n] = ch;
    }
    if (n == 0 || n < m.n)
        return join(ar, kb_str_c(prefix), KB_STR_LIT("other"));
    return join(ar, kb_str_c(prefix), (struct kb_str){tmp, n});
}

static kb_err extract_sshd(struct kb_str msg, struct arena *ar, struct extract *x, int depth)
{
    struct caps c;
    if (has_prefix(msg, "error: ") || has_prefix(msg, "fatal: "))
        msg = drop(msg, 7);
    if (has_prefix(msg, "[ID ") && match("[ID %* %*] %r", msg, &c))
        msg = c.v[CAP_REST];
    /* rsyslog's "message repeated 5 times: [ Failed password ... ssh2]" */
    if (depth == 0 && match("message repeated %n times: [%r", msg, &c)) {
        struct kb_str inner = trim(c.v[CAP_REST]);
        struct kb_str count = c.v[CAP_NUM];
        if (inner.n && inner.p[inner.n - 1] == ']')
            inner = trim((struct kb_str){inner.p, inner.n - 1});
        kb_err err = extract_sshd(inner, ar, x, 1);
        x->count = count;
        return err;
    }
    for (size_t r = 0; r < KB_ARRAY_LEN(sshd_rules); r++) {
        const struct sshd_rule *rule = &sshd_rules[r];
        if (!match(rule->pat, msg, &c))
            continue;
        x->user = c.v[CAP_USER];
        set_addr(x, c.v[CAP_IP]);
        x->port = c.v[CAP_PORT];
        x->rdns = c.v[CAP_HOST];
        x->outcome = rule->outcome;
        x->severity = rule->severity;
        x->invalid_user = (rule->flags & M_INVALID) != 0;
        if (rule->flags & M_METHOD) {
            struct kb_str m = c.v[CAP_METHOD];
            for (size_t i = 0; i < m.n; i++)
                if (m.p[i] == '/') { /* "keyboard-interactive/pam" */
                    m.n = i;
                    break;
                }
            x->method = m;
            x->kind = method_kind(ar, rule->kind, m);
            if (!x->kind.p)
                return KB_ETOOBIG;
        } else {
            x->kind = kb_str_c(rule->kind);
        }
        return KB_OK;
    }
    return KB_OK;
}

/* ---- sudo ---- */

/* "bob : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/bob ;
 *  USER=root ; COMMAND=/bin/ls -l". COMMAND is last and taken verbatim to
 *  the end of the line (it may contain " ; "). */
static void extract_sudo(struct kb_str msg, struct extract *x)
{
    size_t i = 0;
    while (i + 2 < msg.n && memcmp(msg.p + i, " : ", 3) != 0)
        i++;
    if (i + 2 >= msg.n)
        return;
    struct kb_str user = trim((struct kb_str){msg.p, i});
    for (size_t k = 0; k < user.n; k++)
        if (user.p[k] == ' ')
            return; /* not "user : ..." */
    x->user = user;
    struct kb_str rest = drop(msg, i + 3);
    const char *kind = "sudo:command", *outcome = "success";
    int sev = KB_SEV_NONE;
    while (rest.n) {
        if (has_prefix(rest, "COMMAND=")) {
            x->command = trim(drop(rest, 8));
            break;
        }
        size_t e = 0;
        while (e < rest.n && !(rest.n - e >= 3 && memcmp(rest.p + e, " ; ", 3) == 0))
            e++;
        struct kb_str item = trim((struct kb_str){rest.p, e});
        rest = e < rest.n ? drop(rest, e + 3) : drop(rest, e);
        struct caps c;
        if (has_prefix(item, "TTY="))
            x->tty = drop(item, 4);
        else if (has_prefix(item, "PWD="))
            x->pwd = drop(item, 4);
        else if (has_prefix(item, "USER="))
            x->target_user = drop(item, 5);
        else if (match("%n incorrect password attempt", item, &c)) {
            kind = "sudo:incorrect_password";
            outcome = "failure";
            sev = KB_SEV_LOW;
            x->count = c.v[CAP_NUM];
        } else if (has_prefix(item, "user NOT in sudoers") ||
                   has_prefix(item, "user NOT authorized on host")) {
            kind = "sudo:not_in_sudoers";
            outcome = "denied";
            sev = KB_SEV_MEDIUM;
        } else if (has_prefix(item, "command not allowed")) {
            kind = "sudo:command_not_allowed";
            outcome = "denied";
            sev = KB_SEV_MEDIUM;
        } else if (has_prefix(item, "a password is required")) {
            kind = "sudo:password_required";
            outcome = "failure";
            sev = KB_SEV_LOW;
        }
    }
    x->kind = kb_str_c(kind);
    x->outcome = outcome;
    x->severity = sev;
}

/* ---- the normalizer ---- */

/* emerg/alert/crit -> high, err -> medium, warning -> low, else none. */
static int pri_severity(int s)
{
    if (s < 0)
        return KB_SEV_NONE;
    if (s <= 2)
        return KB_SEV_HIGH;
    if (s == 3)
        return KB_SEV_MEDIUM;
    if (s == 4)
        return KB_SEV_LOW;
    return KB_SEV_NONE;
}

/* The message cut to TITLE_MAX bytes on a UTF-8 character boundary. */
static struct kb_str title_of(struct kb_str msg)
{
    if (msg.n <= TITLE_MAX)
        return msg;
    size_t n = TITLE_MAX;
    while (n > 0 && ((unsigned char)msg.p[n] & 0xC0) == 0x80)
        n--;
    return (struct kb_str){msg.p, n};
}

/* "sshd(pam_unix)" -> "sshd" */
static struct kb_str base_app(struct kb_str app)
{
    for (size_t i = 0; i < app.n; i++)
        if (app.p[i] == '(')
            return (struct kb_str){app.p, i};
    return app;
}

static kb_err add_fields(struct alert *a, const struct syslog_msg *m, const struct extract *x)
{
    kb_err err = KB_OK;
    const char *fn = syslog_facility_name(m->facility);
    struct {
        const char *name;
        struct kb_str v;
    } f[] = {
        {"app", m->app},          {"pid", m->pid},
        {"msgid", m->msgid},      {"sd", m->sd},
        {"facility", fn ? kb_str_c(fn) : KB_STR_NULL},
        {"user", x->user},        {"src_ip", x->ip},
        {"src_port", x->port},    {"auth_method", x->method},
        {"rdns", x->rdns},        {"rhost", x->rhost},
        {"ruser", x->ruser},      {"target_user", x->target_user},
        {"command", x->command},  {"tty", x->tty},
        {"pwd", x->pwd},          {"repeat_count", x->count},
        {"invalid_user", x->invalid_user ? KB_STR_LIT("true") : KB_STR_NULL},
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(f) && err == KB_OK; i++)
        err = alert_add_field(a, f[i].name, f[i].v);
    return err;
}

kb_err syslog_normalize_at(struct kb_str line, int64_t ref_ms, struct arena *ar,
                           alert_emit_fn emit, void *ctx, struct kb_why *why)
{
    struct syslog_msg m;
    kb_err err = syslog_parse(line, ref_ms, &m);
    if (err == KB_ETOOBIG)
        return kb_fail(why, err, "syslog line of %zu bytes is over the %u byte limit", line.n,
                       SYSLOG_MAX_LINE);
    if (err != KB_OK)
        return kb_fail(why, err, "empty syslog line");

    struct extract x;
    memset(&x, 0, sizeof x);
    struct kb_str app = base_app(m.app);
    struct kb_str msg = m.msg;
    bool pam = false;
    if (has_prefix(msg, "pam_unix(")) { /* "pam_unix(sshd:auth): ..." */
        struct caps c;
        if (match("pam_unix(%*): %r", msg, &c)) {
            msg = c.v[CAP_REST];
            pam = true;
        }
    }
    if (app.n != m.app.n || has_prefix(msg, "PAM ") || pam) {
        bool matched = false;
        if ((err = extract_pam(msg, app, ar, &x, &matched)) != KB_OK)
            return kb_fail(why, err, "syslog: arena limit reached");
        pam = matched;
    }
    if (!pam && kb_str_eq(app, "sshd"))
        err = extract_sshd(msg, ar, &x, 0);
    else if (!pam && kb_str_eq(app, "sudo"))
        extract_sudo(msg, &x);
    if (err != KB_OK)
        return kb_fail(why, err, "syslog: arena limit reached");
    if (!x.kind.p) {
        x.kind = m.app.p ? join(ar, KB_STR_LIT("syslog:"), m.app) : KB_STR_LIT("syslog");
        if (!x.kind.p)
            return kb_fail(why, KB_ETOOBIG, "syslog: arena limit reached");
    }

    struct alert a;
    alert_init(&a, "syslog", syslog_identity);
    a.raw = line;
    a.kind = x.kind;
    a.time_ms = m.time_ms;
    a.title = title_of(m.msg);
    if (a.title.n < m.msg.n)
        a.description = m.msg;
    const char *sn = syslog_severity_name(m.severity);
    a.native_severity = sn ? kb_str_c(sn) : KB_STR_NULL;
    a.severity = KB_MAX(pri_severity(m.severity), x.severity);
    a.host = m.host;
    a.actor_user = x.user;
    a.actor_ip = x.ip;
    a.outcome = x.outcome ? kb_str_c(x.outcome) : KB_STR_NULL;
    if ((err = add_fields(&a, &m, &x)) != KB_OK)
        return kb_fail(why, err, "syslog: too many fields");
    return emit(ctx, &a);
}

static kb_err syslog_normalize(struct kb_str line, struct arena *ar, alert_emit_fn emit,
                               void *ctx, struct kb_why *why)
{
    return syslog_normalize_at(line, kb_now_ms(), ar, emit, ctx, why);
}

const struct format format_syslog = {
    .name = "syslog",
    .summary = "syslog lines (RFC 5424, RFC 3164, log files); sshd, sudo and PAM fields",
    .id = 9,
    .detect = NULL,
    .normalize_json = NULL,
    .normalize_text = syslog_normalize,
    .identity = syslog_identity,
};
