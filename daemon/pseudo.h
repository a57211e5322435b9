/* Pseudonyms for the upload: HMAC-SHA256 of a contact's study id under the deployment key,
 * shortened to PSEUDO_HEX_CHARS hex digits (docs/upload.md says why that length). The key is
 * made once from getrandom(), kept 0600 in the state directory, never uploaded, and may be
 * copied to the other boxes of one trial so a person keeps one pseudonym across them.
 *
 * Ownership: struct pseudo_key is a plain value the caller owns (wipe it with
 * pseudo_key_wipe() when done); every string argument is borrowed for the call. No logging:
 * errors are returned, with a description in errmsg (PSEUDO_ERRMSG_MAX bytes) when not NULL. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PSEUDO_KEY_BYTES  32 /* SHA-256's output size: RFC 2104 2 asks for at least that */
#define PSEUDO_HEX_CHARS  16 /* 64 bits of the HMAC: see docs/upload.md "Pseudonyms" */
#define PSEUDO_KEY_ID_HEX 8  /* names the key in batch headers without revealing it */
#define PSEUDO_ERRMSG_MAX 320
#define PSEUDO_KEY_FILE   "upload.key" /* in the state directory, unless key_file is set */

struct pseudo_key {
        uint8_t bytes[PSEUDO_KEY_BYTES];
};

/* Reads the key file at `path` (64 hex digits and a newline), or creates it when missing
 * (getrandom, written 0600 to a temporary file, fsync, link into place so that two
 * processes starting at once agree on one key). *ret_created (may be NULL) says which.
 * -EPERM when the file is readable by group or others (the key would be shared with every
 * local user), -EBADMSG when it is not 64 hex digits. */
int pseudo_key_load(const char *path, struct pseudo_key *ret_key, bool *ret_created, char *errmsg);

/* Parses 64 hex digits (a trailing newline allowed) into a key: -EBADMSG otherwise. */
int pseudo_key_from_hex(const char *text, size_t len, struct pseudo_key *ret_key);

/* The pseudonym of study_id: the first PSEUDO_HEX_CHARS lower-case hex digits of
 * HMAC-SHA256(key, study_id). -EINVAL for an empty study id. */
int pseudo_of(const struct pseudo_key *key, const char *study_id,
              char ret[static PSEUDO_HEX_CHARS + 1]);

/* The key's public name: the first PSEUDO_KEY_ID_HEX hex digits of
 * HMAC-SHA256(key, "puente key id"), so the central team can tell which boxes share a key. */
int pseudo_key_id(const struct pseudo_key *key, char ret[static PSEUDO_KEY_ID_HEX + 1]);

void pseudo_key_wipe(struct pseudo_key *key);
