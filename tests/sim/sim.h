/* puente-sim: a simulated GSM network of modems on pseudo-terminals and scripted phones.
 *
 * Ownership: one struct sim_net owns everything (modems, phones, the record file, the
 * control socket) for the life of the program; modems and phones live in fixed arrays
 * inside it and are never freed before exit, so pointers to them stay valid. Timers
 * that belong to a modem are named fields of struct sim_modem and are cancelled when the
 * modem is unplugged or reboots; jobs of the network (delayed deliveries, reports,
 * replies) are floating sd-event sources that free their own payload.
 * Callbacks run on the single sd-event loop and never re-enter one another. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <limits.h>
#include <systemd/sd-event.h>

#include "at/pdu.h"

#define SIM_MODEMS_MAX      16
#define SIM_PHONES_MAX      128
#define SIM_RULES_MAX       16           /* auto-reply rules per phone */
#define SIM_NAME_MAX        32           /* modem and phone names */
#define SIM_NUMBER_MAX      SMS_ADDR_MAX /* a number or alphanumeric sender, NUL */
#define SIM_TEXT_MAX        4096         /* one message before it is cut into parts */
#define SIM_STORE_SLOTS_MAX 255          /* message storage of one memory */
#define SIM_LINE_MAX        1024 /* one AT command line, beyond which the modem answers ERROR */
#define SIM_PDU_HEX_MAX     (2 * SMS_PDU_MAX + 8)
#define SIM_OUT_MAX         (1 << 20) /* unread bytes kept for a modem's host before dropping */
#define SIM_INBOUND_MAX     4096      /* parts the network holds for one modem */
#define SIM_PARTS_MAX       16        /* parts of one message the sim cuts or reassembles */
#define SIM_ASSEMBLY_MAX    64        /* concatenated messages being reassembled at once */
#define SIM_CNMA_TIMEOUT_MS 15000     /* default: the network retries an unacked +CMT */
#define SIM_NOISE_MS        2000      /* period of Huawei ^RSSI/^MODE noise */
#define SIM_CTL_CLIENTS_MAX 16
#define SIM_CTL_LINE_MAX    8192
#define SIM_PORTS_MAX       6    /* tty interfaces of one USB modem (E3372, SIM7600: 3 to 5) */
#define SIM_NMEA_MS         1000 /* a GPS port's fix period: one GGA and one RMC sentence */
#define SIM_NMEA_MAX        83   /* NMEA 0183: at most 82 characters and the NUL */
#define SIM_DIAG_ECHO_MAX   16   /* request bytes a diagnostics port's error frame echoes */
#define SIM_DIAG_FRAME_MAX  (2 * (SIM_DIAG_ECHO_MAX + 3) + 1) /* escaped, with the 0x7e */

/* Results of an AT command handler. */
#define SIM_OK        0
#define SIM_ERROR     (-1) /* plain ERROR */
#define SIM_PENDING   1    /* the handler answers later (CMGS prompt, latency) */
#define SIM_CME(n)    (-(1000 + (n)))
#define SIM_CMS(n)    (-(2000 + (n)))
#define SIM_IS_CME(r) ((r) <= -1000 && (r) > -2000)
#define SIM_IS_CMS(r) ((r) <= -2000)

/* TS 27.007 9.2 and TS 27.005 3.2.5 codes the simulator uses. */
enum {
        CME_NOT_ALLOWED = 3,
        CME_NOT_SUPPORTED = 4,
        CME_SIM_NOT_INSERTED = 10,
        CME_SIM_PIN = 11,
        CME_INCORRECT_PASSWORD = 16,
        CME_INVALID_INDEX = 21,
        CME_NO_SERVICE = 30,
        CME_INVALID_CHAR = 25,
        CME_UNKNOWN = 100,
        CMS_SM_REJECTED = 21,
        CMS_NET_OUT_OF_ORDER = 38,
        CMS_NOT_SUPPORTED = 303,
        CMS_INVALID_PDU_PARAM = 304,
        CMS_OP_NOT_ALLOWED = 302,
        CMS_INVALID_TEXT_PARAM = 305,
        CMS_SIM_NOT_INSERTED = 310,
        CMS_SIM_PIN = 311,
        CMS_SIM_FAILURE = 313,
        CMS_MEMORY_FAILURE = 320,
        CMS_INVALID_INDEX = 321,
        CMS_MEMORY_FULL = 322,
        CMS_NO_SERVICE = 331,
        CMS_NET_TIMEOUT = 332,
        CMS_UNKNOWN = 500,
};

/* ---- dialects: each vendor's quirks as data (dialect.c) ---- */
enum {
        SIM_DF_CURC_NOISE = 1u << 0, /* Huawei E1550/E173: ^RSSI, ^MODE, ^BOOT until AT^CURC=0 */
        SIM_DF_READY_URCS = 1u << 1, /* SIMCom SIM800: "Call Ready", "SMS Ready" after boot */
        SIM_DF_ME_ONLY = 1u << 2,    /* modules without SIM SMS storage: only "ME" */
        SIM_DF_PROMPT_NOSPACE = 1u << 3, /* prompt ">" without the trailing space */
        SIM_DF_INDEX0 = 1u << 4,         /* Huawei: storage indices start at 0 */
};

struct sim_dialect {
        const char *name;
        const char *manufacturer, *model, *revision;
        unsigned flags;
        int cmgf_default;        /* SIMCom boots in text mode */
        uint8_t cnmi_allowed[5]; /* bit n set: value n accepted at that CNMI position */
        const char *summary;     /* one line for --help and docs */
};

const struct sim_dialect *sim_dialect_find(const char *name);
const struct sim_dialect *sim_dialect_at(size_t i); /* NULL past the end */

/* ---- a USB modem's tty interfaces (layout.c: pure; ports.c: the ptys) ---- */
enum sim_port_kind {
        SIM_PORT_AT,     /* the modem: answers AT commands (exactly one per modem) */
        SIM_PORT_DIAG,   /* Qualcomm-style diagnostics: answers input with a binary frame */
        SIM_PORT_NMEA,   /* GPS: NMEA 0183 sentences every SIM_NMEA_MS, input ignored */
        SIM_PORT_SILENT, /* reads and never answers (a data port without AT, a dead one) */
};

/* Parses a layout "diag:at:nmea" (kinds by interface number, ':' apart). Returns 0 with
 * ret_kinds[0..*ret_n) and *ret_at (the AT interface); -EINVAL with a message in err naming
 * the word at fault when a kind is unknown, AT is missing or given twice, or there are more
 * than max interfaces. */
int sim_layout_parse(const char *spec, enum sim_port_kind *ret_kinds, size_t max, size_t *ret_n,
                     size_t *ret_at, char *err, size_t errlen);
const char *sim_port_kind_name(enum sim_port_kind k);
/* The link of interface ifnum (-1: the only tty of a modem without a layout) after `renames`
 * renaming replugs: PATH, PATH-ifNN-port0, PATH-rK, PATH-rK-ifNN-port0 (by-id style).
 * Returns 0 or -ENAMETOOLONG. */
int sim_port_link(char *buf, size_t size, const char *path, unsigned renames, int ifnum);
/* "$BODY*CS\r\n" with the NMEA 0183 checksum (XOR of the body's bytes). Returns the length
 * or -ENAMETOOLONG when it would pass SIM_NMEA_MAX - 1 characters. */
int sim_nmea_sentence(char *buf, size_t size, const char *body);
/* The GGA and RMC bodies of a fixed position at UTC time t (seconds of the epoch). */
void sim_nmea_fix(int64_t t, char *gga, char *rmc, size_t size);
/* A diagnostics error frame answering req: 0x13 (bad command), the first SIM_DIAG_ECHO_MAX
 * bytes of req, the CRC-16 (RFC 1662 FCS) little-endian, 0x7d/0x7e escaped, 0x7e. Returns
 * its length (at most SIM_DIAG_FRAME_MAX). */
size_t sim_diag_frame(const uint8_t *req, size_t len, uint8_t *out);
uint16_t sim_fcs16(const uint8_t *data, size_t len); /* RFC 1662 C.2, final complement included */

struct sim_modem;
struct sim_port {
        struct sim_modem *m;
        enum sim_port_kind kind;
        int master_fd, slave_fd; /* the AT port's live in struct sim_modem */
        char pts[64];
        char link[PATH_MAX];
        sd_event_source *io, *timer;
        uint64_t bytes_in, bytes_out;
};

/* ---- message storage (store.c) ---- */
enum sim_stat { STAT_REC_UNREAD = 0, STAT_REC_READ = 1, STAT_STO_UNSENT = 2, STAT_STO_SENT = 3 };

struct sim_slot {
        bool used;
        enum sim_stat stat;
        bool status_report;
        uint8_t pdu[SMS_PDU_MAX];
        size_t len, tpdu_len;
};

struct sim_store {
        const char *name; /* "SM" or "ME" */
        int size;         /* 0: this memory does not exist */
        bool full_fault;  /* fault: report full whatever is used */
        struct sim_slot slots[SIM_STORE_SLOTS_MAX];
};

int sim_store_used(const struct sim_store *s);
bool sim_store_full(const struct sim_store *s);
/* Stores a PDU; returns the 0-based slot or -ENOSPC. */
int sim_store_put(struct sim_store *s, const uint8_t *pdu, size_t len, size_t tpdu_len,
                  enum sim_stat stat, bool status_report);

/* A part the network holds for a modem until it can take it. */
struct sim_inbound {
        uint8_t pdu[SMS_PDU_MAX];
        size_t len, tpdu_len;
        bool status_report;
};

/* ---- the network-time fault ---- */
enum sim_nettime { NETTIME_OK, NETTIME_WRONG, NETTIME_ABSENT };

enum sim_modem_state {
        MODEM_UNPLUGGED, /* no pty */
        MODEM_BOOTING,   /* pty there, says nothing until boot ends */
        MODEM_READY,
};

enum sim_input { INPUT_COMMAND, INPUT_PDU, INPUT_TEXT };

struct sim_net;

/* A growable byte buffer. */
struct sim_buf {
        char *data;
        size_t len, cap;
};
int sim_buf_add(struct sim_buf *b, const char *data, size_t len, size_t max);
void sim_buf_drop(struct sim_buf *b, size_t n); /* removes n bytes from the front */
void sim_buf_free(struct sim_buf *b);

struct sim_modem {
        struct sim_net *net;
        char name[SIM_NAME_MAX];
        char path[PATH_MAX]; /* configured: the link, or the prefix of the interfaces' links */
        char link[PATH_MAX]; /* the AT port's link now (sim_port_link) */
        /* tty interfaces: n_ports 0 is one AT tty at path; else ports[at_port] is the AT one
         * (its pty is master_fd/slave_fd/pts below) and the others are served by ports.c */
        struct sim_port ports[SIM_PORTS_MAX];
        size_t n_ports, at_port;
        unsigned renames; /* renaming replugs so far: part of every link name */
        const struct sim_dialect *dialect;
        /* SIM and equipment identity */
        char imsi[16], iccid[21], imei[16], number[SIM_NUMBER_MAX], pin[9], smsc[SIM_NUMBER_MAX];
        int sm_size, me_size;

        enum sim_modem_state state;
        int master_fd, slave_fd;
        char pts[64];
        sd_event_source *io, *boot_timer, *cmd_timer, *noise_timer, *cnma_timer;

        /* settings that a reboot resets */
        bool echo, verbose, quiet, curc, ctzu;
        int cmee, cmgf, csms, cmms, creg_n, cgreg_n, cereg_n, cfun;
        int cnmi[5];
        char cscs[16];
        struct sim_store *mem[3]; /* CPMS mem1 (read/delete), mem2 (write/send), mem3 (receive) */
        struct sim_store sm, me;
        bool pin_ok;
        int64_t clock_offset_us; /* modem RTC minus wall clock */
        bool clock_set;          /* set by NITZ or AT+CCLK= */

        /* command input */
        char line[SIM_LINE_MAX];
        size_t line_len;
        bool line_overflow;
        enum sim_input input;
        char pdu_hex[SIM_PDU_HEX_MAX];
        size_t pdu_hex_len;
        bool pdu_overflow;
        int cmgs_len;
        bool cmgw; /* the prompt is for AT+CMGW (store) rather than AT+CMGS */
        int cmgw_stat;
        char cmgs_to[SIM_NUMBER_MAX];
        bool busy; /* a command has not been answered yet */
        char busy_info[SIM_PDU_HEX_MAX + 64];
        int busy_result;
        bool processing;
        char rest[SIM_LINE_MAX]; /* commands after ';' waiting for the busy one */
        uint8_t mr;

        /* bytes to and from the host: out is written to the pty as it drains; urcq holds
         * unsolicited results while a command is in progress (TS 27.005 3.4.1 <mode> 1:
         * "when TA-TE link is reserved ... indications are buffered"); inq holds input not
         * yet executed while a command is answered later */
        struct sim_buf out, urcq, inq;
        uint64_t boot_us;
        struct sim_inbound unacked;

        /* network side */
        struct sim_inbound *inbound; /* ring of SIM_INBOUND_MAX, allocated on first use */
        size_t inbound_head, inbound_len;
        bool cmt_unacked;

        /* faults */
        bool hung, sim_present, no_credit;
        int fail_code, fail_count; /* next fail_count CMGS answer +CMS ERROR fail_code */
        int slow_prompt_ms;
        int latency_min_ms, latency_max_ms; /* -1: the network's */
        char reboot_on[SIM_NAME_MAX];       /* reboot when this command arrives */
        enum sim_nettime nettime;
        int csq;
        bool registered_reported;
        uint64_t parts_sent;
};

/* ---- phones and their auto-reply rules (net.c, config.c) ---- */
struct sim_rule {
        char match[256]; /* glob against the received text, case-insensitive; "" any */
        int nth;         /* only the nth message this phone receives (1-based); 0 every */
        int times;       /* at most this many replies from this rule; 0 unlimited */
        int delay_ms;    /* before the reply goes out */
        char reply[SIM_TEXT_MAX];
        int fired;
};

struct sim_phone {
        char name[SIM_NAME_MAX];
        char number[SIM_NUMBER_MAX];
        char sender[SIM_NUMBER_MAX]; /* originator its messages carry; "" = number */
        bool reachable;              /* delivery reports say delivered or failed */
        int delay_ms;                /* default reply delay */
        struct sim_rule rules[SIM_RULES_MAX];
        size_t n_rules;
        int received;
};

/* Reassembly of concatenated parts a phone receives. */
struct sim_assembly {
        bool used;
        char to[SIM_NUMBER_MAX], from[SIM_NUMBER_MAX];
        uint16_t ref;
        uint8_t total, have;
        bool got[SIM_PARTS_MAX + 1];
        char text[SIM_PARTS_MAX][SMS_TEXT_MAX];
        uint64_t started_us;
};

struct sim_ctl_client;

struct sim_net {
        sd_event *event;
        struct sim_modem modems[SIM_MODEMS_MAX];
        size_t n_modems;
        struct sim_phone phones[SIM_PHONES_MAX];
        size_t n_phones;
        struct sim_assembly asm_[SIM_ASSEMBLY_MAX];
        char record_path[PATH_MAX];
        FILE *record;
        char ctl_path[PATH_MAX];
        int ctl_fd;
        sd_event_source *ctl_io;
        struct sim_ctl_client *clients[SIM_CTL_CLIENTS_MAX];
        char script_path[PATH_MAX];
        int latency_min_ms, latency_max_ms;
        int report_delay_ms;
        int cnma_timeout_ms; /* TS 27.005 3.4.1: how long an unacknowledged +CMT waits */
        int boot_ms;
        int nettime_skew_s; /* NETTIME_WRONG: network time minus true time */
        int tz_quarters;    /* the network's time zone */
        char smsc[SIM_NUMBER_MAX];
        uint16_t next_ref;
        uint64_t messages_delivered;
        int exit_code;
};

/* ---- modem.c (life cycle, network side), modem-io.c (bytes, commands, results) ---- */
int sim_modem_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);
int sim_modem_plug(struct sim_modem *m);
void sim_modem_unplug(struct sim_modem *m);
void sim_modem_reboot(struct sim_modem *m, int boot_ms);
void sim_modem_reset_settings(struct sim_modem *m);
void sim_modem_write(struct sim_modem *m, const char *data, size_t len);
void sim_modem_printf(struct sim_modem *m, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
void sim_modem_urc(struct sim_modem *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_modem_info(struct sim_modem *m, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
void sim_modem_finish(struct sim_modem *m, int result);
/* Answers the command in progress after delay_ms: the info line (may be NULL), then result. */
void sim_modem_finish_after(struct sim_modem *m, int delay_ms, const char *info, int result);
/* Shows the AT+CMGS/AT+CMGW prompt after delay_ms and takes the PDU or text. */
void sim_modem_prompt(struct sim_modem *m, int delay_ms);
bool sim_modem_registered(const struct sim_modem *m);
void sim_modem_registration_changed(struct sim_modem *m);
int sim_modem_garbage(struct sim_modem *m, size_t n);
/* Delivers what the network holds for m as far as its settings and storage allow. */
void sim_modem_pump(struct sim_modem *m);
int sim_modem_queue(struct sim_modem *m, const struct sms_part *part, bool status_report);
/* Puts an unacknowledged +CMT/+CDS back in front of the queue (the SC retries it). */
void sim_modem_requeue_unacked(struct sim_modem *m);
int sim_modem_index(const struct sim_modem *m, int slot); /* slot -> index shown to the host */
int sim_modem_slot(const struct sim_modem *m, int index); /* index -> slot or -1 */
struct sim_modem *sim_modem_find(struct sim_net *net, const char *name);
int sim_modem_latency_ms(const struct sim_modem *m);
void sim_modem_clock(const struct sim_modem *m, struct sms_time *ret, bool *ret_valid);

/* A replug under new names, as after a USB reset or a move to another socket: new ptys
 * (the old ones stay allocated until the new exist, so the numbers differ) and new links;
 * the SIM, IMEI and messages stay. Unplugs first when plugged. Returns 0 or a negative errno. */
int sim_modem_replug_renamed(struct sim_modem *m);

/* ---- ports.c: ptys, links and the interfaces that are not the AT port ---- */
/* Opens a raw pty pair (non-blocking master); the slave is held open so the master stays
 * readable and the line settings survive the host's reopenings. */
int sim_pty_open(int *ret_master, int *ret_slave, char *pts, size_t pts_size);
int sim_link_make(const char *target, const char *link);
int sim_ports_plug(struct sim_modem *m); /* the non-AT interfaces */
void sim_ports_unplug(struct sim_modem *m);
/* Adds dup()s of every open master fd of m to fds (room for SIM_PORTS_MAX + 1). */
size_t sim_ports_hold(const struct sim_modem *m, int *fds);

/* ---- commands (cmd-basic.c, cmd-sms.c) ---- */
enum sim_cmd_kind { CMD_EXEC, CMD_SET, CMD_READ, CMD_TEST };

struct sim_cmd {
        const char *name; /* "+CMGS", "^CURC"; basic ones are handled in modem.c */
        int (*handler)(struct sim_modem *m, enum sim_cmd_kind kind, const char *args);
        unsigned flags;
};
#define CMD_NEEDS_SIM 1u /* answers +CME/+CMS 10 without a SIM, 11 before the PIN */
#define CMD_SMS       2u /* errors are +CMS ERROR (TS 27.005 3.2.5) */
#define CMD_HUAWEI    4u /* only in dialects with SIM_DF_CURC_NOISE */

const struct sim_cmd *sim_cmd_find(const char *name);
extern const struct sim_cmd sim_sms_cmds[]; /* cmd-sms.c, NULL-terminated */
int sim_cmd_sms_submit(struct sim_modem *m, const char *hex, size_t hex_len);
int sim_cmd_sms_submit_text(struct sim_modem *m, const char *text, size_t len);
void sim_cmd_cnma_timeout(struct sim_modem *m);

/* Argument helpers: split "a,\"b\",3" into fields; quotes removed. Returns count or -EINVAL. */
#define SIM_ARGS_MAX 8
int sim_args_split(const char *args, char fields[][128], int max);
int sim_args_int(const char *s, int lo, int hi, int *ret);
/* Copies src whole or not at all: 0 or -ENAMETOOLONG. */
int sim_strcpy(char *dst, size_t size, const char *src);
/* Copies at most size-1 bytes of src and a NUL (size > 0). */
void sim_strlcpy(char *dst, size_t size, const char *src);

/* ---- net.c ---- */
int sim_net_submit(struct sim_modem *m, const struct sms_pdu *pdu, const uint8_t *raw,
                   size_t raw_len);
int sim_net_inject(struct sim_net *net, const char *from, const char *modem_name, const char *text,
                   char *err, size_t err_len);
struct sim_phone *sim_phone_find(struct sim_net *net, const char *number_or_name);
struct sim_phone *sim_phone_add(struct sim_net *net, const char *number);
uint64_t sim_now_us(void); /* CLOCK_MONOTONIC */
/* Local time of a zone given in quarter hours, as TS 23.040 time stamps carry it. */
void sim_time_from_epoch(int64_t epoch_s, int tz_quarters, struct sms_time *ret);

/* ---- ctl.c ---- */
int sim_ctl_listen(struct sim_net *net);
void sim_ctl_close(struct sim_net *net);
/* Runs one control command line; writes the reply (ending in "OK..." or "ERR ...") to out. */
int sim_ctl_exec(struct sim_net *net, const char *line, FILE *out);
int sim_script_load(struct sim_net *net, const char *path);
int sim_ctl_client_main(int argc, char **argv);

/* ---- config.c ---- */
int sim_config_load(struct sim_net *net, const char *path);
int sim_config_modem_arg(struct sim_net *net, const char *arg);
int sim_config_phone_arg(struct sim_net *net, const char *arg);
void sim_modem_defaults(struct sim_net *net, struct sim_modem *m, const char *name);
int sim_parse_range_ms(const char *s, int *ret_min, int *ret_max);

/* ---- sched: one-shot timers ---- */
typedef void (*sim_job_fn)(struct sim_net *net, void *data);
/* Runs fn(net, data) after delay_ms on the loop and then frees data (malloc'd by the caller). */
int sim_job_after(struct sim_net *net, int delay_ms, sim_job_fn fn, void *data);
