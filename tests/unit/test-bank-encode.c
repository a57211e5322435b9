/* Encoding at send time (daemon/bank-encode.c) must give the parts counted at queue time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "at/pdu.h"
#include "daemon/bank-internal.h"
#include "daemon/store.h"

struct enc_case {
        const char *name;
        const char *text;
        bool translit; /* how the queueing side analyzed it (rules with translit = true) */
};

static const struct enc_case cases[] = {
        /* The demo's opt-out reply: 87 characters with í, so 2 UCS-2 parts, or 1 GSM part
         * once transliterated: sending it as UCS-2 failed "cannot encode the text". */
        { "translit opt-out",
          "Ya no recibirá mensajes de Puente. Para volver envíe ALTA y su "
          "fecha probable de parto.",
          true },
        { "ucs2 kept",
          "Ya no recibirá mensajes de Puente. Para volver envíe ALTA y su fecha "
          "probable de parto.",
          false },
        { "plain gsm", "Hola, su cita es mañana a las 9:00.", false },
        { "emoji", "Felicidades 🎉", false },
        { "translit long",
          "Recuerde: tome ácido fólico todos los días. Acuda a su clínica si "
          "tiene sangrado, fiebre o dolor de cabeza fuerte. Su próxima cita "
          "está en su carnet. Ánimo.",
          true },
};

static void test_send_time_matches_queue_time(void **state)
{
        struct bank b;
        memset(&b, 0, sizeof(b));
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct sms_text_info info;
                assert_int_equal(sms_text_analyze(cases[i].text, cases[i].translit, &info), 0);
                for (unsigned seq = 1; seq <= info.parts; seq++) {
                        struct store_part p = {
                                .seq = seq,
                                .part_count = (unsigned)info.parts,
                                .concat_ref = 7,
                                .encoding = info.charset == SMS_CHARSET_UCS2 ? STORE_ENC_UCS2
                                                                             : STORE_ENC_GSM7,
                                .text = cases[i].text,
                        };
                        strcpy(p.recipient, "+525520000128");
                        struct bank_due d;
                        memset(&d, 0, sizeof(d));
                        int r = bank_encode_part(&b, &p, &d);
                        if (r != 0)
                                fail_msg("%s: part %u/%zu: %d", cases[i].name, seq, info.parts, r);
                        struct sms_pdu pdu;
                        assert_int_equal(sms_pdu_decode_hex(d.pdu, SMS_DIR_MO, &pdu), 0);
                        assert_int_equal(pdu.charset, info.charset);
                }
        }
        free(b.encode_parts);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_send_time_matches_queue_time),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
