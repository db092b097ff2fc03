/* Time helpers: wall-clock milliseconds for stored timestamps, monotonic milliseconds for
 * deadlines, and RFC 3339 formatting. Any thread. */
#ifndef GW_GATEWAY_CLOCK_H
#define GW_GATEWAY_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define GW_TIME_LEN 25 /* "2026-11-26T07:30:50.123Z" and NUL */

/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t gw_clock_now_ms(void);

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t gw_clock_mono_ms(void);

/* Writes ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC). */
void gw_clock_format(int64_t ms, char out[GW_TIME_LEN]);

#endif
