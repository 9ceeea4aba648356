/* Structured logging: "TIME LEVEL [logger] event key=value ...".
 * Loggers are owned by the node; a service gets its own (named after the
 * service) through ethd_ctx_logger(). Safe to call from any thread. */
#ifndef ETHD_LOG_H
#define ETHD_LOG_H
#include <stdbool.h>

enum ethd_log_level {
    ETHD_LOG_ERROR = 0,
    ETHD_LOG_WARN = 1,
    ETHD_LOG_INFO = 2,
    ETHD_LOG_DEBUG = 3,
    ETHD_LOG_TRACE = 4,
};

struct ethd_logger;

/* Log `event` (a short fixed phrase) followed by printf-formatted `fields`,
 * which by convention are space-separated key=value pairs (may be NULL). */
void ethd_log(const struct ethd_logger *lg, enum ethd_log_level level, const char *event,
              const char *fields, ...) __attribute__((format(printf, 4, 5)));
bool ethd_log_enabled(const struct ethd_logger *lg, enum ethd_log_level level);

#define ETHD_ERROR(lg, ev, ...) ethd_log((lg), ETHD_LOG_ERROR, (ev), __VA_ARGS__)
#define ETHD_WARN(lg, ev, ...) ethd_log((lg), ETHD_LOG_WARN, (ev), __VA_ARGS__)
#define ETHD_INFO(lg, ev, ...) ethd_log((lg), ETHD_LOG_INFO, (ev), __VA_ARGS__)
#define ETHD_DEBUG(lg, ev, ...) ethd_log((lg), ETHD_LOG_DEBUG, (ev), __VA_ARGS__)

#endif
