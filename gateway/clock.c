/* Time helpers on clock_gettime. */
#include "gateway/clock.h"

#include <stdio.h>
#include <time.h>

static int64_t read_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t gw_clock_now_ms(void)
{
    return read_clock(CLOCK_REALTIME);
}

int64_t gw_clock_mono_ms(void)
{
    return read_clock(CLOCK_MONOTONIC);
}

void gw_clock_format(int64_t ms, char out[GW_TIME_LEN])
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(out, GW_TIME_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}
