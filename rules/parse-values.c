/* rules/parse-values: one converter per kind of value (durations, times, day names,
 * numbers, names), each reporting what it expected. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules/match.h"
#include "rules/parse-internal.h"

#define DAYS_LIMIT    (20 * 366) /* an offset beyond 20 years is a typo */
#define MINUTES_LIMIT (60 * 24 * 366)

struct unit {
        const char *name;
        int scale; /* in the smallest unit of the converter */
};

/* Units in English and Spanish, singular and plural; accents already folded. */
static const struct unit day_units[] = {
        { "day", 1 },     { "days", 1 }, { "dia", 1 },   { "dias", 1 },
        { "d", 1 },       { "week", 7 }, { "weeks", 7 }, { "semana", 7 },
        { "semanas", 7 }, { "w", 7 },    { NULL, 0 },
};
static const struct unit minute_units[] = {
        { "minute", 1 }, { "minutes", 1 }, { "min", 1 },     { "minuto", 1 }, { "minutos", 1 },
        { "m", 1 },      { "hour", 60 },   { "hours", 60 },  { "hora", 60 },  { "horas", 60 },
        { "h", 60 },     { "day", 1440 },  { "days", 1440 }, { "dia", 1440 }, { "dias", 1440 },
        { "d", 1440 },   { NULL, 0 },
};

/* "N unit [N unit...]" with an optional leading '-'; "0" alone is 0. */
static int parse_amount(const char *s, const struct unit *units, int limit, int *ret)
{
        char norm[128];
        const char *p;
        long total = 0;
        bool neg = false, any = false;

        while (isspace((unsigned char)*s))
                s++;
        if (*s == '-' || *s == '+') {
                neg = *s == '-';
                s++;
        }
        if (rules_match_normalize(s, strlen(s), norm, sizeof(norm)) < 0 || !*norm)
                return -EBADMSG;
        if (strcmp(norm, "0") == 0) {
                *ret = 0;
                return 0;
        }
        p = norm;
        while (*p) {
                char *end;
                long n = strtol(p, &end, 10);
                size_t wlen;
                const struct unit *u;

                if (end == p || n < 0 || n > limit)
                        return -EBADMSG;
                p = end;
                if (*p == ' ')
                        p++;
                wlen = strcspn(p, " ");
                for (u = units; u->name; u++)
                        if (strlen(u->name) == wlen && strncmp(u->name, p, wlen) == 0)
                                break;
                if (!u->name)
                        return -EBADMSG;
                total += n * u->scale;
                if (total > limit)
                        return -EBADMSG;
                p += wlen;
                if (*p == ' ')
                        p++;
                any = true;
        }
        if (!any)
                return -EBADMSG;
        *ret = (int)(neg ? -total : total);
        return 0;
}

int parse_days(struct parse_ctx *x, const struct rules_loc *loc, const char *what, const char *s,
               int *ret_days)
{
        int v;

        if (!s || parse_amount(s, day_units, DAYS_LIMIT, &v) < 0) {
                parse_error_at(x, loc,
                               "bad %s '%s'; expected a number of days or weeks such as \"3 "
                               "days\", \"-2 weeks\" or \"1 week 3 days\"",
                               what, s ? s : "");
                return -EBADMSG;
        }
        *ret_days = v;
        return 0;
}

int parse_minutes(struct parse_ctx *x, const struct rules_loc *loc, const char *what, const char *s,
                  int *ret_minutes)
{
        int v;

        if (!s || parse_amount(s, minute_units, MINUTES_LIMIT, &v) < 0 || v < 0) {
                parse_error_at(x, loc,
                               "bad %s '%s'; expected a duration such as \"30 minutes\", \"4 "
                               "hours\" or \"2 days\"",
                               what, s ? s : "");
                return -EBADMSG;
        }
        *ret_minutes = v;
        return 0;
}

static int parse_hhmm(const char *s, const char **end)
{
        int h = 0, m = 0, nh = 0;

        while (isdigit((unsigned char)*s) && nh < 2) {
                h = h * 10 + (*s++ - '0');
                nh++;
        }
        if (nh == 0 || *s != ':' || !isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[2]))
                return -1;
        m = (s[1] - '0') * 10 + (s[2] - '0');
        *end = s + 3;
        if (h > 24 || m > 59 || (h == 24 && m != 0))
                return -1;
        return h * 60 + m;
}

int parse_window(struct parse_ctx *x, const struct rules_loc *loc, const char *what, const char *s,
                 int *ret_start, int *ret_end)
{
        const char *p = s, *end;
        int a, b;

        if (!s)
                goto bad;
        while (*p == ' ')
                p++;
        a = parse_hhmm(p, &end);
        if (a < 0)
                goto bad;
        p = end;
        while (*p == ' ')
                p++;
        if (*p++ != '-')
                goto bad;
        while (*p == ' ')
                p++;
        b = parse_hhmm(p, &end);
        if (b < 0)
                goto bad;
        p = end;
        while (*p == ' ')
                p++;
        if (*p)
                goto bad;
        /* 24:00 ends a window at midnight ("00:00-24:00" is all day); it starts none */
        if (a == RULES_DAY_MINUTES)
                goto bad;
        if (a == b || (a == 0 && b == 0)) {
                parse_error_at(x, loc,
                               "empty %s '%s'; expected a start and a different end "
                               "(\"00:00-24:00\" for all day)",
                               what, s);
                return -EBADMSG;
        }
        *ret_start = a;
        *ret_end = b;
        return 0;
bad:
        parse_error_at(x, loc, "bad %s '%s'; expected HH:MM-HH:MM such as \"09:00-19:00\"", what,
                       s ? s : "");
        return -EBADMSG;
}

int parse_day_name(struct parse_ctx *x, const struct rules_loc *loc, const char *s,
                   unsigned *ret_bit)
{
        /* index = tm_wday; English and Spanish, short and long, accents folded */
        static const char *const names[7][5] = {
                { "sun", "sunday", "dom", "domingo", NULL },
                { "mon", "monday", "lun", "lunes", NULL },
                { "tue", "tuesday", "mar", "martes", NULL },
                { "wed", "wednesday", "mie", "miercoles", NULL },
                { "thu", "thursday", "jue", "jueves", NULL },
                { "fri", "friday", "vie", "viernes", NULL },
                { "sat", "saturday", "sab", "sabado", NULL },
        };
        char norm[32];

        if (s && rules_match_normalize(s, strlen(s), norm, sizeof(norm)) > 0)
                for (unsigned d = 0; d < 7; d++)
                        for (unsigned i = 0; names[d][i]; i++)
                                if (strcmp(norm, names[d][i]) == 0) {
                                        *ret_bit = d;
                                        return 0;
                                }
        parse_error_at(x, loc,
                       "bad day name '%s'; expected mon, tue, wed, thu, fri, sat, sun (or lun, "
                       "mar, mie, jue, vie, sab, dom)",
                       s ? s : "");
        return -EBADMSG;
}

int parse_uint(struct parse_ctx *x, const struct rules_loc *loc, const char *what, const char *s,
               unsigned max, unsigned *ret)
{
        char *end;
        unsigned long v;

        if (!s || !isdigit((unsigned char)*s))
                goto bad;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || *end || v > max)
                goto bad;
        *ret = (unsigned)v;
        return 0;
bad:
        parse_error_at(x, loc, "bad %s '%s'; expected a whole number from 0 to %u", what,
                       s ? s : "", max);
        return -EBADMSG;
}

int parse_bool(struct parse_ctx *x, const struct rules_loc *loc, const char *what, const char *s,
               bool *ret)
{
        static const char *const yes[] = { "true", "yes", "on", "si", NULL };
        static const char *const no[] = { "false", "no", "off", NULL };
        char norm[16];

        if (s && rules_match_normalize(s, strlen(s), norm, sizeof(norm)) > 0) {
                for (unsigned i = 0; yes[i]; i++)
                        if (strcmp(norm, yes[i]) == 0) {
                                *ret = true;
                                return 0;
                        }
                for (unsigned i = 0; no[i]; i++)
                        if (strcmp(norm, no[i]) == 0) {
                                *ret = false;
                                return 0;
                        }
        }
        parse_error_at(x, loc, "bad %s '%s'; expected true or false", what, s ? s : "");
        return -EBADMSG;
}

int parse_enum(struct parse_ctx *x, const struct rules_loc *loc, const char *what, const char *s,
               const char *const *names, int *ret)
{
        char list[256];
        size_t n = 0;

        for (int i = 0; s && names[i]; i++)
                if (strcasecmp(s, names[i]) == 0) {
                        *ret = i;
                        return 0;
                }
        list[0] = '\0';
        for (int i = 0; names[i] && n < sizeof(list); i++)
                n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
                                      !names[i + 1] && i ? " or "
                                      : i                ? ", "
                                                         : "",
                                      names[i]);
        parse_error_at(x, loc, "bad %s '%s'; expected %s", what, s ? s : "", list);
        return -EBADMSG;
}

int parse_name(struct parse_ctx *x, const struct rules_loc *loc, const char *what, const char *s)
{
        size_t n = s ? strlen(s) : 0;
        bool ok = n > 0 && n < RULES_NAME_MAX && islower((unsigned char)s[0]);

        for (size_t i = 0; ok && i < n; i++)
                ok = islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_';
        if (!ok) {
                parse_error_at(x, loc,
                               "bad %s name '%s'; expected lower-case letters, digits and '_', "
                               "starting with a letter, at most %d characters",
                               what, s ? s : "", RULES_NAME_MAX - 1);
                return -EBADMSG;
        }
        return 0;
}

int parse_word(struct parse_ctx *x, const struct rules_loc *loc, const char *s,
               const char **ret_word)
{
        char norm[RULES_WORD_MAX];
        int n = s ? rules_match_normalize(s, strlen(s), norm, sizeof(norm)) : -EINVAL;
        char *w;

        if (n <= 0) {
                parse_error_at(x, loc,
                               n == 0 ? "word '%s' is empty once normalized; expected letters "
                                        "or digits"
                                      : "bad word '%s'; expected at most %d letters or digits",
                               s ? s : "", RULES_WORD_MAX - 1);
                return -EBADMSG;
        }
        w = rules_arena_strdup(x->arena, norm);
        if (!w)
                return -ENOMEM;
        *ret_word = w;
        return 0;
}
