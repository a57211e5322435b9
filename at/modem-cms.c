/* What a +CMS ERROR answering AT+CMGS means for the part: permanent, temporary or the modem's
 * fault, with plain words. The table is the documentation (docs/modems.md repeats it). */
#include <stddef.h>

#include "at/modem.h"

struct cms_class {
        int code;
        enum at_send_outcome outcome;
        const char *text;
};

/* 0-127: RP-cause of TS 24.011 8.2.5.4 / Annex E (the network's answer); 128-255: TP-FCS of
 * TS 23.040 9.2.3.22 (the SMSC's); 300-340: errors of the modem itself (TS 27.005 3.2.5);
 * 500: unknown. PERMANENT means this message to this number will not go however often we try;
 * TEMPORARY means the network or SMSC may take it later (maybe through another SIM);
 * MODEM_FAULT means this modem is in no state to send (recovery, another modem); NO_CREDIT
 * means this SIM may not send for now (its account), any other may. */
static const struct cms_class table[] = {
        { 1, AT_SEND_PERMANENT, "unassigned number" },
        { 8, AT_SEND_PERMANENT, "operator determined barring" },
        { 10, AT_SEND_PERMANENT, "call barred" },
        { 17, AT_SEND_TEMPORARY, "network failure" },
        /* 24.011 Annex E: the network refused the transfer itself. Operators answer it to
         * every send of a prepaid SIM without credit (Telcel, Movistar MX): the SIM's
         * account, not the message, so another SIM may send it. */
        { 21, AT_SEND_NO_CREDIT, "short message transfer rejected: no credit?" },
        { 22, AT_SEND_TEMPORARY, "memory capacity exceeded" },
        { 27, AT_SEND_TEMPORARY, "destination out of service" },
        { 28, AT_SEND_PERMANENT, "unidentified subscriber" },
        { 29, AT_SEND_PERMANENT, "facility rejected" },
        { 30, AT_SEND_PERMANENT, "unknown subscriber" },
        /* 24.011 E.2 lists 38 among the causes "of a temporary nature". */
        { 38, AT_SEND_TEMPORARY, "network out of order" },
        { 41, AT_SEND_TEMPORARY, "temporary failure" },
        { 42, AT_SEND_TEMPORARY, "congestion" },
        { 47, AT_SEND_TEMPORARY, "resources unavailable" },
        { 50, AT_SEND_PERMANENT, "requested facility not subscribed" },
        { 69, AT_SEND_PERMANENT, "requested facility not implemented" },
        { 81, AT_SEND_TEMPORARY, "invalid short message transfer reference" },
        { 95, AT_SEND_PERMANENT, "invalid message" },
        { 96, AT_SEND_PERMANENT, "invalid mandatory information" },
        { 97, AT_SEND_PERMANENT, "message type not implemented" },
        { 98, AT_SEND_TEMPORARY, "message not compatible with protocol state" },
        { 99, AT_SEND_PERMANENT, "information element not implemented" },
        { 111, AT_SEND_TEMPORARY, "protocol error" },
        { 127, AT_SEND_TEMPORARY, "interworking error" },
        { 128, AT_SEND_PERMANENT, "telematic interworking not supported" },
        { 129, AT_SEND_PERMANENT, "short message type 0 not supported" },
        { 130, AT_SEND_PERMANENT, "cannot replace short message" },
        { 143, AT_SEND_PERMANENT, "unspecified protocol identifier error" },
        { 144, AT_SEND_PERMANENT, "data coding scheme not supported" },
        { 145, AT_SEND_PERMANENT, "message class not supported" },
        { 159, AT_SEND_PERMANENT, "unspecified data coding error" },
        { 160, AT_SEND_PERMANENT, "command cannot be actioned" },
        { 161, AT_SEND_PERMANENT, "command unsupported" },
        { 175, AT_SEND_PERMANENT, "unspecified command error" },
        { 176, AT_SEND_PERMANENT, "message too long for the SMSC" },
        { 192, AT_SEND_TEMPORARY, "SMSC busy" },
        { 193, AT_SEND_PERMANENT, "no SMSC subscription" },
        { 194, AT_SEND_TEMPORARY, "SMSC system failure" },
        { 195, AT_SEND_PERMANENT, "invalid destination address" },
        { 196, AT_SEND_PERMANENT, "destination barred" },
        { 197, AT_SEND_PERMANENT, "rejected as a duplicate" },
        { 198, AT_SEND_PERMANENT, "validity period format not supported" },
        { 199, AT_SEND_PERMANENT, "validity period not supported" },
        { 208, AT_SEND_MODEM_FAULT, "SIM message storage full" },
        { 212, AT_SEND_TEMPORARY, "SIM toolkit busy" },
        { 255, AT_SEND_TEMPORARY, "unspecified SMSC error" },
        { 300, AT_SEND_MODEM_FAULT, "modem failure" },
        { 301, AT_SEND_MODEM_FAULT, "SMS service of the modem reserved" },
        { 302, AT_SEND_MODEM_FAULT, "operation not allowed" },
        { 303, AT_SEND_MODEM_FAULT, "operation not supported" },
        /* Our PDU was refused: the same PDU will be refused anywhere. */
        { 304, AT_SEND_PERMANENT, "invalid PDU" },
        /* We never use text mode: the modem lost PDU mode (a silent reset). */
        { 305, AT_SEND_MODEM_FAULT, "modem in text mode" },
        { 310, AT_SEND_MODEM_FAULT, "SIM not inserted" },
        { 311, AT_SEND_MODEM_FAULT, "SIM PIN required" },
        { 312, AT_SEND_MODEM_FAULT, "PH-SIM PIN required" },
        { 313, AT_SEND_MODEM_FAULT, "SIM failure" },
        { 314, AT_SEND_MODEM_FAULT, "SIM busy" },
        { 315, AT_SEND_MODEM_FAULT, "SIM wrong" },
        { 316, AT_SEND_MODEM_FAULT, "SIM PUK required" },
        { 320, AT_SEND_MODEM_FAULT, "memory failure" },
        { 321, AT_SEND_MODEM_FAULT, "invalid memory index" },
        { 322, AT_SEND_MODEM_FAULT, "memory full" },
        { 330, AT_SEND_MODEM_FAULT, "SMSC address unknown" },
        { 331, AT_SEND_TEMPORARY, "no network service" },
        { 332, AT_SEND_TEMPORARY, "network timeout" },
        { 340, AT_SEND_MODEM_FAULT, "no acknowledgement expected" },
        /* Operators answer prepaid SIMs without credit with this, as do congested cells. */
        { 500, AT_SEND_TEMPORARY, "unknown error (no credit?)" },
};

enum at_send_outcome at_cms_classify(int cms, const char **ret_text)
{
        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
                if (table[i].code == cms) {
                        if (ret_text)
                                *ret_text = table[i].text;
                        return table[i].outcome;
                }
        /* Unlisted network causes: 24.011 Annex E treats unknown causes as 41 "temporary
         * failure"; unlisted TP-FCS values 224-254 are SMSC specific; 512 up are the
         * manufacturer's. All may pass later, and the bank's back-off caps the retries. */
        if (ret_text)
                *ret_text = cms >= 512 ? "manufacturer specific error" : "unspecified error";
        if (cms >= 300 && cms < 500)
                return AT_SEND_MODEM_FAULT;
        return AT_SEND_TEMPORARY;
}
