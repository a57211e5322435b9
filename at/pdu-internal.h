/* Helpers the SMS PDU decoder (pdu.c) and encoders (pdu-encode.c) share; not for
 * other modules. Same ownership rules as at/pdu.h: no allocation, the error text is
 * a thread-local static buffer. */
#pragma once

#include <stdarg.h>

#include "at/pdu.h"

#define SMS_ERROR_MAX 160 /* bytes of the thread-local error text */

/* Formats the thread's error text (read back by sms_pdu_error()) and returns err,
 * so callers can write `return sms_pdu_fail(-EBADMSG, "...", ...)`. */
int sms_pdu_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
