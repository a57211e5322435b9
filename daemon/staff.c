/* Staff commands, the pure part: command words, who is staff, the throttle, and the replies
 * (one GSM 7-bit SMS each). No clock, store or log: daemon/staff-queue.c is the edge. */
#include "daemon/staff.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "at/pdu.h"
#include "at/phone.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
        const char *word;
        enum staff_command cmd;
        enum staff_lang lang;
} words[] = {
        { "estado", STAFF_CMD_STATUS, STAFF_LANG_ES },
        { "status", STAFF_CMD_STATUS, STAFF_LANG_EN },
        { "prueba", STAFF_CMD_TEST, STAFF_LANG_ES },
        { "test", STAFF_CMD_TEST, STAFF_LANG_EN },
        { "ayuda", STAFF_CMD_HELP, STAFF_LANG_ES },
        { "help", STAFF_CMD_HELP, STAFF_LANG_EN },
};

/* Spaces, ASCII punctuation and the Spanish opening marks (¿ U+00BF, ¡ U+00A1) around a
 * word; returns the bytes taken at s (0 when s is not one). */
static size_t filler_len(const char *s)
{
        unsigned char c = (unsigned char)s[0];

        if (c == 0xC2 && ((unsigned char)s[1] == 0xBF || (unsigned char)s[1] == 0xA1))
                return 2;
        if (c && c < 0x80 && !((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !(c >= '0' && c <= '9'))
                return 1;
        return 0;
}

int staff_parse_command(const char *text, enum staff_command *ret_cmd, enum staff_lang *ret_lang)
{
        char word[STAFF_COMMAND_MAX];
        size_t n = 0, k;

        if (!text || strlen(text) >= STAFF_COMMAND_MAX)
                return -ENOENT;
        while ((k = filler_len(text)) > 0)
                text += k;
        while (((*text | 0x20) >= 'a' && (*text | 0x20) <= 'z') && n + 1 < sizeof(word))
                word[n++] = (char)(*text++ | 0x20);
        word[n] = '\0';
        while ((k = filler_len(text)) > 0)
                text += k;
        if (*text || n == 0)
                return -ENOENT;
        for (size_t i = 0; i < N(words); i++) {
                if (strcmp(words[i].word, word) == 0) {
                        *ret_cmd = words[i].cmd;
                        *ret_lang = words[i].lang;
                        return 0;
                }
        }
        return -ENOENT;
}

/* ---- the throttle ---- */

int staff_throttle_take(struct staff_throttle *t, const char *number, unsigned per_hour,
                        int64_t now, bool *ret_first)
{
        unsigned i, pick = 0, kept = 0;

        if (!number || !*number || strlen(number) >= STORE_NUMBER_MAX || per_hour < 1 ||
            per_hour > CONFIG_STAFF_REPLIES_MAX)
                return -EINVAL;
        for (i = 0; i < STAFF_THROTTLE_SENDERS; i++)
                if (strcmp(t->slot[i].number, number) == 0)
                        break;
        if (i == STAFF_THROTTLE_SENDERS) {
                /* an empty slot, else the number quiet for longest */
                for (i = 0; i < STAFF_THROTTLE_SENDERS; i++) {
                        if (!t->slot[i].number[0]) {
                                pick = i;
                                break;
                        }
                        if (t->slot[i].last < t->slot[pick].last)
                                pick = i;
                }
                i = pick;
                memset(&t->slot[i], 0, sizeof(t->slot[i]));
                memcpy(t->slot[i].number, number, strlen(number) + 1);
        }
        typeof(t->slot[0]) *s = &t->slot[i];
        for (unsigned j = 0; j < s->n; j++)
                if (s->times[j] > now - STAFF_THROTTLE_WINDOW_S)
                        s->times[kept++] = s->times[j];
        s->n = kept;
        s->last = now;
        if (s->n >= per_hour) {
                if (ret_first)
                        *ret_first = !s->silenced;
                s->silenced = true;
                return 0;
        }
        s->times[s->n++] = now;
        s->silenced = false;
        return 1;
}

/* ---- replies ---- */

/* Whether text fits one GSM 7-bit SMS (extension characters count two septets). */
static bool fits_one_sms(const char *text)
{
        struct sms_text_info info;

        return sms_text_analyze(text, false, &info) == 0 && info.charset == SMS_CHARSET_GSM7 &&
               info.units <= STAFF_SMS_MAX;
}

/* Appends to buf (STAFF_REPLY_MAX) if the result still fits one SMS; returns whether. */
static bool __attribute__((format(printf, 2, 3))) add(char *buf, const char *fmt, ...)
{
        size_t n = strlen(buf);
        va_list ap;
        int w;

        va_start(ap, fmt);
        w = vsnprintf(buf + n, STAFF_REPLY_MAX - n, fmt, ap);
        va_end(ap);
        if (w < 0 || (size_t)w >= STAFF_REPLY_MAX - n || !fits_one_sms(buf)) {
                buf[n] = '\0';
                return false;
        }
        return true;
}

/* Plain words for each problem; written without á, í, ó, ú (outside GSM 7-bit, they would
 * turn the reply into UCS-2 with 70 characters). ñ is in the GSM alphabet. */
static const char *const problem_words[STAFF_PROB_COUNT][2] = {
        { "no hay modem conectado", "no modem connected" },
        { "modem sin SIM", "modem without SIM" },
        { "la SIM pide PIN", "SIM needs a PIN" },
        { "modem sin red", "modem without network" },
        { "modem con falla", "modem out of service" },
        { "mensajes fallidos", "messages failed" }, /* after the count */
        { "sin reglas", "no rules" },
        { "sin destino de subida", "no upload target" },
        { "subida atrasada", "upload overdue" },
};

static void format_age(int64_t age, enum staff_lang lang, char *buf, size_t size)
{
        bool es = lang == STAFF_LANG_ES;

        if (age < 0)
                snprintf(buf, size, "%s", es ? "nunca" : "never");
        else if (age < 3600)
                snprintf(buf, size, es ? "hace %lld min" : "%lld min ago", (long long)age / 60);
        else if (age < 2 * 86400)
                snprintf(buf, size, es ? "hace %lld h" : "%lld h ago", (long long)age / 3600);
        else
                snprintf(buf, size, es ? "hace %lld d" : "%lld d ago", (long long)age / 86400);
}

/* Base text, then the first `k` of the n problems, then "+N mas" for the rest. */
static bool compose(char *buf, const char *base, const char (*probs)[STAFF_REPLY_MAX], unsigned n,
                    unsigned k, bool es)
{
        snprintf(buf, STAFF_REPLY_MAX, "%s", base);
        if (n == 0)
                return add(buf, "%s", es ? " ninguno." : " none.");
        for (unsigned i = 0; i < k; i++)
                if (!add(buf, "%s %s", i ? "," : "", probs[i]))
                        return false;
        if (k < n)
                return add(buf, "%s+%u %s", k ? ", " : " ", n - k, es ? "mas" : "more");
        return add(buf, ".");
}

static int format_status(const struct staff_status *st, enum staff_lang lang, const char *head,
                         char *buf, size_t size)
{
        bool es = lang == STAFF_LANG_ES;
        char age[32], base[STAFF_REPLY_MAX] = "", probs[STAFF_PROB_COUNT][STAFF_REPLY_MAX];
        unsigned n = 0;

        if (size < STAFF_REPLY_MAX)
                return -ENOBUFS;
        add(base, es ? "%s modems %u/%u listos" : "%s modems %u/%u ready", head, st->modems_ready,
            st->modems);
        if (st->bars >= 0)
                add(base, es ? ", señal %d/4" : ", signal %d/4", st->bars);
        add(base, es ? ", hoy %u enviados, %u en cola" : ", %u sent today, %u queued",
            st->sent_today, st->queued);
        if (st->upload_configured) {
                format_age(st->last_upload_age, lang, age, sizeof(age));
                add(base, es ? ", subida %s" : ", upload %s", age);
        }
        add(base, "%s", es ? ". Problemas:" : ". Problems:");
        for (unsigned i = 0; i < STAFF_PROB_COUNT; i++)
                if (st->problems & (1u << i) && (1u << i) == STAFF_PROB_FAILED_PARTS)
                        snprintf(probs[n++], STAFF_REPLY_MAX, "%u %s", st->failed,
                                 problem_words[i][es ? 0 : 1]);
                else if (st->problems & (1u << i))
                        snprintf(probs[n++], STAFF_REPLY_MAX, "%s", problem_words[i][es ? 0 : 1]);
        /* as many problems as fit, most urgent first; "+N" counts the others */
        for (unsigned k = n + 1; k-- > 0;)
                if (compose(buf, base, (const char(*)[STAFF_REPLY_MAX])probs, n, k, es))
                        return 0;
        snprintf(buf, STAFF_REPLY_MAX, "%s", base); /* not reached: "+9 mas" always fits */
        return 0;
}

int staff_format_status(const struct staff_status *st, enum staff_lang lang, char *buf, size_t size)
{
        return format_status(st, lang, "Puente:", buf, size);
}

int staff_format_summary(const struct staff_status *st, char *buf, size_t size)
{
        return format_status(st, STAFF_LANG_ES, "Puente resumen:", buf, size);
}

bool staff_summary_due(int summary_minute, int local_minute, uint32_t today, uint32_t last_day)
{
        return summary_minute >= 0 && local_minute >= summary_minute && last_day < today;
}

static void reply_help(char *buf, enum staff_lang lang)
{
        snprintf(buf, STAFF_REPLY_MAX, "%s",
                 lang == STAFF_LANG_ES
                         ? "Puente: mande ESTADO (como esta el equipo), PRUEBA (respuesta de "
                           "prueba) o AYUDA (esta lista)."
                         : "Puente: send STATUS (how the box is), TEST (a test reply) or HELP "
                           "(this list).");
}

static void reply_test(char *buf, enum staff_lang lang, const struct staff_status *st)
{
        snprintf(buf, STAFF_REPLY_MAX,
                 lang == STAFF_LANG_ES
                         ? "Puente: PRUEBA OK. Este equipo recibe y envia SMS (%u de %u modems "
                           "listos)."
                         : "Puente: TEST OK. This box receives and sends SMS (%u of %u modems "
                           "ready).",
                 st->modems_ready, st->modems);
}

/* Alphanumeric senders (TS 23.040 9.1.2.5, type of number 101) come through as letters;
 * short codes are a few digits: neither is a subscriber's number, both can be set by
 * whoever sends. */
static bool spoofable(const char *sender)
{
        size_t digits = 0;

        for (const char *p = sender; *p; p++) {
                if (*p >= '0' && *p <= '9')
                        digits++;
                else if (!(p == sender && *p == '+'))
                        return true;
        }
        return digits < PHONE_E164_DIGITS_MIN;
}

int staff_decide(const struct config *c, struct staff_throttle *t, const char *sender,
                 const char *text, const struct staff_status *status, int64_t now,
                 struct staff_decision *ret)
{
        struct staff_decision d = { .action = STAFF_PASS, .cmd = STAFF_CMD_NONE };
        char e164[PHONE_E164_MAX];
        bool command;
        int r;

        if (!c || !t || !sender || !text)
                return -EINVAL;
        command = staff_parse_command(text, &d.cmd, &d.lang) == 0;
        snprintf(d.number, sizeof(d.number), "%s", sender);
        if (spoofable(sender)) {
                d.action = command ? STAFF_SPOOFABLE : STAFF_PASS;
                *ret = d;
                return 0;
        }
        if (phone_normalize(sender, c->country_code, e164, NULL) == 0)
                snprintf(d.number, sizeof(d.number), "%s", e164);
        d.clinic = config_staff_find(c, d.number);
        if (!d.clinic) {
                d.action = command ? STAFF_IGNORED : STAFF_PASS;
                *ret = d;
                return 0;
        }
        if (!command)
                d.cmd = STAFF_CMD_HELP; /* staff who typed something else get the list */
        if (d.cmd != STAFF_CMD_HELP && !status)
                return -EINVAL;
        r = staff_throttle_take(t, d.number, c->staff_replies_per_hour, now, &d.first_refusal);
        if (r < 0)
                return r;
        if (r == 0) {
                d.action = STAFF_THROTTLED;
                *ret = d;
                return 0;
        }
        d.action = STAFF_REPLY;
        if (d.cmd == STAFF_CMD_STATUS)
                r = staff_format_status(status, d.lang, d.reply, sizeof(d.reply));
        else if (d.cmd == STAFF_CMD_TEST)
                reply_test(d.reply, d.lang, status);
        else
                reply_help(d.reply, d.lang);
        if (r < 0)
                return r;
        *ret = d;
        return 0;
}
