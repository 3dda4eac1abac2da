/*
 * recv_github_incident.h — what the two files of the github_incident
 * receiver share: its actions, its state, reading the payload, and the
 * request bodies (recv_github_incident_text.c). recv_github_incident.c
 * describes the receiver. Not for code outside src/notify.
 */
#ifndef KOBAN_RECV_GITHUB_INCIDENT_H
#define KOBAN_RECV_GITHUB_INCIDENT_H

#include "notify/recv_internal.h"

#define GI_DEFAULT_BASE "https://api.github.com"
#define GI_TITLE_MAX 256   /* characters */
#define GI_TEXT_MAX 20000  /* characters of a body or comment */
#define GI_LABEL_MAX 50    /* bytes of a label */
#define GI_REF_MAX 120     /* bytes of a branch name or path */
#define GI_SHA_MAX 64
#define GI_MIN_WAIT_MS 60000
#define GI_SETTLE_MS 10000
#define GI_MARKDOWN_MAX (700u * 1024) /* bytes of a draft (base64 fits the body limit) */

/* The requests a job makes (recv_github_incident.c lists them). */
enum gi_act {
    A_NONE = 0,
    A_FIND,
    A_CREATE,
    A_UPDATE,
    A_COMMENT,
    A_REPO,
    A_REF,
    A_BRANCH,
    A_FILE,
    A_PUT,
    A_PRFIND,
    A_PR,
};

/* The state kept per incident (recv_github_incident.c says what each is). */
struct gi_state {
    int64_t number, pr;
    char branch[GI_REF_MAX + 1], base[GI_REF_MAX + 1];
    char sha[GI_SHA_MAX + 1], fsha[GI_SHA_MAX + 1];
    int64_t committed, exists, prx;
    /* progress of the job in flight */
    int64_t done, searched, creating;
    bool created;
};

/* ---- the payload (a job's, borrowed) -------------------------------------- */

static inline const struct json_value *gi_pl(const struct recv_job *job, const char *path)
{
    return json_path(job->payload, path);
}

static inline bool gi_op_is(const struct recv_job *job, const char *op)
{
    return kb_str_eq(json_str(gi_pl(job, "op")), op);
}

static inline int64_t gi_incident_id(const struct recv_job *job)
{
    int64_t id = 0;
    return json_as_int(gi_pl(job, "incident.id"), &id) && id > 0 ? id : 0;
}

static inline bool gi_is_true(const struct json_value *v)
{
    return v && v->type == JSON_TRUE;
}

/* The JSON body of act's request into w (an object): the title,
 * body and labels, the comment, the branch, the commit, the pull request.
 * KB_ETOOBIG (why set) when the draft passes GI_MARKDOWN_MAX. */
kb_err recv_gi_body(const struct recv_job *job, enum gi_act act, const struct gi_state *s,
                    struct jw *w, struct kb_why *why);

#endif
