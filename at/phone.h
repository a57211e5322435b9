/* Phone numbers: normalization of what people type (and what modems report) to E.164.
 *
 * Pure and I/O-free: nothing allocates, nothing logs; the result is written into the
 * caller's buffer. Every string argument is borrowed for the duration of the call.
 *
 * What is accepted (ITU-T E.164, E.123 for the visual separators):
 *  - separators: spaces, tabs, '-', '.', '(' and ')' anywhere between digits;
 *  - international form: a leading '+' or the international prefix "00", then the country
 *    calling code and the national significant number;
 *  - national form: digits with the national trunk prefixes of the default country removed.
 *    For Mexico (+52) these are the prefixes dropped by the numbering reform of August 2019
 *    (044 and 045 for mobiles, 01 for long distance), leaving the 10-digit national number;
 *    and the mobile "1" after +52 that the same reform removed (+52 1 XXXXXXXXXX becomes
 *    +52XXXXXXXXXX). For the NANP (+1) the trunk prefix is "1"; elsewhere it is "0".
 * What is refused, with the problem named by phone_problem_str(): empty input, letters
 * (vanity numbers are not dialled by SMS senders), any other character, a '+' that is not
 * first, a country code starting with 0, and numbers too short or too long (E.164 6.2.1:
 * at most 15 digits including the country code; per country where the length is known).
 * Short codes and alphanumeric senders are not phone numbers: callers keep them as they are.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PHONE_E164_DIGITS_MAX 15 /* E.164 6.2.1: country code + national number */
#define PHONE_E164_DIGITS_MIN 7  /* shortest real numbers (e.g. +683 XXXX, Niue) */
#define PHONE_E164_MAX        17 /* "+", 15 digits and the NUL */
#define PHONE_INPUT_MAX       64 /* longer input is refused before looking at it */
#define PHONE_CC_MAX          999
#define PHONE_MX_CC           52
#define PHONE_MX_NSN_DIGITS   10 /* Mexican national numbers since the 2019 reform */

enum phone_problem {
        PHONE_OK,
        PHONE_EMPTY,          /* no digits at all */
        PHONE_LETTER,         /* a letter in the number */
        PHONE_BAD_CHAR,       /* a character other than digits and separators */
        PHONE_MISPLACED_PLUS, /* '+' somewhere else than first */
        PHONE_BAD_COUNTRY,    /* country code 0 or out of range */
        PHONE_TOO_SHORT,      /* fewer digits than the country (or E.164) allows */
        PHONE_TOO_LONG,       /* more digits than the country allows or 15 */
        PHONE_INPUT_TOO_LONG, /* more than PHONE_INPUT_MAX bytes */
};

/* Normalizes `input` to E.164 ("+" and digits) into ret_e164 (PHONE_E164_MAX bytes) using
 * default_cc (a country calling code, e.g. 52) for numbers given in national form.
 * Returns 0, or -EINVAL with *problem (when problem is not NULL) saying why; ret_e164 is
 * written only on success. A default_cc that phone_cc_valid() refuses is
 * PHONE_BAD_COUNTRY, whatever the input. */
int phone_normalize(const char *input, unsigned default_cc, char ret_e164[PHONE_E164_MAX],
                    enum phone_problem *problem);

/* Whether cc can be an E.164 country calling code. Codes are prefix-free (E.164 6.2.1):
 * 1 (NANP) and 7 stand alone, so no other code starts with 1 or 7 (Anguilla is +1 264, not
 * 1264); the assigned two-digit codes (20, 27, 30 ... 98) start no three-digit code; every
 * other code has three digits. Only this structure is checked: a spare three-digit code
 * (e.g. 280) passes. */
bool phone_cc_valid(unsigned cc);

/* A short English phrase for people ("contains a letter"); never NULL. */
const char *phone_problem_str(enum phone_problem problem);

/* Looks up the country calling code of an ISO 3166-1 alpha-2 code ("MX" -> 52), case
 * insensitive, from a small table of the countries Puente has been asked about.
 * Returns 0 and writes *ret_cc, or -ENOENT for a code not in the table. */
int phone_country_code(const char *iso, unsigned *ret_cc);
