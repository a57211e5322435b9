/* puente-sim's configuration: the libconfuse file (network, modems, phones and their rules)
 * and the command-line shorthands --modem and --phone. Every error names file:line or the
 * option and the key at fault. */
#include <confuse.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "tests/sim/sim.h"

#define DEFAULT_SM_SIZE 20
#define DEFAULT_ME_SIZE 23
#define DEFAULT_ME_ONLY 30
#define DEFAULT_CSQ     20

void sim_modem_defaults(struct sim_net *net, struct sim_modem *m, const char *name)
{
        size_t i = (size_t)(m - net->modems) + 1;
        *m = (struct sim_modem){ .net = net,
                                 .master_fd = -1,
                                 .slave_fd = -1,
                                 .dialect = sim_dialect_find("standard"),
                                 .sm_size = DEFAULT_SM_SIZE,
                                 .me_size = DEFAULT_ME_SIZE,
                                 .sim_present = true,
                                 .csq = DEFAULT_CSQ,
                                 .latency_min_ms = -1,
                                 .latency_max_ms = -1 };
        for (size_t k = 0; k < SIM_PORTS_MAX; k++)
                m->ports[k].master_fd = m->ports[k].slave_fd = -1;
        sim_strlcpy(m->name, sizeof(m->name), name);
        snprintf(m->number, sizeof(m->number), "+5215500000%03zu", i);
        snprintf(m->imsi, sizeof(m->imsi), "33420%010zu", 1000000 + i);
        snprintf(m->iccid, sizeof(m->iccid), "8952020%012zu", 5550000 + i);
        snprintf(m->imei, sizeof(m->imei), "35000000%07zu", 100 + i);
}

/* Applies the sizes that the dialect allows once all settings are read. */
static void modem_finish(struct sim_modem *m)
{
        if (m->dialect->flags & SIM_DF_ME_ONLY) {
                m->sm_size = 0;
                if (m->me_size == DEFAULT_ME_SIZE)
                        m->me_size = DEFAULT_ME_ONLY;
        }
        m->sm = (struct sim_store){ .name = "SM", .size = m->sm_size };
        m->me = (struct sim_store){ .name = "ME", .size = m->me_size };
        /* until the first plug: what messages name */
        (void)sim_port_link(m->link, sizeof(m->link), m->path, 0,
                            m->n_ports ? (int)m->at_port : -1);
}

int sim_parse_range_ms(const char *s, int *ret_min, int *ret_max)
{
        char *end;
        long lo = strtol(s, &end, 10), hi;
        if (end == s || lo < 0 || lo > 600000)
                return -EINVAL;
        if (*end == '-') {
                const char *p = end + 1;
                hi = strtol(p, &end, 10);
                if (end == p || hi < lo || hi > 600000)
                        return -EINVAL;
        } else {
                hi = lo;
        }
        if (*end)
                return -EINVAL;
        *ret_min = (int)lo;
        *ret_max = (int)hi;
        return 0;
}

static int copy(char *dst, size_t len, const char *src, const char *what, const char *where)
{
        if (!src || strlen(src) >= len) {
                log_error("%s: %s is too long (at most %zu characters)", where, what, len - 1);
                return -EINVAL;
        }
        sim_strlcpy(dst, len, src);
        return 0;
}

/* One "key=value" of a --modem argument or a modem section. */
static int modem_set(struct sim_modem *m, const char *key, const char *value, const char *where)
{
        char *end;
        if (strcmp(key, "path") == 0)
                return copy(m->path, sizeof(m->path), value, key, where);
        if (strcmp(key, "ports") == 0) {
                enum sim_port_kind kinds[SIM_PORTS_MAX];
                char err[160];
                if (sim_layout_parse(value, kinds, SIM_PORTS_MAX, &m->n_ports, &m->at_port, err,
                                     sizeof(err)) < 0) {
                        log_error("%s: ports: %s", where, err);
                        return -EINVAL;
                }
                for (size_t i = 0; i < m->n_ports; i++)
                        m->ports[i].kind = kinds[i];
                return 0;
        }
        if (strcmp(key, "dialect") == 0) {
                const struct sim_dialect *d = sim_dialect_find(value);
                if (!d) {
                        log_error("%s: unknown dialect '%s' (standard, huawei, simcom, me-only, "
                                  "nospace)",
                                  where, value);
                        return -EINVAL;
                }
                m->dialect = d;
                return 0;
        }
        if (strcmp(key, "number") == 0)
                return copy(m->number, sizeof(m->number), value, key, where);
        if (strcmp(key, "imsi") == 0)
                return copy(m->imsi, sizeof(m->imsi), value, key, where);
        if (strcmp(key, "iccid") == 0)
                return copy(m->iccid, sizeof(m->iccid), value, key, where);
        if (strcmp(key, "imei") == 0)
                return copy(m->imei, sizeof(m->imei), value, key, where);
        if (strcmp(key, "pin") == 0)
                return copy(m->pin, sizeof(m->pin), value, key, where);
        if (strcmp(key, "smsc") == 0)
                return copy(m->smsc, sizeof(m->smsc), value, key, where);
        if (strcmp(key, "latency") == 0) {
                if (sim_parse_range_ms(value, &m->latency_min_ms, &m->latency_max_ms) < 0) {
                        log_error("%s: latency '%s' is not MS or MIN-MAX", where, value);
                        return -EINVAL;
                }
                return 0;
        }
        if (strcmp(key, "sm") == 0 || strcmp(key, "me") == 0) {
                long v = strtol(value, &end, 10);
                if (*end || end == value || v < 0 || v > SIM_STORE_SLOTS_MAX) {
                        log_error("%s: %s storage size '%s' is not 0-%d", where, key, value,
                                  SIM_STORE_SLOTS_MAX);
                        return -EINVAL;
                }
                *(key[0] == 's' ? &m->sm_size : &m->me_size) = (int)v;
                return 0;
        }
        log_error("%s: unknown modem key '%s' (path, dialect, number, imsi, iccid, imei, pin, "
                  "smsc, latency, sm, me, ports)",
                  where, key);
        return -EINVAL;
}

static struct sim_modem *modem_new(struct sim_net *net, const char *name, const char *where)
{
        if (!name[0] || strlen(name) >= SIM_NAME_MAX || strpbrk(name, " \t/")) {
                log_error("%s: bad modem name '%s'", where, name);
                return NULL;
        }
        if (sim_modem_find(net, name)) {
                log_error("%s: modem %s defined twice", where, name);
                return NULL;
        }
        if (net->n_modems >= SIM_MODEMS_MAX) {
                log_error("%s: more than %d modems", where, SIM_MODEMS_MAX);
                return NULL;
        }
        struct sim_modem *m = &net->modems[net->n_modems++];
        sim_modem_defaults(net, m, name);
        return m;
}

/* --modem NAME=PATH[,key=value...] */
int sim_config_modem_arg(struct sim_net *net, const char *arg)
{
        char buf[PATH_MAX + 256], where[64] = "--modem";
        if (copy(buf, sizeof(buf), arg, "argument", where) < 0)
                return -EINVAL;
        char *save, *tok = strtok_r(buf, ",", &save);
        char *eq = tok ? strchr(tok, '=') : NULL;
        if (!eq || !eq[1]) {
                log_error("--modem %s: expected NAME=PATH[,key=value...]", arg);
                return -EINVAL;
        }
        *eq = '\0';
        struct sim_modem *m = modem_new(net, tok, where);
        if (!m || modem_set(m, "path", eq + 1, where) < 0)
                return -EINVAL;
        while ((tok = strtok_r(NULL, ",", &save))) {
                eq = strchr(tok, '=');
                if (!eq) {
                        log_error("--modem %s: '%s' is not key=value", arg, tok);
                        return -EINVAL;
                }
                *eq = '\0';
                if (modem_set(m, tok, eq + 1, where) < 0)
                        return -EINVAL;
        }
        modem_finish(m);
        return 0;
}

static int phone_set(struct sim_phone *p, const char *key, const char *value, const char *where)
{
        char *end;
        if (strcmp(key, "name") == 0)
                return copy(p->name, sizeof(p->name), value, key, where);
        if (strcmp(key, "sender") == 0)
                return copy(p->sender, sizeof(p->sender), value, key, where);
        if (strcmp(key, "reachable") == 0) {
                p->reachable = strcmp(value, "no") != 0 && strcmp(value, "false") != 0;
                return 0;
        }
        if (strcmp(key, "delay") == 0) {
                long v = strtol(value, &end, 10);
                if (*end || end == value || v < 0 || v > 3600000) {
                        log_error("%s: delay '%s' is not milliseconds", where, value);
                        return -EINVAL;
                }
                p->delay_ms = (int)v;
                return 0;
        }
        if (strcmp(key, "reply") == 0) { /* one rule: answer everything with this text */
                if (p->n_rules >= SIM_RULES_MAX) {
                        log_error("%s: more than %d rules", where, SIM_RULES_MAX);
                        return -EINVAL;
                }
                struct sim_rule *r = &p->rules[p->n_rules++];
                *r = (struct sim_rule){ .delay_ms = -1 };
                return copy(r->reply, sizeof(r->reply), value, key, where);
        }
        log_error("%s: unknown phone key '%s' (name, sender, reachable, delay, reply)", where, key);
        return -EINVAL;
}

static struct sim_phone *phone_new(struct sim_net *net, const char *number, const char *where)
{
        if (!number[0] || strlen(number) >= SIM_NUMBER_MAX) {
                log_error("%s: bad phone number '%s'", where, number);
                return NULL;
        }
        if (sim_phone_find(net, number)) {
                log_error("%s: phone %s defined twice", where, number);
                return NULL;
        }
        struct sim_phone *p = sim_phone_add(net, number);
        if (!p)
                log_error("%s: more than %d phones", where, SIM_PHONES_MAX);
        return p;
}

/* --phone NUMBER[,key=value...] */
int sim_config_phone_arg(struct sim_net *net, const char *arg)
{
        char buf[SIM_TEXT_MAX];
        if (copy(buf, sizeof(buf), arg, "argument", "--phone") < 0)
                return -EINVAL;
        char *save, *tok = strtok_r(buf, ",", &save);
        struct sim_phone *p = tok ? phone_new(net, tok, "--phone") : NULL;
        if (!p)
                return -EINVAL;
        while ((tok = strtok_r(NULL, ",", &save))) {
                char *eq = strchr(tok, '=');
                if (!eq) {
                        log_error("--phone %s: '%s' is not key=value", arg, tok);
                        return -EINVAL;
                }
                *eq = '\0';
                if (phone_set(p, tok, eq + 1, "--phone") < 0)
                        return -EINVAL;
        }
        return 0;
}

/* ---- the configuration file ---- */

static cfg_opt_t rule_opts[] = {
        CFG_STR("match", "", CFGF_NONE),        CFG_INT("nth", 0, CFGF_NONE),
        CFG_INT("times", 0, CFGF_NONE),         CFG_INT("delay", -1, CFGF_NONE),
        CFG_STR("reply", NULL, CFGF_NODEFAULT), CFG_END(),
};

static cfg_opt_t phone_opts[] = {
        CFG_STR("number", NULL, CFGF_NODEFAULT),    CFG_STR("sender", "", CFGF_NONE),
        CFG_BOOL("reachable", cfg_true, CFGF_NONE), CFG_INT("delay", 0, CFGF_NONE),
        CFG_SEC("rule", rule_opts, CFGF_MULTI),     CFG_END(),
};

static cfg_opt_t modem_opts[] = {
        CFG_STR("path", NULL, CFGF_NODEFAULT),
        CFG_STR("dialect", NULL, CFGF_NODEFAULT),
        CFG_STR("number", NULL, CFGF_NODEFAULT),
        CFG_STR("imsi", NULL, CFGF_NODEFAULT),
        CFG_STR("iccid", NULL, CFGF_NODEFAULT),
        CFG_STR("imei", NULL, CFGF_NODEFAULT),
        CFG_STR("pin", NULL, CFGF_NODEFAULT),
        CFG_STR("smsc", NULL, CFGF_NODEFAULT),
        CFG_STR("latency", NULL, CFGF_NODEFAULT),
        CFG_STR("sm", NULL, CFGF_NODEFAULT),
        CFG_STR("me", NULL, CFGF_NODEFAULT),
        CFG_STR("ports", NULL, CFGF_NODEFAULT),
        CFG_END(),
};

static cfg_opt_t top_opts[] = {
        CFG_STR("latency", NULL, CFGF_NODEFAULT),
        CFG_INT("report-delay", -1, CFGF_NONE),
        CFG_INT("boot", -1, CFGF_NONE),
        CFG_STR("smsc", NULL, CFGF_NODEFAULT),
        CFG_STR("record", NULL, CFGF_NODEFAULT),
        CFG_STR("control", NULL, CFGF_NODEFAULT),
        CFG_STR("script", NULL, CFGF_NODEFAULT),
        CFG_INT("timezone", 0, CFGF_NONE),
        CFG_SEC("modem", modem_opts, CFGF_MULTI | CFGF_TITLE),
        CFG_SEC("phone", phone_opts, CFGF_MULTI | CFGF_TITLE),
        CFG_END(),
};

static int load_modem(struct sim_net *net, cfg_t *sec, const char *path)
{
        char where[PATH_MAX + 64];
        snprintf(where, sizeof(where), "%s:%d: modem %s", path, sec->line, cfg_title(sec));
        struct sim_modem *m = modem_new(net, cfg_title(sec), where);
        if (!m)
                return -EINVAL;
        int errs = 0;
        static const char *const keys[] = {
                "path", "dialect", "number",  "imsi", "iccid", "imei",
                "pin",  "smsc",    "latency", "sm",   "me",    "ports"
        };
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
                if (cfg_size(sec, keys[i]) > 0 &&
                    modem_set(m, keys[i], cfg_getstr(sec, keys[i]), where) < 0)
                        errs++;
        if (!m->path[0]) {
                log_error("%s: no path", where);
                errs++;
        }
        modem_finish(m);
        return errs ? -EINVAL : 0;
}

static int load_phone(struct sim_net *net, cfg_t *sec, const char *path)
{
        char where[PATH_MAX + 64];
        snprintf(where, sizeof(where), "%s:%d: phone %s", path, sec->line, cfg_title(sec));
        const char *number = cfg_size(sec, "number") ? cfg_getstr(sec, "number") : NULL;
        if (!number) {
                log_error("%s: no number", where);
                return -EINVAL;
        }
        struct sim_phone *p = phone_new(net, number, where);
        if (!p)
                return -EINVAL;
        int errs = 0;
        errs += copy(p->name, sizeof(p->name), cfg_title(sec), "name", where) < 0;
        errs += copy(p->sender, sizeof(p->sender), cfg_getstr(sec, "sender"), "sender", where) < 0;
        p->reachable = cfg_getbool(sec, "reachable");
        p->delay_ms = (int)cfg_getint(sec, "delay");
        size_t n = cfg_size(sec, "rule");
        if (n > SIM_RULES_MAX) {
                log_error("%s: %zu rules, at most %d", where, n, SIM_RULES_MAX);
                return -EINVAL;
        }
        for (size_t i = 0; i < n; i++) {
                cfg_t *rs = cfg_getnsec(sec, "rule", (unsigned)i);
                struct sim_rule *r = &p->rules[p->n_rules++];
                char rw[PATH_MAX + 80];
                snprintf(rw, sizeof(rw), "%s:%d: rule %zu of phone %s", path, rs->line, i + 1,
                         p->name);
                if (cfg_size(rs, "reply") == 0) {
                        log_error("%s: no reply", rw);
                        errs++;
                        continue;
                }
                *r = (struct sim_rule){ .nth = (int)cfg_getint(rs, "nth"),
                                        .times = (int)cfg_getint(rs, "times"),
                                        .delay_ms = (int)cfg_getint(rs, "delay") };
                errs += copy(r->match, sizeof(r->match), cfg_getstr(rs, "match"), "match", rw) < 0;
                errs += copy(r->reply, sizeof(r->reply), cfg_getstr(rs, "reply"), "reply", rw) < 0;
                if (r->nth < 0 || r->times < 0) {
                        log_error("%s: nth and times cannot be negative", rw);
                        errs++;
                }
        }
        return errs ? -EINVAL : 0;
}

int sim_config_load(struct sim_net *net, const char *path)
{
        cfg_t *cfg = cfg_init(top_opts, CFGF_NONE);
        int r = cfg_parse(cfg, path);
        if (r == CFG_FILE_ERROR) {
                log_error("%s: cannot read: %m", path);
                cfg_free(cfg);
                return -ENOENT;
        }
        if (r != CFG_SUCCESS) { /* libconfuse printed file:line already */
                cfg_free(cfg);
                return -EINVAL;
        }
        int errs = 0;
        if (cfg_size(cfg, "latency") &&
            sim_parse_range_ms(cfg_getstr(cfg, "latency"), &net->latency_min_ms,
                               &net->latency_max_ms) < 0) {
                log_error("%s: latency '%s' is not MS or MIN-MAX", path,
                          cfg_getstr(cfg, "latency"));
                errs++;
        }
        if (cfg_getint(cfg, "report-delay") >= 0)
                net->report_delay_ms = (int)cfg_getint(cfg, "report-delay");
        if (cfg_getint(cfg, "boot") >= 0)
                net->boot_ms = (int)cfg_getint(cfg, "boot");
        net->tz_quarters = (int)cfg_getint(cfg, "timezone");
        if (net->tz_quarters < -79 || net->tz_quarters > 79) {
                log_error("%s: timezone %d is not -79..79 quarter hours", path, net->tz_quarters);
                errs++;
        }
        if (cfg_size(cfg, "smsc"))
                errs += copy(net->smsc, sizeof(net->smsc), cfg_getstr(cfg, "smsc"), "smsc", path) <
                        0;
        if (cfg_size(cfg, "record"))
                errs += copy(net->record_path, sizeof(net->record_path), cfg_getstr(cfg, "record"),
                             "record", path) < 0;
        if (cfg_size(cfg, "control"))
                errs += copy(net->ctl_path, sizeof(net->ctl_path), cfg_getstr(cfg, "control"),
                             "control", path) < 0;
        if (cfg_size(cfg, "script"))
                errs += copy(net->script_path, sizeof(net->script_path), cfg_getstr(cfg, "script"),
                             "script", path) < 0;
        for (unsigned i = 0; i < cfg_size(cfg, "modem"); i++)
                errs += load_modem(net, cfg_getnsec(cfg, "modem", i), path) < 0;
        for (unsigned i = 0; i < cfg_size(cfg, "phone"); i++)
                errs += load_phone(net, cfg_getnsec(cfg, "phone", i), path) < 0;
        cfg_free(cfg);
        if (errs)
                log_error("%s: %d error(s)", path, errs);
        return errs ? -EINVAL : 0;
}
