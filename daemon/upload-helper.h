/* The protocol between puented and its upload helper, puente-upload (one PUT per process, so
 * puented never maps libcurl): the settings puented writes to the helper's stdin, the one
 * result line the helper prints on stdout, and the plain words the status shows for it. Pure
 * text handling, no curl, no I/O; daemon/upload-spawn.c runs the helper, and
 * daemon/main-puente-upload.c is the helper.
 *
 * Settings (stdin), one "key value" a line, value up to the end of the line (may be empty):
 *   puente-upload 1          first line: the protocol version
 *   url https://host/base    the configured url; the object name is appended with a '/'
 *   auth none|bearer|basic|cert|s3
 *   token T / user U / password P / client_cert PATH / client_key PATH / ca_file PATH /
 *   s3_region R / timeout SECONDS
 *   end                      last line
 * Secrets travel only here, never in argv or the environment (ps and /proc show those). A
 * value holding a line break cannot be written (-EINVAL), so no value can forge a key.
 *
 * Result (stdout), exactly one line:
 *   result CLASS CURLCODE HTTPSTATUS DETAIL
 * CLASS is one of ok, resolve, connect, timeout, server-cert, client-cert, tls, cut-off,
 * failed, local (the helper sorts curl's codes, so puented needs none of curl's numbers);
 * CURLCODE (up to 4 digits) and HTTPSTATUS (up to 3) decimal; DETAIL curl's error text
 * (printable ASCII, may be empty). The helper exits 0 after a result of any class but
 * "local", which says the helper itself could not work (bad settings, unreadable batch) and
 * comes with exit status 1.
 *
 * Ownership: every function fills the caller's buffers and struct; strings are borrowed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "daemon/upload.h"

#define UPLOAD_HELPER_NAME       "puente-upload"
#define UPLOAD_HELPER_VERSION    "puente-upload 1"
#define UPLOAD_HELPER_END        "end"
#define UPLOAD_HELPER_LINE_MAX   (CONFIG_URL_MAX + 32)           /* the longest settings line */
#define UPLOAD_HELPER_DETAIL_MAX 256                             /* curl's CURL_ERROR_SIZE */
#define UPLOAD_HELPER_RESULT_MAX (UPLOAD_HELPER_DETAIL_MAX + 64) /* the whole result line */
#define UPLOAD_HELPER_SETTINGS_MAX                                                                 \
        (16 * UPLOAD_HELPER_LINE_MAX) /* all the settings: a few KiB, one write to a socket */

enum upload_helper_class {
        UPLOAD_HELPER_OK,          /* the server answered (any HTTP status) */
        UPLOAD_HELPER_RESOLVE,     /* the name did not resolve */
        UPLOAD_HELPER_CONNECT,     /* refused or no route */
        UPLOAD_HELPER_TIMEOUT,     /* curl's own time-out */
        UPLOAD_HELPER_SERVER_CERT, /* the server's certificate is not trusted */
        UPLOAD_HELPER_CLIENT_CERT, /* our certificate or key is unusable */
        UPLOAD_HELPER_TLS,         /* any other TLS failure */
        UPLOAD_HELPER_CUT_OFF,     /* the connection broke mid-way */
        UPLOAD_HELPER_FAILED,      /* any other curl failure */
        UPLOAD_HELPER_LOCAL,       /* the helper itself could not work */
        UPLOAD_HELPER_CLASS_COUNT,
};

struct upload_helper_result {
        enum upload_helper_class class;
        int curl_code;
        long http_status;
        char detail[UPLOAD_HELPER_DETAIL_MAX];
};

/* Writes the settings puented sends for cfg (the whole protocol text, with the version and
 * the end line). *ret_len gets its length. -EINVAL when a value holds a line break, -ENOBUFS
 * when buf is too small. */
int upload_helper_settings_write(const struct upload_config *cfg, char *buf, size_t size,
                                 size_t *ret_len);

/* Reads one settings line (without its line break) into cfg, which the caller zeroed before
 * the first. Returns 0, 1 after the end line, or -EBADMSG with the reason in errmsg
 * (UPLOAD_ERROR_MAX bytes): an unknown key, a bad auth word or time-out, a missing version.
 * `line_no` is 1 for the first line (the version). */
int upload_helper_settings_parse(struct upload_config *cfg, const char *line, unsigned line_no,
                                 char *errmsg);

/* Formats the result line, line break included; the detail's control and non-ASCII bytes
 * become spaces. */
void upload_helper_result_format(const struct upload_helper_result *r, char *buf, size_t size);

/* Parses what the helper printed: exactly one well-formed result line and nothing more.
 * -EBADMSG otherwise; *ret is written only on success. */
int upload_helper_result_parse(const char *text, size_t len, struct upload_helper_result *ret);

/* Plain words for a result that is not a 2xx: "server answered 500 (server error)", "server
 * certificate not trusted: ...", "no connection to the server (refused or no route): ...".
 * `auth` and `timeout` are the configured ones (they choose and complete the words). */
void upload_helper_describe(const struct upload_helper_result *r, enum upload_auth auth,
                            unsigned timeout, char *buf, size_t size);

/* Whether the result is the server's 2xx. */
bool upload_helper_succeeded(const struct upload_helper_result *r);
