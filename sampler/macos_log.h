/*
 * Parser for macOS `log stream --style ndjson` lines: which kernel kill
 * messages name which victim.
 *
 * pressmon runs `log stream --style ndjson --predicate ...` (see
 * sampler/darwin/logstream.c) and hands each output line to
 * pm_mlog_parse_line.  A line is one JSON object with fields such as
 * timestamp, machTimestamp, messageType, eventType, processID,
 * processImagePath, senderImagePath, subsystem, category, eventMessage.
 * Kernel lines carry processID 0 and processImagePath "/kernel", so the
 * victim is the pid named in the text, never processID.
 *
 * Message families recognised (formats from xnu's printf/os_log strings):
 *   memorystatus: killing_<how> pid N [name] (<cause> <prio> ...)      memory kill
 *   EXC_RESOURCE -> name[N] exceeded mem limit: ActiveHard M MB (fatal)  memory limit
 *   memorystatus: name [N] exceeded mem limit: ...                      memory limit
 *   CODE SIGNING: cs_invalid_page(0x..): p=N[name] ... sending SIGKILL  code-signing kill
 *   CODE SIGNING: process N[name]: rejecting invalid page ... in file
 *       "PATH" (cs_mtime:A.B != mtime:C.D) ...                          code-signing kill
 *   AMFI: 'PATH' ... / AMFI: code signature validation failed ...       code-signing evidence
 *   ASP: Security policy would not allow process: N, PATH              security-policy kill
 * Everything else parses as "not interesting".  Pure C, no I/O; the only
 * allocation is jansson's while parsing one line (the event thread, never
 * the sampler thread).
 */
#ifndef PM_MACOS_LOG_H
#define PM_MACOS_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "record.h"

struct pm_mlog_event {
    int kind;               /* PM_EV_MEMORY_KILL, PM_EV_CODESIGN_KILL, PM_EV_NOTICE */
    int fatal;              /* 1: the line itself says the process is (being) killed */
    pid_t pid;              /* victim named in the text; 0 if the text names none */
    char comm[PM_COMM_MAX]; /* victim's name from the text, if any */
    char cause[32];         /* exitinfo.h vocabulary: "memory" or "codesign" */
    char reason[48];        /* e.g. "per-process-limit", "cs_invalid_page", "asp" */
    char path[256];         /* file named in the text (AMFI, ASP, rejecting page) */
    int mtime_changed;      /* rejecting invalid page: cs_mtime != mtime (file replaced) */
    pid_t sender_pid;       /* processID of the line (0 = kernel) */
    char sender_comm[PM_COMM_MAX]; /* basename of processImagePath ("kernel") */
    uint64_t mach_ts;       /* machTimestamp, 0 if absent */
    char detail[PM_DETAIL_MAX]; /* the eventMessage, shortened */
};

/* Parse one line (without its newline; need not be NUL-terminated).
 * Returns 1 and fills *out for a recognised kill/limit message, 0 for a
 * valid log entry that is not one (out->kind == 0), -1 for anything that
 * is not a JSON object with an eventMessage string (the "Filtering the
 * log data..." banner, garbage, a truncated line). */
int pm_mlog_parse_line(const char *line, size_t len, struct pm_mlog_event *out);

/* Classify the text of one eventMessage (the part of pm_mlog_parse_line
 * that does not need JSON).  Same return convention (never -1). */
int pm_mlog_classify(const char *msg, struct pm_mlog_event *out);

/* Splits a byte stream into lines.  Bytes arrive in arbitrary chunks from
 * a pipe: a line may be cut anywhere.  A line longer than the buffer is
 * dropped whole (counted in `overlong`) rather than parsed in pieces. */
#define PM_MLOG_LINE_MAX 16384
struct pm_mlog_splitter {
    char buf[PM_MLOG_LINE_MAX];
    size_t len;
    int skipping;           /* inside an overlong line: drop until '\n' */
    uint64_t overlong;
};

/* Feed `n` bytes; calls fn(line, len, arg) for each complete line.  A
 * final line without '\n' stays buffered until more bytes (or
 * pm_mlog_finish) arrive. */
void pm_mlog_feed(struct pm_mlog_splitter *s, const char *data, size_t n,
                  void (*fn)(const char *line, size_t len, void *arg), void *arg);
/* End of stream: hand over a buffered unterminated line, if any. */
void pm_mlog_finish(struct pm_mlog_splitter *s,
                    void (*fn)(const char *line, size_t len, void *arg), void *arg);

/* The predicate pressmon passes to `log stream`: the kernel families above. */
extern const char pm_mlog_predicate[];

#endif
