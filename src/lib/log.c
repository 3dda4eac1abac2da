/* log.c — logfmt lines on stderr. */
#include "lib/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum kb_log_level log_threshold = KB_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

void kb_log_set_level(enum kb_log_level lvl)
{
    log_threshold = lvl;
}

int kb_log_level_parse(const char *s)
{
    for (int i = 0; i <= KB_LOG_OFF; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

int kb_log_level_valid(const char *s)
{
    return s ? kb_log_level_parse(s) : -1;
}

const char *kb_logq(char *out, size_t outsz, const char *s)
{
    if (outsz == 0)
        return out;
    bool quote = (*s == '\0');
    for (const char *c = s; *c; c++)
        if (*c == ' ' || *c == '"' || *c == '=' || (unsigned char)*c < 0x20 || *c == '\\')
            quote = true;
    size_t o = 0;
    if (quote && o + 1 < outsz)
        out[o++] = '"';
    for (const char *c = s; *c && o + 3 < outsz; c++) {
        unsigned char ch = (unsigned char)*c;
        if (ch == '"' || ch == '\\') {
            out[o++] = '\\';
            out[o++] = (char)ch;
        } else if (ch == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else if (ch < 0x20) {
            out[o++] = '?';
        } else {
            out[o++] = (char)ch;
        }
    }
    if (quote && o + 1 < outsz)
        out[o++] = '"';
    out[o] = '\0';
    return out;
}

void kb_log(enum kb_log_level lvl, const char *msg, const char *kvfmt, ...)
{
    if (lvl < log_threshold || lvl >= KB_LOG_OFF)
        return;
    char line[2048];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char q[512];
    int n = snprintf(line, sizeof line,
                     "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03dZ level=%s msg=%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000), level_names[lvl],
                     kb_logq(q, sizeof q, msg));
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (kvfmt && *kvfmt && len + 2 < sizeof line) {
        line[len++] = ' ';
        va_list ap;
        va_start(ap, kvfmt);
        int m = vsnprintf(line + len, sizeof line - len, kvfmt, ap);
        va_end(ap);
        if (m > 0)
            len += (size_t)m < sizeof line - len ? (size_t)m : sizeof line - len - 1;
    }
    if (len + 1 >= sizeof line)
        len = sizeof line - 2;
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
