/* Internal side of logging: one sink (stderr or a file) shared by named
 * loggers. include/ethd/log.h is what services call. */
#ifndef ETHD_CORE_LOG_H
#define ETHD_CORE_LOG_H
#include <ethd/log.h>
#include <stdio.h>

struct ethd_log_sink;

/* Open a sink writing to `path` (appending), or to stderr when path is NULL
 * or "" or "-". *out: caller frees with ethd_log_sink_close. ETHD_EIO if the
 * file cannot be opened (errno text in err). */
int ethd_log_sink_open(const char *path, enum ethd_log_level level, struct ethd_log_sink **out,
                       char *err, size_t errlen);
void ethd_log_sink_set_level(struct ethd_log_sink *s, enum ethd_log_level level);
void ethd_log_sink_close(struct ethd_log_sink *s);

/* A logger named `name` (copied, e.g. "eth") on sink `s` (borrowed; must
 * outlive the logger). *out: caller frees with ethd_logger_free. */
int ethd_logger_new(struct ethd_log_sink *s, const char *name, struct ethd_logger **out);
void ethd_logger_free(struct ethd_logger *lg);

/* "error", "warn", "info", "debug", "trace" (case-insensitive). ETHD_EINVAL otherwise. */
int ethd_log_parse_level(const char *s, enum ethd_log_level *out);

#endif
