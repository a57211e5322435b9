/* rules/parse-cfg: the rule files' schema for libconfuse, parsing one file's bytes, and thin
 * accessors so that the converters need not see confuse.h. */
#include <confuse.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/parse-internal.h"

/* Every value is a string: the converters check and convert it, so that one bad number is
 * one more collected error instead of the end of libconfuse's parse. */
#define STR(name)  CFG_STR(name, NULL, CFGF_NONE)
#define LIST(name) CFG_STR_LIST(name, NULL, CFGF_NONE)
#define TEXT(name) CFG_SEC(name, text_opts, CFGF_NONE)
#define MULTI      (CFGF_MULTI | CFGF_TITLE)

/* Languages a text may be written in: ISO 639-1 where there is one, else 639-3 (Mexico's
 * indigenous languages first). A text section's keys; add a code here to offer one more. */
const char *const parse_languages[] = {
        "es",  "en",  "pt",  "fr",  "nah", "yua", "tzo", "tze", "mix", "zap",
        "oto", "maz", "tar", "mam", "ctu", "toj", "qu",  "ay",  "gn",  NULL,
};

static cfg_opt_t text_opts[] = {
        STR("es"),  STR("en"),  STR("pt"),  STR("fr"),  STR("nah"), STR("yua"), STR("tzo"),
        STR("tze"), STR("mix"), STR("zap"), STR("oto"), STR("maz"), STR("tar"), STR("mam"),
        STR("ctu"), STR("toj"), STR("qu"),  STR("ay"),  STR("gn"),  CFG_END(),
};

static cfg_opt_t settings_opts[] = {
        STR("timezone"),          STR("default_language"),
        STR("fallback_language"), LIST("languages"),
        STR("quiet_hours"),       STR("max_per_day"),
        STR("max_per_week"),      STR("part_budget"),
        STR("translit"),          STR("grace"),
        LIST("opt_out"),          TEXT("opt_out_reply"),
        LIST("opt_in_again"),     LIST("help"),
        TEXT("help_reply"),       TEXT("unknown_reply"),
        STR("enrol_clinic"),      CFG_END(),
};

static cfg_opt_t field_opts[] = { STR("type"), STR("max_length"), STR("unicode"), LIST("values"),
                                  CFG_END() };
static cfg_opt_t clinic_opts[] = { STR("name"), STR("timezone"), LIST("staff"), CFG_END() };
static cfg_opt_t slot_opts[] = { STR("window"), CFG_END() };
static cfg_opt_t arm_opts[] = { STR("weight"), CFG_END() };
static cfg_opt_t trial_opts[] = {
        STR("unit"),
        LIST("strata"),
        STR("secret_key_file"),
        STR("sealed_list_file"),
        CFG_SEC("arm", arm_opts, MULTI),
        CFG_END(),
};
static cfg_opt_t stage_opts[] = { STR("from"), STR("to"), CFG_END() };
static cfg_opt_t track_opts[] = {
        STR("anchor"),
        STR("day_zero"),
        STR("start"),
        STR("end"),
        STR("max_duration"),
        STR("next"),
        CFG_SEC("stage", stage_opts, MULTI),
        CFG_END(),
};
static cfg_opt_t variant_opts[] = { LIST("arms"), TEXT("text"), CFG_END() };
static cfg_opt_t reminder_opts[] = {
        STR("track"),
        STR("anchor"),
        STR("offset"),
        STR("every"),
        STR("from"),
        STR("to"),
        STR("window"),
        LIST("days"),
        STR("slot_field"),
        LIST("when"),
        LIST("arms"),
        STR("catch_up"),
        STR("during_quiz"),
        STR("grace"),
        STR("quiz"),
        TEXT("text"),
        CFG_SEC("variant", variant_opts, MULTI),
        CFG_END(),
};
static cfg_opt_t choice_opts[] = { LIST("answers"), STR("right"), STR("goto"), CFG_END() };
static cfg_opt_t question_opts[] = {
        TEXT("text"),      CFG_SEC("choice", choice_opts, MULTI),
        STR("retries"),    STR("timeout"),
        STR("on_timeout"), TEXT("right"),
        TEXT("wrong"),     TEXT("invalid"),
        CFG_END(),
};
static cfg_opt_t quiz_opts[] = {
        LIST("arms"),      STR("score_field"),
        STR("retries"),    STR("timeout"),
        STR("on_timeout"), TEXT("intro"),
        TEXT("done"),      CFG_SEC("question", question_opts, MULTI),
        CFG_END(),
};
static cfg_opt_t keyword_opts[] = {
        STR("action"),
        LIST("words"),
        LIST("args"),
        STR("set"),
        STR("track"),
        STR("quiz"),
        LIST("arms"),
        TEXT("reply"),
        TEXT("staff"),
        LIST("reasons"),
        LIST("support_words"),
        LIST("stop_words"),
        TEXT("support_reply"),
        TEXT("stop_reply"),
        CFG_END(),
};

cfg_opt_t parse_root_opts[] = {
        CFG_SEC("settings", settings_opts, CFGF_NONE),
        CFG_SEC("field", field_opts, MULTI),
        CFG_SEC("clinic", clinic_opts, MULTI),
        CFG_SEC("slot", slot_opts, MULTI),
        CFG_SEC("trial", trial_opts, CFGF_MULTI | CFGF_TITLE),
        CFG_SEC("track", track_opts, MULTI),
        CFG_SEC("reminder", reminder_opts, MULTI),
        CFG_SEC("quiz", quiz_opts, MULTI),
        CFG_SEC("keyword", keyword_opts, MULTI),
        CFG_END(),
};

static __thread struct parse_ctx *current; /* libconfuse's error callback has no user data */
static __thread struct parse_file *current_file;
static __thread bool current_reported;

/* libconfuse's own (syntax) errors. Its line is that of its look-ahead token; where the
 * scanner stopped is usually the offending token itself, so that position is preferred. */
static void confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
{
        char msg[RULES_DIAG_TEXT_MAX];
        unsigned line = (unsigned)cfg->line, column = 0;

        if (!current || current_reported)
                return; /* the first error is the one that means something */
        vsnprintf(msg, sizeof(msg), fmt, ap);
        if (current_file->scan.stop_line) {
                line = current_file->scan.stop_line;
                column = current_file->scan.stop_column;
        }
        current_reported = true;
        {
                struct rules_loc loc = { current_file->name, line, column };

                parse_error_at(current, &loc, "syntax error: %s", msg);
        }
}

int parse_cfg_file(struct parse_ctx *x, struct parse_file *f, const char *data, size_t len)
{
        char *text;
        cfg_t *cfg;
        int r;

        if (memchr(data, '\0', len)) {
                struct rules_loc loc = { f->name, 1, 0 };
                const char *nul = memchr(data, '\0', len);

                for (const char *p = data; p < nul; p++)
                        if (*p == '\n')
                                loc.line++;
                parse_error_at(x, &loc, "a NUL byte; expected text (is this a rule file?)");
                return -EBADMSG;
        }
        text = malloc(len + 1);
        if (!text)
                return -ENOMEM;
        memcpy(text, data, len);
        text[len] = '\0';
        cfg = cfg_init(parse_root_opts, CFGF_NONE);
        if (!cfg) {
                free(text);
                return -ENOMEM;
        }
        current = x;
        current_file = f;
        current_reported = false;
        cfg_set_error_function(cfg, confuse_error);
        r = cfg_parse_buf(cfg, text);
        if (r != CFG_SUCCESS && !current_reported) {
                struct rules_loc loc = { f->name, (unsigned)cfg->line, 0 };

                parse_error_at(x, &loc, "syntax error");
        }
        current = NULL;
        current_file = NULL;
        free(text);
        if (r != CFG_SUCCESS) {
                cfg_free(cfg);
                return r == CFG_PARSE_ERROR ? -EBADMSG : -ENOMEM;
        }
        f->cfg = cfg;
        return 0;
}

void parse_cfg_free(struct parse_file *f)
{
        if (f->cfg)
                cfg_free(f->cfg);
        f->cfg = NULL;
}

void *cfg_root(struct parse_file *f)
{
        return f->cfg;
}

size_t cfgx_nsec(void *sec, const char *name)
{
        return cfg_size(sec, name);
}

void *cfgx_sec(void *sec, const char *name, size_t i)
{
        return cfg_getnsec(sec, name, (unsigned)i);
}

const char *cfgx_title(void *sec)
{
        return cfg_title(sec);
}

const char *cfgx_str(void *sec, const char *key)
{
        return cfg_getstr(sec, key);
}

size_t cfgx_nlist(void *sec, const char *key)
{
        return cfg_size(sec, key);
}

const char *cfgx_list(void *sec, const char *key, size_t i)
{
        return cfg_getnstr(sec, key, (unsigned)i);
}
