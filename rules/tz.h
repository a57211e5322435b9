/* rules/tz: civil dates and local time in a named zone, from zoneinfo bytes, without I/O.
 *
 * The rules core must not read files or the clock, yet reminders are due at local times in
 * each clinic's zone (Mexico has several; the border zones still follow US daylight saving).
 * So the edge (daemon, puentectl) reads /usr/share/zoneinfo/NAME itself and hands the bytes
 * to rules_tz_parse(): a TZif file (RFC 8536) with its transitions and the POSIX TZ footer
 * string that extends them past the last one. The core then answers "what is the offset at
 * this instant" and "which instant is this local wall time" for any year.
 *
 * Times: int64 seconds since the epoch, UTC. "Local seconds" are the wall clock read as if
 * it were UTC (local midnight of day D = D * 86400). Days are days since 1970-01-01.
 *
 * Ownership: a struct rules_tz is owned by the caller of rules_tz_parse*() and freed with
 * rules_tz_free(); it keeps no pointer to the input. Immutable once parsed: share freely. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RULES_TZ_FILE_MAX  (256 * 1024) /* the biggest zoneinfo file is ~ 3 kB */
#define RULES_TZ_POSIX_MAX 64           /* longest footer string we accept */
#define RULES_DAY_SECONDS  86400

struct rules_tz;

/* Parses a TZif file (versions 1 to 4). -EBADMSG when it is not one, -ENOMEM. */
int rules_tz_parse(const uint8_t *buf, size_t len, struct rules_tz **ret_tz);

/* A zone from a POSIX TZ string alone ("UTC0", "CST6", "PST8PDT,M3.2.0,M11.1.0"):
 * for tests and for zones written as a rule. -EBADMSG when malformed. */
int rules_tz_parse_posix(const char *s, struct rules_tz **ret_tz);

/* NULL is fine. Returns NULL. */
struct rules_tz *rules_tz_free(struct rules_tz *tz);

/* Seconds east of UTC in force at the instant. A NULL zone is UTC. */
int32_t rules_tz_offset(const struct rules_tz *tz, int64_t utc);

/* The instant a local wall time names. In a gap (clocks jump forward) the time is taken
 * as written with the offset before the jump, i.e. it lands just after the jump (02:30 on
 * a spring-forward night becomes 03:30 new time); in an overlap (clocks go back) the
 * earlier instant wins, so nothing is sent twice. */
int64_t rules_tz_to_utc(const struct rules_tz *tz, int64_t local);

/* utc + offset in force. */
int64_t rules_tz_to_local(const struct rules_tz *tz, int64_t utc);

/* ---- civil calendar (proleptic Gregorian) ---- */

/* Days since 1970-01-01 of y-m-d. No range check beyond m 1..12, d 1..31. */
int64_t rules_days_from_civil(int y, unsigned m, unsigned d);
void rules_civil_from_days(int64_t days, int *ret_y, unsigned *ret_m, unsigned *ret_d);
/* 0 = Sunday .. 6 = Saturday. */
unsigned rules_weekday(int64_t days);
/* floor(a / b) for b > 0, for negative times. */
int64_t rules_floor_div(int64_t a, int64_t b);

/* "YYYY-MM-DD" (also accepts "DD/MM/YYYY") -> days; -EINVAL when malformed or not a real
 * date (30/02). */
int rules_date_parse(const char *s, int64_t *ret_days);
/* days -> "YYYY-MM-DD"; buf of at least 11 bytes. */
void rules_date_format(int64_t days, char buf[static 11]);
