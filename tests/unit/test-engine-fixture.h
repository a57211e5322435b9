/* test-engine-fixture: a small maternal-health programme built by hand as a struct
 * rules_set (no parser involved), the zones from the system zoneinfo, and a recorder of the
 * actions a run produces. Shared by test-engine*.c. */
#pragma once

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/drive.h"
#include "rules/engine.h"
#include "rules/tz.h"

#define FX_MAX_EVENTS 4096
/* Texts and word lists live in static pools: compound literals in fx_new() would die
 * with its frame. fx_new() resets them; one fixture at a time. */
static struct rules_text fx_texts[64];
static size_t fx_n_texts;
static const char *fx_words[128];
static size_t fx_n_words;

static struct rules_texts T1(const char *s) {
        struct rules_text *t = &fx_texts[fx_n_texts++];

        *t = (struct rules_text){ .lang = "es", .text = s };
        return (struct rules_texts){ t, 1 };
}

#define W(...) fx_w(__VA_ARGS__, NULL)

static struct rules_strings
fx_w(const char *first, ...)
{
        struct rules_strings r = { &fx_words[fx_n_words], 0 };
        va_list ap;

        va_start(ap, first);
        for (const char *w = first; w; w = va_arg(ap, const char *))
                fx_words[fx_n_words++] = w, r.n++;
        va_end(ap);
        return r;
}

enum { FX_F_SLOT = RULES_FIELD_CUSTOM, FX_F_SCORE, FX_N_FIELDS };
enum { FX_R_WEEKLY, FX_R_APPT, FX_R_MOTIV, FX_R_QUIZ, FX_R_BABY, FX_N_REMINDERS };
enum { FX_T_PREG, FX_T_BABY, FX_T_SUPPORT, FX_N_TRACKS };

struct fx {
        struct rules_set set;
        struct rules_field fields[FX_N_FIELDS];
        struct rules_clinic clinics[2];
        struct rules_slot slots[2];
        struct rules_arm arms[2];
        struct rules_track tracks[FX_N_TRACKS];
        struct rules_reminder reminders[FX_N_REMINDERS];
        struct rules_variant variant;
        struct rules_choice choices[2][3];
        struct rules_question questions[2];
        struct rules_quiz quiz;
        struct rules_keyword keywords[5];
        struct rules_tz *tz[2];
        const struct rules_tz *clinic_tz[2];
        struct rules_engine_env env;
        const char *values[FX_N_FIELDS];
        /* recorded */
        struct fx_event {
                int64_t now;
                struct rules_action a;
                char text[256];
                char value[64];
        } ev[FX_MAX_EVENTS];
        size_t n_ev;
};

static struct rules_tz *fx_zone(const char *name)
{
        static uint8_t buf[RULES_TZ_FILE_MAX];
        char path[256];
        struct rules_tz *tz = NULL;
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);
        f = fopen(path, "rb");
        if (!f)
                abort();
        n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        if (rules_tz_parse(buf, n, &tz) < 0)
                abort();
        return tz;
}

static const char *const fx_field_names[FX_N_FIELDS] = {
        "study_id", "phone", "language", "clinic",      "arm", "stratum", "name",
        "edd",      "birth", "enrolled", "appointment", "lmp", "slot",    "score",
};

static const struct rules_text fx_q1_text[] = { { .lang = "es",
                                                  .text = "P1: ¿Ahorras? 1) sí 2) no" } };
static const struct rules_text fx_q2_text[] = { { .lang = "es",
                                                  .text = "P2: ¿Cuánto? a) 10 b) 20" } };
static const int fx_alta_args[] = { RULES_F_EDD };
static const int fx_bebe_args[] = { RULES_F_BIRTH };
static const int fx_cita_args[] = { RULES_F_APPOINTMENT };

static struct fx *fx_new(void)
{
        struct fx *x = calloc(1, sizeof(*x));
        struct rules_set *s = &x->set;

        fx_n_texts = 0;
        fx_n_words = 0;

        for (int i = 0; i < FX_N_FIELDS; i++) {
                x->fields[i].name = fx_field_names[i];
                x->fields[i].builtin = i < RULES_FIELD_CUSTOM;
                x->fields[i].max_length = 20;
                x->fields[i].type = RULES_FIELD_TEXT;
        }
        for (int i = RULES_F_EDD; i <= RULES_F_LMP; i++)
                x->fields[i].type = RULES_FIELD_DATE;
        x->fields[FX_F_SCORE].type = RULES_FIELD_NUMBER;
        s->fields = x->fields;
        s->n_fields = FX_N_FIELDS;

        s->settings = (struct rules_settings){
                .timezone = "America/Mexico_City",
                .languages = W("es"),
                .default_language = "es",
                .fallback_language = "es",
                .quiet_start = 21 * 60,
                .quiet_end = 8 * 60,
                .part_budget = 3,
                .grace_minutes = 120,
                .opt_out_words = W("stop", "alto", "baja", "cancelar"),
                .opt_out_reply = T1("Ya no recibirás mensajes. ALTA para volver."),
                .opt_in_again = W("alta"),
                .help_words = W("ayuda"),
                .help_reply = T1("Ayuda: BEBE, CITA, ALTO"),
                .unknown_reply = T1("No entendí. Escribe AYUDA."),
        };
        x->tz[0] = fx_zone("America/Mexico_City");
        x->tz[1] = fx_zone("America/Tijuana");
        x->clinics[0] = (struct rules_clinic){ .id = "c1",
                                               .name = "Centro de Salud Tlalpan",
                                               .timezone = "America/Mexico_City",
                                               .staff = W("+5215511111111", "+5215522222222") };
        x->clinics[1] = (struct rules_clinic){ .id = "c2",
                                               .name = "Clínica Tijuana",
                                               .timezone = "America/Tijuana",
                                               .staff = W("+5216633333333") };
        x->clinic_tz[0] = x->tz[0];
        x->clinic_tz[1] = x->tz[1];
        s->clinics = x->clinics;
        s->n_clinics = 2;
        x->slots[0] = (struct rules_slot){ .name = "manana", .start = 8 * 60, .end = 11 * 60 };
        x->slots[1] = (struct rules_slot){ .name = "tarde", .start = 17 * 60, .end = 20 * 60 };
        s->slots = x->slots;
        s->n_slots = 2;
        x->arms[0] = (struct rules_arm){ .name = "treatment", .weight = 1 };
        x->arms[1] = (struct rules_arm){ .name = "control", .weight = 1 };
        s->trial = (struct rules_trial){
                .present = true, .name = "prospera", .arms = x->arms, .n_arms = 2
        };

        x->tracks[FX_T_PREG] = (struct rules_track){ .name = "embarazo",
                                                     .anchor_field = RULES_F_EDD,
                                                     .zero_offset_days = -280,
                                                     .start = true,
                                                     .end_day = 294,
                                                     .next_track = FX_T_BABY };
        x->tracks[FX_T_BABY] = (struct rules_track){ .name = "bebe",
                                                     .anchor_field = RULES_F_BIRTH,
                                                     .end_day = 42,
                                                     .next_track = RULES_NONE };
        x->tracks[FX_T_SUPPORT] = (struct rules_track){ .name = "apoyo",
                                                        .anchor_field = RULES_F_ENROLLED,
                                                        .end_day = 100000,
                                                        .max_days = 28,
                                                        .next_track = RULES_NONE };
        s->tracks = x->tracks;
        s->n_tracks = FX_N_TRACKS;

        const struct rules_reminder base = {
                .track = FX_T_PREG,
                .anchor_kind = RULES_ANCHOR_TRACK,
                .anchor = FX_T_PREG,
                .window_start = 9 * 60,
                .window_end = 19 * 60,
                .days = 0x7f,
                .slot_field = FX_F_SLOT,
                .arms = 3,
                .catch_up = RULES_CATCH_UP_SKIP,
                .during_quiz = RULES_DURING_QUIZ_WAIT,
                .grace_minutes = 120,
                .quiz = RULES_NONE,
        };
        x->reminders[FX_R_WEEKLY] = base;
        x->reminders[FX_R_WEEKLY].name = "semanal";
        x->reminders[FX_R_WEEKLY].repeat = true;
        x->reminders[FX_R_WEEKLY].from_days = 56;
        x->reminders[FX_R_WEEKLY].to_days = 280;
        x->reminders[FX_R_WEEKLY].every_days = 7;
        x->reminders[FX_R_WEEKLY].arms = 1;
        x->reminders[FX_R_WEEKLY].text = T1("Hola {name}, semana {week}. ¡Tú puedes!");
        x->variant = (struct rules_variant){ .name = "control",
                                             .arms = 2,
                                             .text = T1("Semana {week} de embarazo.") };
        x->reminders[FX_R_WEEKLY].variants = &x->variant;
        x->reminders[FX_R_WEEKLY].n_variants = 1;

        x->reminders[FX_R_APPT] = base;
        x->reminders[FX_R_APPT].name = "cita";
        x->reminders[FX_R_APPT].track = RULES_NONE;
        x->reminders[FX_R_APPT].anchor_kind = RULES_ANCHOR_FIELD;
        x->reminders[FX_R_APPT].anchor = RULES_F_APPOINTMENT;
        x->reminders[FX_R_APPT].offset_days = -3;
        x->reminders[FX_R_APPT].window_start = 10 * 60;
        x->reminders[FX_R_APPT].window_end = 12 * 60;
        x->reminders[FX_R_APPT].slot_field = RULES_NONE;
        x->reminders[FX_R_APPT].during_quiz = RULES_DURING_QUIZ_INTERRUPT;
        x->reminders[FX_R_APPT].text = T1("Tu cita en {clinic} es el {appointment_date}.");

        x->reminders[FX_R_MOTIV] = base;
        x->reminders[FX_R_MOTIV].name = "motivacion";
        x->reminders[FX_R_MOTIV].repeat = true;
        x->reminders[FX_R_MOTIV].from_days = 70;
        x->reminders[FX_R_MOTIV].to_days = 84;
        x->reminders[FX_R_MOTIV].every_days = 7;
        x->reminders[FX_R_MOTIV].arms = 1;       /* treatment only: control omits it by design */
        x->reminders[FX_R_MOTIV].days = 1u << 1; /* Mondays */
        x->reminders[FX_R_MOTIV].text = T1("¡Cuida tu salud!");

        x->reminders[FX_R_QUIZ] = base;
        x->reminders[FX_R_QUIZ].name = "quiz-ahorro";
        x->reminders[FX_R_QUIZ].offset_days = 140;
        x->reminders[FX_R_QUIZ].arms = 1;
        x->reminders[FX_R_QUIZ].quiz = 0;
        x->reminders[FX_R_QUIZ].text = (struct rules_texts){ NULL, 0 };

        x->reminders[FX_R_BABY] = base;
        x->reminders[FX_R_BABY].name = "posparto";
        x->reminders[FX_R_BABY].track = FX_T_BABY;
        x->reminders[FX_R_BABY].anchor = FX_T_BABY;
        x->reminders[FX_R_BABY].repeat = true;
        x->reminders[FX_R_BABY].from_days = 7;
        x->reminders[FX_R_BABY].to_days = 42;
        x->reminders[FX_R_BABY].every_days = 7;
        x->reminders[FX_R_BABY].text = T1("Tu bebé tiene {week} semanas.");
        s->reminders = x->reminders;
        s->n_reminders = FX_N_REMINDERS;

        x->choices[0][0] = (struct rules_choice){ .name = "si",
                                                  .answers = W("1", "si", "a"),
                                                  .right = true,
                                                  .next = RULES_NEXT_QUESTION };
        x->choices[0][1] = (struct rules_choice){
                .name = "no", .answers = W("2", "no", "b"), .right = false, .next = RULES_END_QUIZ
        };
        x->choices[1][0] = (struct rules_choice){
                .name = "diez", .answers = W("a", "10"), .right = false, .next = RULES_NEXT_QUESTION
        };
        x->choices[1][1] = (struct rules_choice){ .name = "veinte",
                                                  .answers = W("b", "20"),
                                                  .right = true,
                                                  .next = RULES_NEXT_QUESTION };
        x->questions[0] = (struct rules_question){
                .name = "ahorras",
                .text = T1("P1: ¿Ahorras? 1) sí 2) no"),
                .choices = x->choices[0],
                .n_choices = 2,
                .graded = true,
                .retries = 0,
                .timeout_minutes = 60,
                .on_timeout = RULES_TIMEOUT_NEXT,
                .right = T1("¡Bien!"),
                .wrong = T1("Casi."),
                .invalid = T1("Responde 1 o 2."),
        };
        x->questions[1] = (struct rules_question){
                .name = "cuanto",
                .text = T1("P2: ¿Cuánto? a) 10 b) 20"),
                .choices = x->choices[1],
                .n_choices = 2,
                .graded = true,
                .retries = 1,
                .timeout_minutes = 60,
                .on_timeout = RULES_TIMEOUT_END,
                .right = T1("¡Correcto!"),
                .wrong = T1("No."),
                .invalid = T1("Responde a o b."),
        };
        x->quiz = (struct rules_quiz){ .name = "ahorro",
                                       .arms = 3,
                                       .score_field = FX_F_SCORE,
                                       .questions = x->questions,
                                       .n_questions = 2,
                                       .intro = T1("Un juego de ahorro:"),
                                       .done = T1("Puntos: {score}/{total}") };
        s->quizzes = &x->quiz;
        s->n_quizzes = 1;

        x->keywords[0] = (struct rules_keyword){ .name = "alta",
                                                 .action = RULES_KW_OPT_IN,
                                                 .words = W("alta"),
                                                 .args = fx_alta_args,
                                                 .n_args = 1,
                                                 .arms = 3,
                                                 .reply = T1("¡Bienvenida!") };
        x->keywords[1] = (struct rules_keyword){ .name = "bebe",
                                                 .action = RULES_KW_BIRTH,
                                                 .words = W("bebe"),
                                                 .args = fx_bebe_args,
                                                 .n_args = 1,
                                                 .set_field = RULES_F_BIRTH,
                                                 .track = FX_T_BABY,
                                                 .arms = 3,
                                                 .reply = T1("¡Felicidades!") };
        x->keywords[2] = (struct rules_keyword){ .name = "sangrado",
                                                 .action = RULES_KW_ALERT,
                                                 .words = W("sangrado", "fiebre"),
                                                 .arms = 3,
                                                 .reply = T1("Ve a tu clínica ya."),
                                                 .staff = T1("ALERTA {study_id} {phone}") };
        x->keywords[3] = (struct rules_keyword){
                .name = "perdida",
                .action = RULES_KW_LOSS,
                .words = W("perdida"),
                .arms = 3,
                .track = FX_T_SUPPORT,
                .reasons = W("aborto", "obito"),
                .support_words = W("apoyo"),
                .stop_words = W("fin"),
                .reply = T1("Lo sentimos. APOYO o FIN."),
                .support_reply = T1("Te acompañamos."),
                .stop_reply = T1("Cuídate."),
        };
        x->keywords[4] = (struct rules_keyword){ .name = "cita",
                                                 .action = RULES_KW_SET,
                                                 .words = W("cita"),
                                                 .args = fx_cita_args,
                                                 .n_args = 1,
                                                 .arms = 3,
                                                 .reply = T1("Cita guardada.") };
        s->keywords = x->keywords;
        s->n_keywords = 5;

        x->env = (struct rules_engine_env){ .set = s,
                                            .clinic_tz = x->clinic_tz,
                                            .default_tz = x->tz[0] };
        x->values[RULES_F_STUDY_ID] = "S0001";
        x->values[RULES_F_PHONE] = "+5215512345678";
        x->values[RULES_F_LANGUAGE] = "es";
        x->values[RULES_F_CLINIC] = "c1";
        x->values[RULES_F_NAME] = "Ana";
        x->values[RULES_F_ENROLLED] = "2026-01-01";
        return x;
}

static void fx_free(struct fx *x)
{
        rules_tz_free(x->tz[0]);
        rules_tz_free(x->tz[1]);
        free(x);
}

static void fx_record(void *userdata, int64_t now, const struct rules_result *res)
{
        struct fx *x = userdata;

        for (size_t i = 0; i < res->n_actions && x->n_ev < FX_MAX_EVENTS; i++) {
                struct fx_event *e = &x->ev[x->n_ev++];

                e->now = now;
                e->a = res->actions[i];
                snprintf(e->text, sizeof(e->text), "%s",
                         res->actions[i].text ? res->actions[i].text : "");
                e->a.text = e->text;
                if (res->actions[i].value) {
                        snprintf(e->value, sizeof(e->value), "%s", res->actions[i].value);
                        e->a.value = e->value;
                }
        }
}

/* UTC seconds of a local wall time in zone tz. */
static int64_t fx_local(const struct rules_tz *tz, int y, unsigned m, unsigned d, int hh, int mm)
{
        return rules_tz_to_utc(tz, rules_days_from_civil(y, m, d) * RULES_DAY_SECONDS + hh * 3600 +
                                           mm * 60);
}

static size_t fx_count(const struct fx *x, enum rules_act kind, int reminder)
{
        size_t n = 0;

        for (size_t i = 0; i < x->n_ev; i++)
                n += x->ev[i].a.kind == kind && (reminder < 0 || x->ev[i].a.reminder == reminder);
        return n;
}

static const struct fx_event *fx_find(const struct fx *x, enum rules_act kind, int reminder,
                                      size_t nth)
{
        for (size_t i = 0; i < x->n_ev; i++)
                if (x->ev[i].a.kind == kind && (reminder < 0 || x->ev[i].a.reminder == reminder) &&
                    nth-- == 0)
                        return &x->ev[i];
        return NULL;
}
