/* Modem quirks as data: USB vendor:product:interface and, after probing, maker/model prefixes
 * mapped to behaviour flags and to which tty interface is the AT port.
 *
 * Code tests the flags, never vendor ids. The tables are constant; nothing allocates. The
 * table entries name the model and the symptom that forced each flag (at/quirks.c).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum at_quirk {
        /* Silent until it has received "AT" a few times (autobaud): SIMCom SIM800. */
        AT_QUIRK_AUTOBAUD = 1 << 0,
        /* Periodic ^RSSI/^MODE/^BOOT noise: send AT^CURC=0 (Huawei E173, E1550, E3131). */
        AT_QUIRK_CURC = 1 << 1,
        /* Starts in text mode and boots with "Call Ready"/"SMS Ready" (SIMCom SIM800); we
         * always send AT+CMGF=0, the flag only says to expect it. */
        AT_QUIRK_TEXT_DEFAULT = 1 << 2,
        /* "+CPIN: READY" is not followed by OK (some SIMCom firmwares). */
        AT_QUIRK_CPIN_NO_OK = 1 << 3,
        /* Keeps messages in ME only: try "ME" storage first. */
        AT_QUIRK_ME_STORAGE = 1 << 4,
        /* AT+CFUN=1,1 not supported: reset with AT+CFUN=0 then AT+CFUN=1. */
        AT_QUIRK_CFUN_SPLIT = 1 << 5,
        /* AT+CREG=2 refused: use AT+CREG=1 at once. */
        AT_QUIRK_CREG1 = 1 << 6,
        /* AT+CMMS refused or harmful: never send it. */
        AT_QUIRK_NO_CMMS = 1 << 7,
        /* +CMT: direct deliveries must be acknowledged with AT+CNMA even with AT+CSMS=0. */
        AT_QUIRK_CNMA = 1 << 8,
        /* SMS commands refused for a while after the SIM is ready (+CMS 500/302): wait. */
        AT_QUIRK_SMS_SLOW = 1 << 9,
};

/* What the USB table says about one tty interface. */
struct at_quirk_usb {
        uint16_t vid, pid;
        int at_interface; /* bInterfaceNumber of the AT port, -1 unknown (probe each) */
        unsigned quirks;  /* enum at_quirk */
        const char *name; /* "Huawei E173" */
};

/* The entry for vid:pid, or NULL if the model is not in the table. */
const struct at_quirk_usb *at_quirks_by_usb(uint16_t vid, uint16_t pid);

/* Whether tty interface `iface` of vid:pid is the AT port: 1 yes, 0 no (a data, diagnostic or
 * GPS port the table names), -1 unknown (not in the table: probe it). */
int at_quirks_is_at_port(uint16_t vid, uint16_t pid, int iface);

/* Quirks known from the identity answers (AT+CGMI, AT+CGMM), matched by case-insensitive
 * prefix; 0 if none. NULL arguments count as "". */
unsigned at_quirks_by_model(const char *maker, const char *model);

/* Name of one flag ("curc", "autobaud"...), or "?" for none or several. */
const char *at_quirk_name(unsigned flag);
