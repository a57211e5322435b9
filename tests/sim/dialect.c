/* The vendor dialects puente-sim offers: one table, each quirk a flag or a value. */
#include <string.h>

#include "tests/sim/sim.h"

/* CNMI positions: <mode>,<mt>,<bm>,<ds>,<bfr> (TS 27.005 3.4.1); bit n = value n accepted. */
#define CNMI_ALL                                                                                   \
        {                                                                                          \
                0x0f, 0x0f, 0x0f, 0x07, 0x03                                                       \
        }

static const struct sim_dialect dialects[] = {
        {
                .name = "standard",
                .manufacturer = "Puente",
                .model = "SIM-27007",
                .revision = "1.0",
                .cmgf_default = 0,
                .cnmi_allowed = CNMI_ALL,
                .summary = "plain TS 27.007/27.005 modem in PDU mode",
        },
        {
                /* Huawei E1550/E173 sticks: URC noise on the command port until
                 * AT^CURC=0; AT+CNMI with <mode> 3, <mt> 3 or <ds> 1 is refused
                 * (+CMS ERROR 303); storage indices start at 0. */
                .name = "huawei",
                .manufacturer = "huawei",
                .model = "E173",
                .revision = "11.126.85.00.209",
                .flags = SIM_DF_CURC_NOISE | SIM_DF_INDEX0,
                .cmgf_default = 0,
                .cnmi_allowed = { 0x07, 0x07, 0x05, 0x05, 0x03 },
                .summary = "^RSSI/^MODE/^BOOT noise until AT^CURC=0, refuses CNMI mode 3, mt 3, "
                           "ds 1, 0-based indices",
        },
        {
                /* SIMCom SIM800/SIM900: "Call Ready" and "SMS Ready" after boot, text
                 * mode until the host asks for PDU mode. */
                .name = "simcom",
                .manufacturer = "SIMCOM_Ltd",
                .model = "SIMCOM_SIM800",
                .revision = "Revision:1308B08SIM800L16",
                .flags = SIM_DF_READY_URCS,
                .cmgf_default = 1,
                .cnmi_allowed = CNMI_ALL,
                .summary = "\"Call Ready\"/\"SMS Ready\" after boot, text mode by default",
        },
        {
                /* Modules whose SIM SMS storage is not offered (some Quectel and
                 * Telit firmwares): only "ME". */
                .name = "me-only",
                .manufacturer = "Puente",
                .model = "SIM-ME",
                .revision = "1.0",
                .flags = SIM_DF_ME_ONLY,
                .cmgf_default = 0,
                .cnmi_allowed = CNMI_ALL,
                .summary = "only \"ME\" message storage",
        },
        {
                /* Some Wavecom/Sierra firmwares send ">" without the space that
                 * TS 27.005 3.5.1 shows. */
                .name = "nospace",
                .manufacturer = "Puente",
                .model = "SIM-NOSPACE",
                .revision = "1.0",
                .flags = SIM_DF_PROMPT_NOSPACE,
                .cmgf_default = 0,
                .cnmi_allowed = CNMI_ALL,
                .summary = "AT+CMGS prompt \">\" without a trailing space",
        },
};

const struct sim_dialect *sim_dialect_find(const char *name)
{
        for (size_t i = 0; i < sizeof(dialects) / sizeof(dialects[0]); i++)
                if (strcmp(dialects[i].name, name) == 0)
                        return &dialects[i];
        return NULL;
}

const struct sim_dialect *sim_dialect_at(size_t i)
{
        return i < sizeof(dialects) / sizeof(dialects[0]) ? &dialects[i] : NULL;
}
