/* Parsers for the SMS responses of 27.005 (see at/parse.h). */
#include "at/parse.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "at/parse-fields.h"

static int split(const char *line, const char *prefix, struct at_field *f, size_t *n)
{
        if (!line)
                return -EINVAL;
        return at_fields_split(line, prefix, f, AT_FIELDS_MAX, n);
}

int at_parse_cmgs(const char *line, int *ret_mr)
{
        struct at_field f[AT_FIELDS_MAX];
        size_t n;
        int mr;
        if (!line || !ret_mr)
                return -EINVAL;
        if (split(line, "+CMGS:", f, &n) < 0 || at_field_int(&f[0], &mr) < 0 || mr < 0 || mr > 255)
                return -EBADMSG;
        *ret_mr = mr;
        return 0;
}

static int parse_ref(const char *line, const char *prefix, struct at_msg_ref *ret)
{
        struct at_field f[AT_FIELDS_MAX];
        size_t n;
        struct at_msg_ref r;
        if (!line || !ret)
                return -EINVAL;
        if (split(line, prefix, f, &n) < 0 || n != 2 || f[0].len == 0)
                return -EBADMSG;
        if (at_field_str(&f[0], r.mem, sizeof(r.mem)) < 0)
                return -ENOBUFS;
        if (at_field_int(&f[1], &r.index) < 0 || r.index < 0)
                return -EBADMSG;
        *ret = r;
        return 0;
}

int at_parse_cmti(const char *line, struct at_msg_ref *ret)
{
        return parse_ref(line, "+CMTI:", ret);
}

int at_parse_cdsi(const char *line, struct at_msg_ref *ret)
{
        return parse_ref(line, "+CDSI:", ret);
}

/* <stat> as a number (PDU mode) or as a text-mode word; empty is AT_STAT_NONE. */
static int parse_stat(const struct at_field *f, int *ret)
{
        static const char *const words[] = { "REC UNREAD", "REC READ", "STO UNSENT", "STO SENT",
                                             "ALL" };
        if (f->len == 0) {
                *ret = AT_STAT_NONE;
                return 0;
        }
        for (int i = 0; i < 5; i++) {
                if (at_field_is(f, words[i])) {
                        *ret = i;
                        return 0;
                }
        }
        int v;
        if (at_field_int(f, &v) < 0 || v < 0 || v > 4)
                return -EBADMSG;
        *ret = v;
        return 0;
}

static int parse_length(const struct at_field *f, int *ret)
{
        int v;
        if (at_field_int(f, &v) < 0 || v < 0)
                return -EBADMSG;
        *ret = v;
        return 0;
}

/* Fills h from the fields after those already consumed: [<stat>,][<alpha>,]<length>.
 * has_stat: the form has a <stat> field when enough fields are present. */
static int parse_tail(const struct at_field *f, size_t n, bool stat_first, struct at_pdu_header *h)
{
        size_t i = 0;
        if (n == 0)
                return -EBADMSG;
        if (stat_first && n >= 2) {
                if (parse_stat(&f[0], &h->stat) < 0)
                        return -EBADMSG;
                i = 1;
        }
        if (n - i >= 3)
                return -EBADMSG;
        if (n - i == 2) {
                if (at_field_str(&f[i], h->alpha, sizeof(h->alpha)) < 0)
                        return -ENOBUFS;
                i++;
        }
        return parse_length(&f[i], &h->length);
}

static void header_init(struct at_pdu_header *h)
{
        memset(h, 0, sizeof(*h));
        h->index = -1;
        h->stat = AT_STAT_NONE;
}

int at_parse_cmt(const char *line, struct at_pdu_header *ret)
{
        struct at_field f[AT_FIELDS_MAX];
        size_t n;
        struct at_pdu_header h;
        int r;
        if (!line || !ret)
                return -EINVAL;
        if (split(line, "+CMT:", f, &n) < 0 || n > 2)
                return -EBADMSG;
        header_init(&h);
        if ((r = parse_tail(f, n, false, &h)) < 0)
                return r;
        *ret = h;
        return 0;
}

int at_parse_cds(const char *line, struct at_pdu_header *ret)
{
        struct at_field f[AT_FIELDS_MAX];
        size_t n;
        struct at_pdu_header h;
        if (!line || !ret)
                return -EINVAL;
        if (split(line, "+CDS:", f, &n) < 0 || n > 2)
                return -EBADMSG;
        /* With two fields the first must be empty: "+CDS: ,25". */
        if (n == 2 && f[0].len != 0)
                return -EBADMSG;
        header_init(&h);
        if (parse_length(&f[n - 1], &h.length) < 0)
                return -EBADMSG;
        *ret = h;
        return 0;
}

int at_parse_cmgl(const char *line, struct at_pdu_header *ret)
{
        struct at_field f[AT_FIELDS_MAX];
        size_t n;
        struct at_pdu_header h;
        int r;
        if (!line || !ret)
                return -EINVAL;
        if (split(line, "+CMGL:", f, &n) < 0 || n < 2 || n > 4)
                return -EBADMSG;
        header_init(&h);
        if (at_field_int(&f[0], &h.index) < 0 || h.index < 0)
                return -EBADMSG;
        if ((r = parse_tail(f + 1, n - 1, true, &h)) < 0)
                return r;
        *ret = h;
        return 0;
}

int at_parse_cmgr(const char *line, struct at_pdu_header *ret)
{
        struct at_field f[AT_FIELDS_MAX];
        size_t n;
        struct at_pdu_header h;
        int r;
        if (!line || !ret)
                return -EINVAL;
        if (split(line, "+CMGR:", f, &n) < 0 || n > 3)
                return -EBADMSG;
        header_init(&h);
        if ((r = parse_tail(f, n, true, &h)) < 0)
                return r;
        *ret = h;
        return 0;
}

unsigned at_mem_from_name(const char *name)
{
        static const struct {
                const char *name;
                unsigned bit;
        } mems[] = {
                { "SM", AT_MEM_SM }, { "ME", AT_MEM_ME }, { "MT", AT_MEM_MT },
                { "BM", AT_MEM_BM }, { "SR", AT_MEM_SR }, { "TA", AT_MEM_TA },
        };
        for (size_t i = 0; name && i < sizeof(mems) / sizeof(mems[0]); i++)
                if (strcasecmp(name, mems[i].name) == 0)
                        return mems[i].bit;
        return 0;
}

int at_parse_cpms(const char *line, struct at_cpms *ret)
{
        struct at_field f[AT_FIELDS_MAX];
        size_t n;
        struct at_cpms c = { .n = 0 };
        if (!line || !ret)
                return -EINVAL;
        if (split(line, "+CPMS:", f, &n) < 0 || n % 3 != 0 || n > 9)
                return -EBADMSG;
        for (size_t i = 0; i < n; i += 3) {
                if (f[i].len == 0)
                        return -EBADMSG;
                if (at_field_str(&f[i], c.s[c.n].mem, sizeof(c.s[c.n].mem)) < 0)
                        return -ENOBUFS;
                if (at_field_int(&f[i + 1], &c.s[c.n].used) < 0 ||
                    at_field_int(&f[i + 2], &c.s[c.n].total) < 0 || c.s[c.n].used < 0 ||
                    c.s[c.n].total < 0)
                        return -EBADMSG;
                c.n++;
        }
        *ret = c;
        return 0;
}

/* The storages named in one "(\"SM\",\"ME\")" list, as bits; unknown names are skipped. */
static int mem_list(const struct at_field *f, unsigned *ret)
{
        char buf[128];
        struct at_field sub[AT_FIELDS_MAX];
        size_t n;
        if (f->len + 1 > sizeof(buf))
                return -EBADMSG;
        memcpy(buf, f->p, f->len);
        buf[f->len] = '\0';
        if (at_fields_split(buf, "", sub, AT_FIELDS_MAX, &n) < 0)
                return -EBADMSG;
        unsigned bits = 0;
        for (size_t i = 0; i < n; i++) {
                char name[AT_PARSE_MEM_MAX];
                if (sub[i].len > 0 && at_field_str(&sub[i], name, sizeof(name)) == 0)
                        bits |= at_mem_from_name(name);
        }
        *ret = bits;
        return 0;
}

int at_parse_cpms_support(const char *line, struct at_cpms_support *ret)
{
        struct at_field f[AT_FIELDS_MAX];
        size_t n;
        struct at_cpms_support c = { .n = 0 };
        if (!line || !ret)
                return -EINVAL;
        if (split(line, "+CPMS:", f, &n) < 0 || n > 3)
                return -EBADMSG;
        for (size_t i = 0; i < n; i++) {
                if (!f[i].list || mem_list(&f[i], &c.mem[i]) < 0)
                        return -EBADMSG;
        }
        c.n = n;
        *ret = c;
        return 0;
}

int at_parse_cnmi_support(const char *line, struct at_cnmi_support *ret)
{
        struct at_field f[AT_FIELDS_MAX];
        size_t n;
        struct at_cnmi_support c = { 0 };
        uint32_t *dst[] = { &c.mode, &c.mt, &c.bm, &c.ds, &c.bfr };
        if (!line || !ret)
                return -EINVAL;
        if (split(line, "+CNMI:", f, &n) < 0 || n > 5)
                return -EBADMSG;
        for (size_t i = 0; i < n; i++)
                if (f[i].len == 0 || at_field_bits(&f[i], dst[i]) < 0)
                        return -EBADMSG;
        *ret = c;
        return 0;
}

int at_parse_csca(const char *line, struct at_csca *ret)
{
        struct at_field f[AT_FIELDS_MAX];
        size_t n;
        struct at_csca c = { .type = -1 };
        if (!line || !ret)
                return -EINVAL;
        if (split(line, "+CSCA:", f, &n) < 0 || n > 2)
                return -EBADMSG;
        if (at_field_str(&f[0], c.number, sizeof(c.number)) < 0)
                return -ENOBUFS;
        if (n == 2 && f[1].len > 0 && (at_field_int(&f[1], &c.type) < 0 || c.type > 255))
                return -EBADMSG;
        *ret = c;
        return 0;
}

int at_parse_cmgd_support(const char *line, struct at_cmgd_support *ret)
{
        struct at_field f[AT_FIELDS_MAX];
        size_t n;
        struct at_cmgd_support c = { .delflag = 0 };
        int r;
        if (!line || !ret)
                return -EINVAL;
        if (split(line, "+CMGD:", f, &n) < 0 || n > 2)
                return -EBADMSG;
        if ((r = at_field_ranges(&f[0], &c.index)) < 0)
                return r;
        if (n == 2 && at_field_bits(&f[1], &c.delflag) < 0)
                return -EBADMSG;
        *ret = c;
        return 0;
}
