/* Internal to at/chat*.c: the built-in tables of URC prefixes, boot lines and final
 * responses. Constant data; vendors extend the per-chat copies with at_chat_register_urc()
 * and at_chat_add_final(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "at/chat.h"

/* Room reserved for the built-in tables (checked at compile time in at/chat-tables.c). */
#define AT_CHAT_BUILTIN_URCS_MAX   64
#define AT_CHAT_BUILTIN_FINALS_MAX 16

struct at_chat_builtin_urc {
        const char *prefix;
        bool has_pdu; /* a PDU line follows (27.005 3.4.1 +CMT/+CDS/+CBM in PDU mode) */
};

struct at_chat_builtin_final {
        const char *text;
        bool prefix; /* match lines starting with text, else the whole line */
        enum at_status status;
};

extern const struct at_chat_builtin_urc at_chat_builtin_urcs[];
extern const size_t at_chat_builtin_urcs_n;
extern const struct at_chat_builtin_final at_chat_builtin_finals[];
extern const size_t at_chat_builtin_finals_n;

/* True if the whole line (trailing blanks ignored) is one a modem prints only while booting. */
bool at_chat_is_boot_line(const char *line);
