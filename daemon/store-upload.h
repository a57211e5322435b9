/* What the uploader needs from the store beyond daemon/store.h: a contact's study id by its
 * row id (events carry contact ids; the pseudonym is made from the study id). Written by the
 * uploader's helper in daemon/store-contact-id.c; the store's owner may fold it into store.h.
 *
 * Ownership: buf is the caller's; the store is borrowed for the call. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "daemon/store.h"

/* Copies the study id of contact `contact_id` into buf (size bytes, NUL included).
 * -ENOENT when there is no such contact, -ENOBUFS when it does not fit, -EINVAL for an id
 * <= 0; other errors as the store's (store_errmsg() names them). */
int store_contact_study_id(struct store *s, int64_t contact_id, char *buf, size_t size);
