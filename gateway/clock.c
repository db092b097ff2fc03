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
    char secs_part[GW_TIME_LEN];
    if (strftime(secs_part, sizeof(secs_part), "%Y-%m-%dT%H:%M:%S", &tm) != 19) {
        snprintf(out, GW_TIME_LEN, "1970-01-01T00:00:00.000Z");
        return;
    }
    snprintf(out, GW_TIME_LEN, "%.19s.%03uZ", secs_part, (unsigned)(ms % 1000) % 1000u);
}
