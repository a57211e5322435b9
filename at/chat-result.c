/* Helpers over a command's result (see at/chat.h). */
#include <errno.h>
#include <string.h>

#include "at/chat.h"
#include "at/parse.h"

const char *at_status_name(enum at_status s)
{
        switch (s) {
        case AT_STATUS_OK:
                return "ok";
        case AT_STATUS_ERROR:
                return "error";
        case AT_STATUS_CME:
                return "cme";
        case AT_STATUS_CMS:
                return "cms";
        case AT_STATUS_TIMEOUT:
                return "timeout";
        case AT_STATUS_OTHER:
                return "other";
        case AT_STATUS_RESET:
                return "reset";
        case AT_STATUS_CANCELLED:
                return "cancelled";
        }
        return "?";
}

const struct at_line *at_result_find(const struct at_result *r, const char *prefix)
{
        if (!r || !prefix)
                return NULL;
        size_t plen = strlen(prefix);
        for (size_t i = 0; i < r->n_lines; i++)
                if (strncmp(r->lines[i].text, prefix, plen) == 0)
                        return &r->lines[i];
        return NULL;
}

int at_result_cmgs_mr(const struct at_result *r, int *ret_mr)
{
        if (!r || !ret_mr)
                return -EINVAL;
        switch (r->status) {
        case AT_STATUS_OK:
                break;
        case AT_STATUS_TIMEOUT:
                return -ETIMEDOUT;
        case AT_STATUS_CANCELLED:
                return -ECANCELED;
        case AT_STATUS_RESET:
                return -ECONNRESET;
        default:
                return -EIO;
        }
        const struct at_line *l = at_result_find(r, "+CMGS:");
        if (!l)
                return -ENOMSG;
        return at_parse_cmgs(l->text, ret_mr);
}
