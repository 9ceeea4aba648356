/* Structured logging to stderr or a file. One line per event, written under
 * the stdio lock so lines from worker threads never interleave. */
#include "log.h"

#include <ethd/error.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

struct ethd_log_sink {
    FILE *fp;
    bool owned;
    volatile int level;
};

struct ethd_logger {
    struct ethd_log_sink *sink;
    char name[32];
};

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG", "TRACE"};

int ethd_log_sink_open(const char *path, enum ethd_log_level level, struct ethd_log_sink **out,
                       char *err, size_t errlen)
{
    struct ethd_log_sink *s = calloc(1, sizeof(*s));
    if (!s)
        return ETHD_ENOMEM;
    if (!path || !*path || strcmp(path, "-") == 0) {
        s->fp = stderr;
    } else {
        s->fp = fopen(path, "a");
        if (!s->fp) {
            if (err)
                snprintf(err, errlen, "cannot open log file %s: %s", path, strerror(errno));
            free(s);
            return ETHD_EIO;
        }
        setvbuf(s->fp, NULL, _IOLBF, 0);
        s->owned = true;
    }
    s->level = (int)level;
    *out = s;
    return 0;
}

void ethd_log_sink_set_level(struct ethd_log_sink *s, enum ethd_log_level level)
{
    s->level = (int)level;
}

void ethd_log_sink_close(struct ethd_log_sink *s)
{
    if (!s)
        return;
    if (s->owned)
        fclose(s->fp);
    else
        fflush(s->fp);
    free(s);
}

int ethd_logger_new(struct ethd_log_sink *s, const char *name, struct ethd_logger **out)
{
    struct ethd_logger *lg = calloc(1, sizeof(*lg));
    if (!lg)
        return ETHD_ENOMEM;
    lg->sink = s;
    snprintf(lg->name, sizeof(lg->name), "%s", name ? name : "");
    *out = lg;
    return 0;
}

void ethd_logger_free(struct ethd_logger *lg)
{
    free(lg);
}

int ethd_log_parse_level(const char *s, enum ethd_log_level *out)
{
    for (int i = 0; i < 5; i++) {
        if (strcasecmp(s, level_names[i]) == 0 || (i == 1 && strcasecmp(s, "warning") == 0)) {
            *out = (enum ethd_log_level)i;
            return 0;
        }
    }
    return ETHD_EINVAL;
}

bool ethd_log_enabled(const struct ethd_logger *lg, enum ethd_log_level level)
{
    return lg && lg->sink && (int)level <= lg->sink->level;
}

void ethd_log(const struct ethd_logger *lg, enum ethd_log_level level, const char *event,
              const char *fields, ...)
{
    if (!ethd_log_enabled(lg, level))
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[32];
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);

    char line[2048];
    int n = snprintf(line, sizeof(line), "%s.%03dZ %-5s [%s] %s", ts, (int)(tv.tv_usec / 1000),
                     level_names[level], lg->name, event ? event : "");
    if (n < 0)
        return;
    if (fields && *fields && (size_t)n < sizeof(line) - 1) {
        line[n++] = ' ';
        va_list ap;
        va_start(ap, fields);
        int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fields, ap);
        va_end(ap);
        if (m > 0)
            n += m;
    }
    if ((size_t)n >= sizeof(line))
        n = sizeof(line) - 1; /* truncated: keep the line whole rather than split */
    FILE *fp = lg->sink->fp;
    flockfile(fp);
    fwrite(line, 1, (size_t)n, fp);
    putc_unlocked('\n', fp);
    funlockfile(fp);
}
