/* Logging to stderr, one write() per line; the level is a process-wide atomic. */
#include "gateway/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static atomic_int log_level = GW_LOG_LEVEL_INFO;

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void gw_log_set_level(enum gw_log_level level)
{
    atomic_store(&log_level, (int)level);
}

int gw_log_level_parse(const char *name, enum gw_log_level *out)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (enum gw_log_level)i;
            return 0;
        }
    }
    return EINVAL;
}

bool gw_log_enabled(enum gw_log_level level)
{
    return (int)level <= atomic_load(&log_level);
}

void gw_log(enum gw_log_level level, const char *module, const char *fmt, ...)
{
    char line[1024];
    int n = snprintf(line, sizeof(line), "%s %s: ", level_names[level], module);
    if (n < 0)
        return;
    size_t used = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + used, sizeof(line) - used, fmt, ap);
    va_end(ap);
    if (m > 0)
        used += (size_t)m < sizeof(line) - used ? (size_t)m : sizeof(line) - used - 1;
    /* Newlines inside the text would split one event into two lines. */
    for (size_t i = 0; i < used; i++) {
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    }
    if (used >= sizeof(line) - 1)
        used = sizeof(line) - 2;
    line[used++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, used);
    (void)w;
}
