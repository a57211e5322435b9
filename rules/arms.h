/* rules/arms: trial arm assignment, deterministic and verifiable offline.
 *
 * Keyed hash: arm = the weighted pick of u = HMAC-SHA256(secret, message) read as a number in
 * [0, 1), where message = "puente-arm-v1" NUL trial-name NUL stratum NUL unit-id, unit-id
 * being the study id (unit individual) or the clinic id (unit clinic). The evaluator holds the
 * same secret and recomputes every assignment from the event log (docs/engine.md shows how,
 * with the openssl command line). Arms are picked by cumulative weight in declaration order.
 * Each (stratum, unit) pair is an independent draw, so the share of each arm in every stratum
 * converges to its weight (binomial: over 100,000 contacts the standard deviation of a 50 %
 * share is 0.16 points); test-arms measures it.
 *
 * Sealed list: the evaluator's file "study_id,arm" per line (a header line "study_id,arm" is
 * allowed), parsed by rules_arms_sealed_parse() from bytes the edge has read.
 *
 * Pure: the HMAC (rules/hash.h) only computes. Ownership: arguments are borrowed; a struct
 * rules_sealed is the caller's, freed by rules_arms_sealed_free(). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "rules/rules.h"

#define RULES_ARMS_SECRET_MIN  16 /* bytes of key: 128 bits at least */
#define RULES_ARMS_SECRET_MAX  1024
#define RULES_ARMS_UNIT_MAX    128     /* bytes of a study or clinic id */
#define RULES_ARMS_STRATUM_MAX 256     /* bytes of the joined strata values */
#define RULES_ARMS_SEALED_MAX  1000000 /* rows of a sealed list */

/* The [0, 1) draw of a unit in a stratum (exposed for tests and the verification doc). */
int rules_arms_draw(const uint8_t *secret, size_t secret_len, const char *trial,
                    const char *stratum, const char *unit_id, double *ret_u);

/* The arm index for a unit: -EINVAL for a secret shorter than RULES_ARMS_SECRET_MIN, an
 * over-long id, or a set without a trial. */
int rules_arms_assign(const struct rules_set *set, const uint8_t *secret, size_t secret_len,
                      const char *stratum, const char *unit_id, int *ret_arm);

/* The stratum of a contact: the values of set->trial.strata joined with '/', an unset
 * value written "-". values[i] is field i's value or NULL. -ENOBUFS if it does not fit. */
int rules_arms_stratum(const struct rules_set *set, const char *const *values, char *buf,
                       size_t size);

struct rules_sealed;

/* Parses a sealed list against the set's arms. On a bad line (no comma, empty id, unknown
 * arm, duplicate id) returns -EBADMSG with its number (from 1) in *ret_line. */
int rules_arms_sealed_parse(const struct rules_set *set, const char *buf, size_t len,
                            struct rules_sealed **ret_sealed, unsigned *ret_line);
struct rules_sealed *rules_arms_sealed_free(struct rules_sealed *sealed);
/* The arm the list gives a study id, or -ENOENT (not on the list: do not enrol blindly). */
int rules_arms_sealed_lookup(const struct rules_sealed *sealed, const char *study_id);
