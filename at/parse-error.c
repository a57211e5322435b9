/* +CME/+CMS ERROR lines and their texts (27.007 9.2, 27.005 3.2.5); +CPIN; identities. */
#include "at/parse.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "at/parse-fields.h"

struct err_text {
        int code;
        const char *text;
};

/* 27.007 9.2.1 (general) and 9.2.2 (GPRS) <err> values, numeric and verbose. */
static const struct err_text cme_texts[] = {
        { 0, "phone failure" },
        { 1, "no connection to phone" },
        { 2, "phone-adaptor link reserved" },
        { 3, "operation not allowed" },
        { 4, "operation not supported" },
        { 5, "PH-SIM PIN required" },
        { 6, "PH-FSIM PIN required" },
        { 7, "PH-FSIM PUK required" },
        { 10, "SIM not inserted" },
        { 11, "SIM PIN required" },
        { 12, "SIM PUK required" },
        { 13, "SIM failure" },
        { 14, "SIM busy" },
        { 15, "SIM wrong" },
        { 16, "incorrect password" },
        { 17, "SIM PIN2 required" },
        { 18, "SIM PUK2 required" },
        { 20, "memory full" },
        { 21, "invalid index" },
        { 22, "not found" },
        { 23, "memory failure" },
        { 24, "text string too long" },
        { 25, "invalid characters in text string" },
        { 26, "dial string too long" },
        { 27, "invalid characters in dial string" },
        { 30, "no network service" },
        { 31, "network timeout" },
        { 32, "network not allowed - emergency calls only" },
        { 40, "network personalization PIN required" },
        { 41, "network personalization PUK required" },
        { 42, "network subset personalization PIN required" },
        { 43, "network subset personalization PUK required" },
        { 44, "service provider personalization PIN required" },
        { 45, "service provider personalization PUK required" },
        { 46, "corporate personalization PIN required" },
        { 47, "corporate personalization PUK required" },
        { 48, "hidden key required" },
        { 49, "EAP method not supported" },
        { 50, "incorrect parameters" },
        { 100, "unknown" },
        { 103, "Illegal MS" },
        { 106, "Illegal ME" },
        { 107, "GPRS services not allowed" },
        { 111, "PLMN not allowed" },
        { 112, "Location area not allowed" },
        { 113, "Roaming not allowed in this location area" },
        { 132, "service option not supported" },
        { 133, "requested service option not subscribed" },
        { 134, "service option temporarily out of order" },
        { 148, "unspecified GPRS error" },
        { 149, "PDP authentication failure" },
        { 150, "invalid mobile class" },
};

/* 27.005 3.2.5 <err> values. */
static const struct err_text cms_texts[] = {
        { 300, "ME failure" },
        { 301, "SMS service of ME reserved" },
        { 302, "operation not allowed" },
        { 303, "operation not supported" },
        { 304, "invalid PDU mode parameter" },
        { 305, "invalid text mode parameter" },
        { 310, "SIM not inserted" },
        { 311, "SIM PIN required" },
        { 312, "PH-SIM PIN required" },
        { 313, "SIM failure" },
        { 314, "SIM busy" },
        { 315, "SIM wrong" },
        { 316, "SIM PUK required" },
        { 317, "SIM PIN2 required" },
        { 318, "SIM PUK2 required" },
        { 320, "memory failure" },
        { 321, "invalid memory index" },
        { 322, "memory full" },
        { 330, "SMSC address unknown" },
        { 331, "no network service" },
        { 332, "network timeout" },
        { 340, "no +CNMA acknowledgement expected" },
        { 500, "unknown error" },
};

static int lookup(const struct err_text *t, size_t n, const char *text)
{
        for (size_t i = 0; i < n; i++)
                if (strcasecmp(t[i].text, text) == 0)
                        return t[i].code;
        return -1;
}

int at_cme_from_text(const char *text)
{
        return text ? lookup(cme_texts, sizeof(cme_texts) / sizeof(cme_texts[0]), text) : -1;
}

int at_cms_from_text(const char *text)
{
        return text ? lookup(cms_texts, sizeof(cms_texts) / sizeof(cms_texts[0]), text) : -1;
}

int at_parse_error(const char *line, struct at_error *ret)
{
        if (!line || !ret)
                return -EINVAL;
        struct at_error e = { .code = -1 };
        const char *s;
        if (strncmp(line, "+CME ERROR", 10) == 0)
                e.cms = false;
        else if (strncmp(line, "+CMS ERROR", 10) == 0)
                e.cms = true;
        else
                return -EBADMSG;
        s = line + 10;
        /* "+CME ERROR:10" (no space) and "+CME ERROR: 10" alike. */
        if (*s == ':')
                s++;
        else if (*s != '\0')
                return -EBADMSG;
        while (*s == ' ')
                s++;
        size_t n = strlen(s);
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
                n--;
        if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
                s++;
                n -= 2;
        }
        if (n >= sizeof(e.text))
                n = sizeof(e.text) - 1; /* kept for people only; the number is what counts */
        memcpy(e.text, s, n);
        e.text[n] = '\0';
        struct at_field f = { .p = e.text, .len = n };
        int code;
        if (at_field_int(&f, &code) == 0 && code >= 0)
                e.code = code;
        else if (n > 0)
                e.code = e.cms ? at_cms_from_text(e.text) : at_cme_from_text(e.text);
        *ret = e;
        return 0;
}

int at_parse_cpin(const char *line, struct at_cpin *ret)
{
        static const struct {
                const char *code;
                enum at_pin_state state;
        } codes[] = {
                { "READY", AT_PIN_READY },       { "SIM PIN", AT_PIN_SIM_PIN },
                { "SIM PUK", AT_PIN_SIM_PUK },   { "SIM PIN2", AT_PIN_SIM_PIN2 },
                { "SIM PUK2", AT_PIN_SIM_PUK2 }, { "PH-SIM PIN", AT_PIN_PH_SIM_PIN },
        };
        struct at_field f[2];
        size_t n;
        if (!line || !ret)
                return -EINVAL;
        if (at_fields_split(line, "+CPIN:", f, 2, &n) < 0 || n != 1 || f[0].len == 0)
                return -EBADMSG;
        struct at_cpin c = { .state = AT_PIN_OTHER };
        if (at_field_str(&f[0], c.text, sizeof(c.text)) < 0)
                return -ENOBUFS;
        for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
                if (at_field_is(&f[0], codes[i].code))
                        c.state = codes[i].state;
        *ret = c;
        return 0;
}

/* Answers that carry a prefix before the number; bare numbers are accepted as well. */
static const char *const id_prefixes[] = {
        "+CGSN:", "+GSN:", "+CIMI:", "+CCID:", "+ICCID:", "+QCCID:", "^ICCID:",
};

int at_parse_identity(const char *line, char *ret_id, size_t size)
{
        if (!line || !ret_id)
                return -EINVAL;
        const char *s = line;
        for (size_t i = 0; i < sizeof(id_prefixes) / sizeof(id_prefixes[0]); i++) {
                size_t n = strlen(id_prefixes[i]);
                if (strncasecmp(s, id_prefixes[i], n) == 0) {
                        s += n;
                        break;
                }
        }
        while (*s == ' ' || *s == '"')
                s++;
        size_t n = strlen(s);
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '"' || s[n - 1] == '\t'))
                n--;
        if (n < 5 || n >= AT_PARSE_ID_MAX)
                return -EBADMSG;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                /* An ICCID of 19 digits is padded with F to 20 (ITU-T E.118). */
                bool pad = (c == 'F' || c == 'f') && i == n - 1;
                if (!(c >= '0' && c <= '9') && !pad)
                        return -EBADMSG;
        }
        if (n >= size)
                return -ENOBUFS;
        memcpy(ret_id, s, n);
        ret_id[n] = '\0';
        return 0;
}
