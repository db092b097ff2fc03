/* Logging: one line per event on stderr, written with a single write() so that lines from
 * different threads never interleave. Format: `LEVEL module: text key=value...`. */
#ifndef GW_GATEWAY_LOG_H
#define GW_GATEWAY_LOG_H

#include <stdbool.h>

enum gw_log_level {
    GW_LOG_LEVEL_ERR = 0,
    GW_LOG_LEVEL_WARN,
    GW_LOG_LEVEL_INFO,
    GW_LOG_LEVEL_DEBUG,
};

/* Sets the most verbose level that is printed. Any thread. */
void gw_log_set_level(enum gw_log_level level);

/* Parses "error", "warn", "info" or "debug". Returns 0 or EINVAL. */
int gw_log_level_parse(const char *name, enum gw_log_level *out);

/* True if a line at this level would be printed. Any thread. */
bool gw_log_enabled(enum gw_log_level level);

/* Formats and writes one line. Any thread; lines longer than 1 KiB are cut. */
void gw_log(enum gw_log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Each .c file defines GW_LOG_MODULE "name" before including this header. The level is checked
 * before the arguments are formatted. */
#define GW_LOG_AT(lvl, ...)                                                                        \
    do {                                                                                           \
        if (gw_log_enabled(lvl))                                                                   \
            gw_log(lvl, GW_LOG_MODULE, __VA_ARGS__);                                               \
    } while (0)
#define GW_LOG_ERR(...)   GW_LOG_AT(GW_LOG_LEVEL_ERR, __VA_ARGS__)
#define GW_LOG_WARN(...)  GW_LOG_AT(GW_LOG_LEVEL_WARN, __VA_ARGS__)
#define GW_LOG_INFO(...)  GW_LOG_AT(GW_LOG_LEVEL_INFO, __VA_ARGS__)
#define GW_LOG_DEBUG(...) GW_LOG_AT(GW_LOG_LEVEL_DEBUG, __VA_ARGS__)

#define GW_MUST_CHECK __attribute__((warn_unused_result))

#endif
