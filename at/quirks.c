/* The quirks tables: USB ids to AT port and flags, maker/model prefixes to flags. */
#include "at/quirks.h"

#include <stddef.h>
#include <strings.h>
#include <string.h>

/* USB ids as the devices enumerate in modem mode (after usb_modeswitch). at_interface is the
 * bInterfaceNumber of the port that answers AT and is free of PPP (the vendors' port maps:
 * Quectel and SIMCom document "USB AT port" as interface 2; Huawei's PCUI port is interface 2
 * in 12d1:1001 mode). -1: the layout varies by firmware, probe each tty. */
static const struct at_quirk_usb usb_table[] = {
        /* Huawei E1550/E169 (12d1:1001): ^RSSI/^MODE/^BOOT noise on the PCUI port. */
        { 0x12d1, 0x1001, 2, AT_QUIRK_CURC, "Huawei E1550" },
        /* Huawei E173 (12d1:1436 and 140c): same noise; the PCUI interface differs between
         * firmwares. */
        { 0x12d1, 0x1436, -1, AT_QUIRK_CURC, "Huawei E173" },
        { 0x12d1, 0x140c, -1, AT_QUIRK_CURC, "Huawei E173" },
        /* Huawei E3131 (12d1:1506) in stick mode: noise, and +CDS: with an empty first field
         * (the parser takes it). */
        { 0x12d1, 0x1506, -1, AT_QUIRK_CURC, "Huawei E3131" },
        /* ZTE MF190 (19d2:0117 / 0031): +CMGR without status and name (the parser takes it);
         * ends refused commands with "COMMAND NOT SUPPORT" (a final we add). */
        { 0x19d2, 0x0117, -1, 0, "ZTE MF190" },
        { 0x19d2, 0x0031, -1, 0, "ZTE MF190" },
        /* Quectel EC25/EC21: interface 0 diagnostics, 1 NMEA, 2 AT, 3 modem (PPP), 4 QMI. */
        { 0x2c7c, 0x0125, 2, 0, "Quectel EC25" },
        { 0x2c7c, 0x0121, 2, 0, "Quectel EC21" },
        /* SIMCom SIM7600: 0 diagnostics, 1 NMEA, 2 AT, 3 modem (PPP), 4 audio. */
        { 0x1e0e, 0x9001, 2, 0, "SIMCom SIM7600" },
        /* Sierra Wireless MC7304 (1199:68c0): AT on interface 3; AT+CFUN=1,1 is refused by
         * some firmwares, which reset with CFUN=0 then CFUN=1. */
        { 0x1199, 0x68c0, 3, AT_QUIRK_CFUN_SPLIT, "Sierra MC7304" },
};

/* After AT+CGMI / AT+CGMM; matched by case-insensitive prefix, every matching row adds. */
static const struct {
        const char *maker, *model; /* "" matches anything */
        unsigned quirks;
        const char *why;
} model_table[] = {
        { "huawei", "", AT_QUIRK_CURC, "Huawei sticks: ^RSSI/^MODE noise until AT^CURC=0" },
        /* SIM800/SIM900 on a plain USB-serial bridge: no USB id of their own. */
        { "SIMCOM", "SIMCOM_SIM800", AT_QUIRK_AUTOBAUD | AT_QUIRK_TEXT_DEFAULT | AT_QUIRK_SMS_SLOW,
          "SIM800: autobaud, text mode and SMS refused until \"SMS Ready\"" },
        { "SIMCOM", "SIMCOM_SIM900", AT_QUIRK_AUTOBAUD | AT_QUIRK_TEXT_DEFAULT | AT_QUIRK_SMS_SLOW,
          "SIM900: as SIM800" },
        { "Sierra", "MC73", AT_QUIRK_CFUN_SPLIT, "MC7304/MC7354: CFUN=1,1 refused" },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

const struct at_quirk_usb *at_quirks_by_usb(uint16_t vid, uint16_t pid)
{
        for (size_t i = 0; i < N(usb_table); i++)
                if (usb_table[i].vid == vid && usb_table[i].pid == pid)
                        return &usb_table[i];
        return NULL;
}

int at_quirks_is_at_port(uint16_t vid, uint16_t pid, int iface)
{
        const struct at_quirk_usb *q = at_quirks_by_usb(vid, pid);
        if (!q || q->at_interface < 0 || iface < 0)
                return -1;
        return iface == q->at_interface;
}

static bool has_prefix(const char *s, const char *prefix)
{
        return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

unsigned at_quirks_by_model(const char *maker, const char *model)
{
        unsigned q = 0;
        maker = maker ? maker : "";
        model = model ? model : "";
        for (size_t i = 0; i < N(model_table); i++)
                if (has_prefix(maker, model_table[i].maker) &&
                    has_prefix(model, model_table[i].model))
                        q |= model_table[i].quirks;
        return q;
}

static const char *const flag_names[] = {
        "autobaud",   "curc",  "text-default", "cpin-no-ok", "me-storage",
        "cfun-split", "creg1", "no-cmms",      "cnma",       "sms-slow",
};

const char *at_quirk_name(unsigned flag)
{
        for (size_t i = 0; i < N(flag_names); i++)
                if (flag == 1u << i)
                        return flag_names[i];
        return "?";
}
