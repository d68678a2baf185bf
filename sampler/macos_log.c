/*
 * `log stream --style ndjson` line parser and kill-message classification
 * (see macos_log.h for the message families and where their formats come
 * from).  The text matching is deliberately literal: each family is found
 * by the fixed words the kernel prints, and numbers and names are read
 * from the positions those words imply, so a reworded message fails to
 * match (parsed as "not interesting") instead of naming a wrong pid.
 */
#include "macos_log.h"

#include <ctype.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

const char pm_mlog_predicate[] =
    "processID == 0 AND (eventMessage CONTAINS \"memorystatus: \" "
    "OR eventMessage CONTAINS \"EXC_RESOURCE\" "
    "OR eventMessage CONTAINS \"CODE SIGNING:\" "
    "OR eventMessage CONTAINS \"AMFI:\" "
    "OR eventMessage CONTAINS \"ASP: Security policy\")";

/* Reads a decimal pid at *p; advances *p past it.  0 on failure. */
static pid_t read_pid(const char **p)
{
    const char *s = *p;
    long v = 0;
    int n = 0;
    while (isdigit((unsigned char)*s) && n < 10) {
        v = v * 10 + (*s - '0');
        s++;
        n++;
    }
    if (n == 0 || isdigit((unsigned char)*s) || v <= 0 || v > INT_MAX)
        return 0;
    *p = s;
    return (pid_t)v;
}

/* Copy [s, e) into dst (bounded, terminated). */
static void copy_span(char *dst, size_t cap, const char *s, const char *e)
{
    size_t n = e > s ? (size_t)(e - s) : 0;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* "...name[123]" ending just before `end`: the pid in the last brackets
 * and the name before them (names may contain spaces and brackets). */
static pid_t name_pid_before(const char *start, const char *end, char *name, size_t cap)
{
    if (end <= start || end[-1] != ']')
        return 0;
    const char *open = end - 1;
    while (open > start && *open != '[')
        open--;
    if (*open != '[')
        return 0;
    const char *q = open + 1;
    pid_t pid = read_pid(&q);
    if (!pid || q != end - 1)
        return 0;
    const char *ne = open;
    while (ne > start && ne[-1] == ' ')
        ne--;
    copy_span(name, cap, start, ne);
    return pid;
}

/* After `*p` expect "[name]": copy the name up to the first "]" followed
 * by `terminator` (or any "]" when terminator is NULL). */
static int bracket_name(const char **p, const char *terminator, char *name, size_t cap)
{
    const char *s = *p;
    if (*s != '[')
        return -1;
    const char *e;
    if (terminator) {
        char pat[16];
        snprintf(pat, sizeof(pat), "]%s", terminator);
        e = strstr(s + 1, pat);
    } else {
        e = strchr(s + 1, ']');
    }
    if (!e)
        return -1;
    copy_span(name, cap, s + 1, e);
    *p = e + 1;
    return 0;
}

static void set_kind(struct pm_mlog_event *o, int kind, const char *cause, const char *reason, int fatal)
{
    o->kind = kind;
    o->fatal = fatal;
    pm_strlcpy(o->cause, cause, sizeof(o->cause));
    pm_strlcpy(o->reason, reason, sizeof(o->reason));
}

/* memorystatus: killing_<how> pid N [name] (<cause> ...   and the older
 * memorystatus_thread: idle exiting pid N [name] */
static int classify_memorystatus(const char *msg, struct pm_mlog_event *o)
{
    const char *m = strstr(msg, "memorystatus");
    if (!m)
        return 0;
    const char *idle = strstr(m, "idle exiting pid ");
    const char *kill = strstr(m, "killing");
    if (!idle && !kill)
        return 0;
    const char *p = idle ? idle + strlen("idle exiting pid ") : strstr(kill, " pid ");
    if (!p)
        return 0;
    if (!idle)
        p += 5;
    pid_t pid = read_pid(&p);
    if (!pid || *p != ' ')
        return 0;
    p++;
    char name[PM_COMM_MAX] = "";
    if (bracket_name(&p, " (", name, sizeof(name)) == 0 || bracket_name(&p, NULL, name, sizeof(name)) == 0) {
        /* p now just after ']' */
    }
    char cause[48] = "";
    if (idle) {
        pm_strlcpy(cause, "idle-exit", sizeof(cause));
    } else {
        const char *c = strstr(p, "(");
        if (c) {
            c++;
            const char *ce = c;
            while (*ce && *ce != ' ' && *ce != ')')
                ce++;
            copy_span(cause, sizeof(cause), c, ce);
        }
        if (!cause[0])
            pm_strlcpy(cause, "unknown", sizeof(cause));
    }
    o->pid = pid;
    pm_strlcpy(o->comm, name, sizeof(o->comm));
    set_kind(o, PM_EV_MEMORY_KILL, "memory", cause, 1);
    return 1;
}

/* EXC_RESOURCE -> name[N] exceeded mem limit: ActiveHard M MB (fatal)
 * memorystatus: name [N] exceeded mem limit: ...  (the same, older kernels) */
static int classify_mem_limit(const char *msg, struct pm_mlog_event *o)
{
    const char *x = strstr(msg, " exceeded mem limit:");
    if (!x)
        return 0;
    const char *start;
    if ((start = strstr(msg, "EXC_RESOURCE -> ")) && start < x)
        start += strlen("EXC_RESOURCE -> ");
    else if ((start = strstr(msg, "memorystatus: ")) && start < x)
        start += strlen("memorystatus: ");
    else
        return 0;
    pid_t pid = name_pid_before(start, x, o->comm, sizeof(o->comm));
    if (!pid)
        return 0;
    o->pid = pid;
    int fatal = strstr(x, "(fatal)") != NULL;
    /* A fatal limit is followed by the jetsam kill line (per-process-limit):
     * this one is the warning that explains it, not a second kill. */
    set_kind(o, fatal ? PM_EV_MEMORY_KILL : PM_EV_NOTICE, "memory",
             fatal ? "mem-limit-fatal" : "mem-limit-soft", 0);
    return 1;
}

/* CODE SIGNING: cs_invalid_page(0x...): p=N[name] final status 0x..., denying page sending SIGKILL
 * CODE SIGNING: process N[name]: rejecting invalid page at address ... in file "PATH" (cs_mtime:A != mtime:B) ... */
static int classify_codesigning(const char *msg, struct pm_mlog_event *o)
{
    const char *m = strstr(msg, "CODE SIGNING: ");
    if (!m)
        return 0;
    const char *inv = strstr(m, "cs_invalid_page(");
    if (inv) {
        const char *p = strstr(inv, "p=");
        if (!p)
            return 0;
        p += 2;
        pid_t pid = read_pid(&p);
        if (!pid || bracket_name(&p, NULL, o->comm, sizeof(o->comm)) != 0)
            return 0;
        /* Without CS_KILL the kernel only clears CS_VALID or refuses the
         * page ("allow (remove VALID)ing page", "clearing CS_VALID"):
         * nobody dies, so it is not a kill event. */
        if (!strstr(p, "SIGKILL"))
            return 0;
        o->pid = pid;
        set_kind(o, PM_EV_CODESIGN_KILL, "codesign", "cs_invalid_page", 1);
        return 1;
    }
    const char *rej = strstr(m, "rejecting invalid page");
    const char *proc = strstr(m, "process ");
    if (rej && proc && proc < rej) {
        const char *p = proc + strlen("process ");
        pid_t pid = read_pid(&p);
        if (!pid || bracket_name(&p, ": rejecting", o->comm, sizeof(o->comm)) != 0)
            return 0;
        o->pid = pid;
        const char *f = strstr(rej, "in file \"");
        if (f) {
            f += strlen("in file \"");
            const char *fe = strstr(f, "\" (");
            if (!fe)
                fe = strchr(f, '"');
            if (fe)
                copy_span(o->path, sizeof(o->path), f, fe);
        }
        /* "(cs_mtime:A.B != mtime:C.D)": the file changed after its
         * signature was loaded -- a binary replaced under a running
         * process (DESIGN §6, the cargo case). */
        o->mtime_changed = strstr(rej, " != mtime:") != NULL;
        set_kind(o, PM_EV_CODESIGN_KILL, "codesign",
                 o->mtime_changed ? "invalid_page_file_changed" : "invalid_page", 0);
        return 1;
    }
    return 0;
}

/* ASP: Security policy would not allow process: N, PATH  (or without "N, ") */
static int classify_asp(const char *msg, struct pm_mlog_event *o)
{
    static const char key[] = "Security policy would not allow process";
    const char *m = strstr(msg, key);
    if (!m || !strstr(msg, "ASP"))
        return 0;
    const char *p = m + strlen(key);
    if (*p == ':')
        p++;
    while (*p == ' ')
        p++;
    const char *q = p;
    pid_t pid = read_pid(&q);
    if (pid && *q == ',') {
        o->pid = pid;
        p = q + 1;
        while (*p == ' ')
            p++;
    }
    const char *e = p + strlen(p);
    while (e > p && (e[-1] == '\n' || e[-1] == ' '))
        e--;
    copy_span(o->path, sizeof(o->path), p, e);
    const char *slash = strrchr(o->path, '/');
    if (!o->comm[0] && o->path[0])
        pm_strlcpy(o->comm, slash ? slash + 1 : o->path, sizeof(o->comm));
    set_kind(o, PM_EV_CODESIGN_KILL, "codesign", "asp", 1);
    return 1;
}

/* AMFI: lines that deny or reject; AMFI also logs benign decisions. */
static int classify_amfi(const char *msg, struct pm_mlog_event *o)
{
    static const char *const denials[] = {
        "validation failed", "bailing out", "no CMS blob", "not valid", "denying",
        "rejecting", "killed", "restricted entitlements", "Unsatisfied", "not permitted",
    };
    const char *m = strstr(msg, "AMFI: ");
    if (!m)
        return 0;
    int deny = 0;
    for (size_t i = 0; i < sizeof(denials) / sizeof(denials[0]); i++)
        if (strstr(m, denials[i]))
            deny = 1;
    if (!deny)
        return 0;
    const char *q1 = strchr(m, '\'');
    const char *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
    if (q1 && q2) {
        copy_span(o->path, sizeof(o->path), q1 + 1, q2);
        const char *slash = strrchr(o->path, '/');
        pm_strlcpy(o->comm, slash ? slash + 1 : o->path, sizeof(o->comm));
    }
    const char *pp = strstr(m, "pid ");
    if (pp) {
        pp += 4;
        o->pid = read_pid(&pp);
    }
    set_kind(o, PM_EV_CODESIGN_KILL, "codesign", "amfi", 0);
    return 1;
}

int pm_mlog_classify(const char *msg, struct pm_mlog_event *out)
{
    out->kind = 0;
    out->fatal = 0;
    out->pid = 0;
    out->comm[0] = out->cause[0] = out->reason[0] = out->path[0] = '\0';
    out->mtime_changed = 0;
    if (!msg)
        return 0;
    /* Order matters: "memorystatus: X [N] exceeded mem limit" is a limit
     * line, not a kill line. */
    if (classify_mem_limit(msg, out))
        return 1;
    if (classify_memorystatus(msg, out))
        return 1;
    if (classify_codesigning(msg, out))
        return 1;
    if (classify_asp(msg, out))
        return 1;
    if (classify_amfi(msg, out))
        return 1;
    out->kind = 0;
    out->pid = 0;
    out->comm[0] = out->path[0] = '\0';
    return 0;
}

int pm_mlog_parse_line(const char *line, size_t len, struct pm_mlog_event *out)
{
    memset(out, 0, sizeof(*out));
    /* Cheap rejection of the banner ("Filtering the log data using ...")
     * and other noise before asking jansson. */
    size_t i = 0;
    while (i < len && isspace((unsigned char)line[i]))
        i++;
    if (i == len || line[i] != '{')
        return -1;
    json_error_t err;
    json_t *root = json_loadb(line + i, len - i, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return -1;
    int rc = -1;
    json_t *msg = json_object_get(root, "eventMessage");
    if (!json_is_object(root) || !json_is_string(msg))
        goto out;

    json_t *pid = json_object_get(root, "processID");
    if (json_is_integer(pid) && json_integer_value(pid) >= 0 && json_integer_value(pid) <= INT_MAX)
        out->sender_pid = (pid_t)json_integer_value(pid);
    const char *img = json_string_value(json_object_get(root, "processImagePath"));
    if (img) {
        const char *slash = strrchr(img, '/');
        pm_strlcpy(out->sender_comm, slash ? slash + 1 : img, sizeof(out->sender_comm));
    }
    json_t *mt = json_object_get(root, "machTimestamp");
    if (json_is_integer(mt) && json_integer_value(mt) > 0)
        out->mach_ts = (uint64_t)json_integer_value(mt);

    const char *text = json_string_value(msg);
    pm_strlcpy(out->detail, text, sizeof(out->detail));
    size_t dl = strlen(out->detail);
    while (dl && (out->detail[dl - 1] == '\n' || out->detail[dl - 1] == ' '))
        out->detail[--dl] = '\0';
    /* Keep sender and detail across classify (it resets the victim fields). */
    rc = pm_mlog_classify(text, out);
out:
    json_decref(root);
    return rc;
}

void pm_mlog_feed(struct pm_mlog_splitter *s, const char *data, size_t n,
                  void (*fn)(const char *line, size_t len, void *arg), void *arg)
{
    for (size_t i = 0; i < n; i++) {
        char c = data[i];
        if (c == '\n') {
            if (!s->skipping && s->len)
                fn(s->buf, s->len, arg);
            s->len = 0;
            s->skipping = 0;
            continue;
        }
        if (s->skipping)
            continue;
        if (s->len + 1 >= sizeof(s->buf)) {
            s->skipping = 1;
            s->overlong++;
            s->len = 0;
            continue;
        }
        s->buf[s->len++] = c;
    }
}

void pm_mlog_finish(struct pm_mlog_splitter *s,
                    void (*fn)(const char *line, size_t len, void *arg), void *arg)
{
    if (!s->skipping && s->len)
        fn(s->buf, s->len, arg);
    s->len = 0;
    s->skipping = 0;
}
