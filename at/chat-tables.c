/* Built-in tables of the AT channel: URC prefixes, boot lines, final responses. */
#include "at/chat-tables.h"

#include <string.h>

/* Lines modems send by themselves; without a registered handler they go to urc_default.
 * Listed so that they are never taken for the answer of a command that has no prefix. */
const struct at_chat_builtin_urc at_chat_builtin_urcs[] = {
        { "+CMTI:", false }, /* 27.005 3.4.1 new message stored */
        { "+CMT:", true },   /* 27.005 3.4.1 new message, PDU follows */
        { "+CDSI:", false }, /* 27.005 3.4.1 status report stored */
        { "+CDS:", true },   /* 27.005 3.4.1 status report, PDU follows */
        { "+CBM:", true },   /* 27.005 3.4.1 cell broadcast */
        { "RING", false },
        { "+CRING:", false },
        { "+CLIP:", false },
        { "+CREG:", false }, /* also the answer of AT+CREG?: rule 4 in at/chat.h */
        { "+CGREG:", false },
        { "+CEREG:", false },
        { "+C5GREG:", false },
        { "+CUSD:", false },
        { "+CPIN:", false }, /* SIMCom and Quectel send +CPIN: READY at boot */
        { "+CFUN:", false },
        { "+CIEV:", false },
        { "+CTZV:", false },
        { "+CTZE:", false },
        { "*PSUTTZ:", false }, /* SIMCom network time */
        { "DST:", false },     /* SIMCom, after *PSUTTZ */
        { "+QIND:", false },   /* Quectel */
        { "+QUSIM:", false },  /* Quectel */
        { "+WIND:", false },   /* Wavecom/Sierra indications */
        { "SMS DONE", false }, /* SIM7600 */
        { "^RSSI:", false },   /* Huawei, every few seconds */
        { "^HCSQ:", false },
        { "^BOOT:", false }, /* Huawei periodic, not a reboot despite the name */
        { "^MODE:", false },
        { "^SRVST:", false },
        { "^SIMST:", false },
        { "^SYSSTART", false }, /* Cinterion boot */
        { "^DSFLOWRPT:", false },
        { "^STIN:", false },
        { "^CEND:", false },
        { "^ORIG:", false },
        { "^CONF:", false },
        { "^CONN:", false },
        { "^NDISSTAT:", false },
        { "+ZPASR:", false }, /* ZTE */
        { "+ZUSIMR:", false },
        { "+PACSP", false },
        { "RDY", false },
        { "Call Ready", false },
        { "SMS Ready", false },
        { "PB DONE", false },
        { "NORMAL POWER DOWN", false },
        { "UNDER-VOLTAGE", false },
        { "OVER-VOLTAGE", false },
};

const size_t at_chat_builtin_urcs_n =
        sizeof(at_chat_builtin_urcs) / sizeof(at_chat_builtin_urcs[0]);

/* Whole lines a modem prints only while booting. RDY: SIMCom SIM800/SIM7600 and Quectel
 * EC25 at power-on; Call Ready / SMS Ready: SIM800; PB DONE, SMS DONE: SIM7600; +QIND: ... DONE:
 * Quectel; ^SYSSTART: Cinterion. (^BOOT of Huawei is periodic noise, not a boot.) */
static const char *const boot_lines[] = {
        "RDY",       "Call Ready", "SMS Ready", "PB DONE", "+QIND: PB DONE", "+QIND: SMS DONE",
        "^SYSSTART", "SMS DONE",
};

bool at_chat_is_boot_line(const char *line)
{
        size_t n = strlen(line);
        while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
                n--;
        for (size_t i = 0; i < sizeof(boot_lines) / sizeof(boot_lines[0]); i++)
                if (strlen(boot_lines[i]) == n && memcmp(line, boot_lines[i], n) == 0)
                        return true;
        return false;
}

/* 27.007 5.7.1 / V.250 final result codes, and the two error finals of 27.007/27.005. */
const struct at_chat_builtin_final at_chat_builtin_finals[] = {
        { "OK", false, AT_STATUS_OK },
        { "ERROR", false, AT_STATUS_ERROR },
        { "+CME ERROR", true, AT_STATUS_CME }, /* 27.007 9.2; some omit the colon's space */
        { "+CMS ERROR", true, AT_STATUS_CMS }, /* 27.005 3.2.5 */
        { "NO CARRIER", false, AT_STATUS_OTHER },
        { "BUSY", false, AT_STATUS_OTHER },
        { "NO ANSWER", false, AT_STATUS_OTHER },
        { "NO DIALTONE", false, AT_STATUS_OTHER },
        { "CONNECT", true, AT_STATUS_OTHER },
};

_Static_assert(sizeof(at_chat_builtin_finals) / sizeof(at_chat_builtin_finals[0]) <=
                       AT_CHAT_BUILTIN_FINALS_MAX,
               "raise AT_CHAT_BUILTIN_FINALS_MAX");
const size_t at_chat_builtin_finals_n =
        sizeof(at_chat_builtin_finals) / sizeof(at_chat_builtin_finals[0]);
