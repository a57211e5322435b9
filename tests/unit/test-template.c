/* rules/template: placeholders walked and rendered, syntax errors located, and the
 * worst-case cost (characters, parts, UCS-2) computed as the bank will send. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rules/template.h"

struct value {
        const char *name, *value;
};

static const struct value values[] = {
        { "name", "María" }, { "clinic", "CS Tlalpan" },
        { "week", "12" },    { "appointment_date", "02/04/2026" },
        { "empty", "" },
};

static int lookup(void *userdata, const char *name, size_t len, const char **ret_value,
                  size_t *ret_len)
{
        (void)userdata;
        for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
                if (strlen(values[i].name) == len && memcmp(values[i].name, name, len) == 0) {
                        *ret_value = values[i].value;
                        *ret_len = strlen(values[i].value);
                        return 0;
                }
        return -ENOENT;
}

/* 160 characters: one GSM part (TS 23.038: 160 septets); 161: two parts of 153. */
#define X10  "xxxxxxxxxx"
#define X100 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10

struct render_case {
        const char *tmpl;
        int ret; /* length, or a negative errno */
        const char *want;
};

static const struct render_case renders[] = {
        { "Hola {name}, semana {week}.", 23, "Hola María, semana 12." },
        { "Su cita en {clinic} es el {appointment_date}.", 39,
          "Su cita en CS Tlalpan es el 02/04/2026." },
        { "{name}{name}", 12, "MaríaMaría" },
        { "sin nada", 8, "sin nada" },
        { "", 0, "" },
        { "[{empty}]", 2, "[]" },
        { "llaves: {{name}}", 14, "llaves: {name}" },
        { "{{{name}}}", 8, "{María}" },
        { "{nombre}", -ENOENT, "" },
        { "{name", -EBADMSG, "" },
        { "name}", -EBADMSG, "" },
        { "{}", -EBADMSG, "" },
        { "{Name}", -EBADMSG, "" },
        { "{ name }", -EBADMSG, "" },
        /* {field|fallback}: the field's value, else the fallback text */
        { "Hola {name|amiga}.", 12, "Hola María." },
        { "Hola {nombre|amiga}.", 11, "Hola amiga." },
        { "Hola {nombre|mi querida amiga}.", 22, "Hola mi querida amiga." },
        { "En {nombre|su clínica}", 14, "En su clínica" },
        { "[{nombre|}]", 2, "[]" },
        { "[{empty|nadie}]", 2, "[]" }, /* a value, even empty, is the value */
        { "{nombre|a|b}", 3, "a|b" },
        { "{name|", -EBADMSG, "" },
        { "{name|sin cierre", -EBADMSG, "" },
        { "{name|a{b}", -EBADMSG, "" },
        { "{name|a}b}", -EBADMSG, "" },
        { "{|amiga}", -EBADMSG, "" },
        { "{name|" X10 X10 X10 X10 X10 X10 "x}", -EBADMSG, "" }, /* over the fallback limit */
        { "{nombre|" X10 X10 X10 X10 X10 X10 "}", 60, X10 X10 X10 X10 X10 X10 },
};

static void test_render(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(renders) / sizeof(renders[0]); i++) {
                char out[128];
                int r = rules_template_render(renders[i].tmpl, lookup, NULL, NULL, out,
                                              sizeof(out));

                if (r != renders[i].ret)
                        print_message("'%s': got %d '%s'\n", renders[i].tmpl, r, out);
                assert_int_equal(r, renders[i].ret);
                assert_string_equal(out, renders[i].want);
        }
}

/* `missing` stands in for a placeholder with neither value nor fallback (alerts to staff). */
static void test_render_missing(void **state)
{
        char out[64];

        (void)state;
        assert_int_equal(rules_template_render("ALERTA {nombre}, {clinica|sin clinica}, {name}",
                                               lookup, NULL, "?", out, sizeof(out)),
                         29);
        assert_string_equal(out, "ALERTA ?, sin clinica, María");
        assert_int_equal(rules_template_render("{nombre}", lookup, NULL, NULL, out, sizeof(out)),
                         -ENOENT);
}

static void test_render_small(void **state)
{
        char out[8];

        (void)state;
        assert_int_equal(rules_template_render("Hola {name}", lookup, NULL, NULL, out, sizeof(out)),
                         -ENOBUFS);
        assert_string_equal(out, "");
        assert_int_equal(rules_template_render("1234567", lookup, NULL, NULL, out, sizeof(out)), 7);
        assert_int_equal(rules_template_render("12345678", lookup, NULL, NULL, out, sizeof(out)),
                         -ENOBUFS);
        assert_int_equal(rules_template_render(NULL, lookup, NULL, NULL, out, sizeof(out)),
                         -EINVAL);
}

struct seen {
        char names[8][32];
        char fallbacks[8][32]; /* "(none)" when the placeholder has none */
        size_t offsets[8];
        size_t n;
};

static int visit(void *userdata, const char *name, size_t len, size_t offset, const char *fallback,
                 size_t fallback_len)
{
        struct seen *s = userdata;

        if (s->n == 8)
                return -E2BIG;
        snprintf(s->names[s->n], sizeof(s->names[0]), "%.*s", (int)len, name);
        if (fallback)
                snprintf(s->fallbacks[s->n], sizeof(s->fallbacks[0]), "%.*s", (int)fallback_len,
                         fallback);
        else
                snprintf(s->fallbacks[s->n], sizeof(s->fallbacks[0]), "(none)");
        s->offsets[s->n++] = offset;
        return 0;
}

static void test_walk(void **state)
{
        struct seen s = { 0 };
        size_t off = 99;

        (void)state;
        assert_int_equal(rules_template_walk("Hola {name}, {{no}} semana {week}", visit, &s, &off),
                         0);
        assert_int_equal(s.n, 2);
        assert_string_equal(s.names[0], "name");
        assert_int_equal(s.offsets[0], 5);
        assert_string_equal(s.names[1], "week");
        assert_int_equal(s.offsets[1], 27);
        assert_string_equal(s.fallbacks[0], "(none)");
        assert_int_equal(off, 99); /* untouched on success */
        /* a fallback is reported with its placeholder; an empty one is still one */
        s.n = 0;
        assert_int_equal(rules_template_walk("{name|amiga} {clinic|} {week}", visit, &s, &off), 0);
        assert_int_equal(s.n, 3);
        assert_string_equal(s.names[0], "name");
        assert_string_equal(s.fallbacks[0], "amiga");
        assert_string_equal(s.names[1], "clinic");
        assert_string_equal(s.fallbacks[1], "");
        assert_int_equal(s.offsets[1], 13);
        assert_string_equal(s.fallbacks[2], "(none)");
        /* a fallback never closed: its placeholder's brace; a stray brace in it: that one */
        assert_int_equal(rules_template_walk("Hola {name|amiga", visit, &s, &off), -EBADMSG);
        assert_int_equal(off, 5);
        assert_int_equal(rules_template_walk("Hola {name|a{b}", visit, &s, &off), -EBADMSG);
        assert_int_equal(off, 12);
        /* the offset of a syntax error: where the placeholder went wrong */
        assert_int_equal(rules_template_walk("Hola {name", visit, &s, &off), -EBADMSG);
        assert_int_equal(off, 10);
        assert_int_equal(rules_template_walk("abc } def", visit, &s, &off), -EBADMSG);
        assert_int_equal(off, 4);
        assert_int_equal(rules_template_walk("a {b-c}", visit, &s, &off), -EBADMSG);
        assert_int_equal(off, 4);
}

/* Widths for the cost: name 20 characters, may hold non-GSM characters when asked. */
struct widths {
        bool name_unicode;
};

static int width(void *userdata, const char *name, size_t len, unsigned *ret_width,
                 bool *ret_unicode)
{
        struct widths *w = userdata;

        *ret_unicode = false;
        if (len == 4 && memcmp(name, "name", 4) == 0) {
                *ret_width = 20;
                *ret_unicode = w->name_unicode;
                return 0;
        }
        if (len == 4 && memcmp(name, "week", 4) == 0) {
                *ret_width = 3;
                return 0;
        }
        return -ENOENT;
}

struct cost_case {
        const char *tmpl;
        bool name_unicode, translit;
        int ret;
        unsigned chars, parts;
        bool ucs2;
};

static const struct cost_case costs[] = {
        { "Hola {name}, semana {week}.", false, false, 0, 5 + 20 + 9 + 3 + 1, 1, false },
        { X100 X10 X10 X10 X10 X10 X10, false, false, 0, 160, 1, false },
        { X100 X10 X10 X10 X10 X10 X10 "x", false, false, 0, 161, 2, false },
        /* 140 + name 20 = 160 exactly: still one part */
        { X100 X10 X10 X10 X10 "{name}", false, false, 0, 160, 1, false },
        { X100 X10 X10 X10 X10 "{name}!", false, false, 0, 161, 2, false },
        /* an accent outside GSM 7-bit: UCS-2, 70 per part */
        { "¿Cómo está?", false, false, 0, 11, 1, true },
        { "¿Cómo está?", false, true, 0, 11, 1, false }, /* transliterated */
        { "Hola {name}", true, false, 0, 25, 1, true },  /* the name itself may need UCS-2 */
        { "Hola {name}" X10 X10 X10 X10 X10, true, false, 0, 75, 2, true },
        /* GSM extension characters count two septets (TS 23.038 6.2.1.1) */
        { X100 X10 X10 X10 X10 X10 "xxxxxxxx€", false, false, 0, 159, 1, false },
        { X100 X10 X10 X10 X10 X10 "xxxxxxxxx€", false, false, 0, 160, 2, false },
        /* a fallback: the longer of value and fallback, UCS-2 if either needs it */
        { "Hola {name|amiga}", false, false, 0, 25, 1, false },
        { "Hola {week|ninguna}", false, false, 0, 12, 1, false },
        { "Hola {week|mamá}", false, false, 0, 9, 1, true },
        { "Hola {week|mamá}", false, true, 0, 9, 1, false },
        { "Hola {name|mamá}", true, false, 0, 25, 1, true },
        /* € counts two septets: fallback "€€" (4) padded to the width 3 costs 5 */
        { X100 X10 X10 X10 X10 X10 "xxxxx{week|€€}", false, false, 0, 158, 1, false },
        { X100 X10 X10 X10 X10 X10 "xxxxxx{week|€€}", false, false, 0, 159, 2, false },
        { "{nombre}", false, false, -ENOENT, 0, 0, false },
        { "{nombre", false, false, -EBADMSG, 0, 0, false },
        { "\xff", false, false, -EBADMSG, 0, 0, false },
};

static void test_cost(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(costs) / sizeof(costs[0]); i++) {
                struct widths w = { costs[i].name_unicode };
                struct rules_template_cost c = { 0 };
                int r = rules_template_cost(costs[i].tmpl, width, &w, costs[i].translit, &c);

                if (r != costs[i].ret || c.chars != costs[i].chars || c.parts != costs[i].parts)
                        print_message("case %zu: got %d chars %u parts %u ucs2 %d\n", i, r, c.chars,
                                      c.parts, c.ucs2);
                assert_int_equal(r, costs[i].ret);
                if (r < 0)
                        continue;
                assert_int_equal(c.chars, costs[i].chars);
                assert_int_equal(c.parts, costs[i].parts);
                assert_int_equal(c.ucs2, costs[i].ucs2);
        }
}

/* A worst case beyond any budget is refused rather than computed. */
static void test_cost_huge(void **state)
{
        char tmpl[RULES_TEMPLATE_WORST_MAX + 2];
        struct widths w = { false };
        struct rules_template_cost c;

        (void)state;
        memset(tmpl, 'x', sizeof(tmpl) - 1);
        tmpl[sizeof(tmpl) - 1] = '\0';
        assert_int_equal(rules_template_cost(tmpl, width, &w, false, &c), -E2BIG);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_render),       cmocka_unit_test(test_render_missing),
                cmocka_unit_test(test_render_small), cmocka_unit_test(test_walk),
                cmocka_unit_test(test_cost),         cmocka_unit_test(test_cost_huge),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
