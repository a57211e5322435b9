/* Helpers shared inside the SMS PDU codec (pdu.c decodes, pdu-encode.c encodes,
 * pdu-fields.c writes addresses and times, pdu-util.c keeps the error text and hex);
 * not for other modules. Same rules as at/pdu.h: no allocation; the error text is a
 * thread-local static buffer. */
#pragma once

#include <stdarg.h>

#include "at/pdu.h"

#define SMS_ERROR_MAX       160 /* bytes of the thread-local error text */
#define SMS_ADDR_OCTETS_MAX 12  /* an address: length, type and 10 octets of digits */

/* Formats the thread's error text, read back by sms_pdu_error(). */
void sms_pdu_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Sets the error text and yields err, so callers can write
 * `return sms_pdu_fail(-EBADMSG, "...", ...)`. A macro rather than a variadic function
 * returning err: the static analyzer does not follow variadic calls, so it could not see
 * that every failure path returns a negative errno (tests/lint.sh). */
#define sms_pdu_fail(err, ...) (sms_pdu_set_error(__VA_ARGS__), (err))

/* Field writers (pdu-fields.c). Each writes at out and returns the octets written,
 * or -EINVAL with the error text set. */

/* A TP address: length in semi-octets, type, digits ("+" makes it international,
 * type 91, else 81; '*' and '#' are digits). Anything else is an alphanumeric name
 * (type D0, at most SMS_ALNUM_MAX septets) when alnum_ok, else -EINVAL. `what` names
 * the field in errors. At most SMS_ADDR_OCTETS_MAX octets. */
int sms_pdu_put_address(const char *num, bool alnum_ok, const char *what, uint8_t *out);

/* The SMSC address as TS 27.005 3.1 puts it before the TPDU (length in octets), or the
 * single octet 00 when smsc is NULL or empty. */
int sms_pdu_put_smsc(const char *smsc, uint8_t *out);

/* Seven octets of TS 23.040 9.2.3.11 time stamp. */
int sms_pdu_put_time(const struct sms_time *t, const char *what, uint8_t *out);

/* TP-VP relative format for 1..SMS_VALIDITY_MAX minutes, rounded up. */
int sms_pdu_relative_vp(int minutes);
