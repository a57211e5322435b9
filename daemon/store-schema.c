/* The store's schema as forward migrations: step i takes a database from version i to i + 1.
 * A step is never edited once released; a change is a new step (docs/store.md). */
#include "daemon/store-internal.h"

/* Version 1: the tables of the first release. Times are Unix seconds (UTC). Parts carry their
 * own state: that is where the exactly-once contract lives (docs/store.md). */
static const char schema_v1[] =
        "CREATE TABLE settings ("
        " key TEXT PRIMARY KEY NOT NULL,"
        " value TEXT NOT NULL"
        ") WITHOUT ROWID;"

        "CREATE TABLE contacts ("
        " id INTEGER PRIMARY KEY,"
        " study_id TEXT NOT NULL UNIQUE CHECK (length(study_id) BETWEEN 1 AND 63),"
        " phone TEXT NOT NULL UNIQUE CHECK (phone GLOB '+[1-9]*' AND length(phone) <= 16),"
        " language TEXT NOT NULL DEFAULT 'es' CHECK (length(language) BETWEEN 1 AND 15),"
        " clinic TEXT NOT NULL DEFAULT '',"
        " fields TEXT NOT NULL DEFAULT '{}'"
        "  CHECK (json_valid(fields) AND json_type(fields) = 'object'),"
        " created INTEGER NOT NULL,"
        " updated INTEGER NOT NULL"
        ");"

        "CREATE TABLE modems ("
        " id INTEGER PRIMARY KEY,"
        " imei TEXT NOT NULL UNIQUE CHECK (length(imei) BETWEEN 1 AND 63),"
        " iccid TEXT NOT NULL DEFAULT '',"
        " imsi TEXT NOT NULL DEFAULT '',"
        " maker TEXT NOT NULL DEFAULT '',"
        " model TEXT NOT NULL DEFAULT '',"
        " revision TEXT NOT NULL DEFAULT '',"
        " device TEXT NOT NULL DEFAULT '',"
        " sent_day INTEGER NOT NULL DEFAULT 0," /* local date YYYYMMDD of sent_today */
        " sent_today INTEGER NOT NULL DEFAULT 0,"
        " errors INTEGER NOT NULL DEFAULT 0,"
        " state TEXT NOT NULL DEFAULT '',"
        " health TEXT NOT NULL DEFAULT '',"
        " first_seen INTEGER NOT NULL,"
        " last_seen INTEGER NOT NULL"
        ");"

        "CREATE TABLE outgoing ("
        " id INTEGER PRIMARY KEY,"
        " recipient TEXT NOT NULL CHECK (length(recipient) BETWEEN 1 AND 47),"
        " contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,"
        " text TEXT NOT NULL,"
        " encoding TEXT NOT NULL CHECK (encoding IN ('gsm7', 'ucs2', '8bit')),"
        " part_count INTEGER NOT NULL CHECK (part_count BETWEEN 1 AND 255),"
        " concat_ref INTEGER NOT NULL CHECK (concat_ref BETWEEN 0 AND 65535),"
        " created INTEGER NOT NULL"
        ");"

        "CREATE TABLE outgoing_parts ("
        " id INTEGER PRIMARY KEY,"
        " message_id INTEGER NOT NULL REFERENCES outgoing(id) ON DELETE CASCADE,"
        " seq INTEGER NOT NULL,"
        " pdu TEXT,"
        " state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sending', 'sent',"
        "  'retry', 'failed', 'unknown', 'delivered', 'undeliverable')),"
        " modem_id INTEGER REFERENCES modems(id),"
        " mr INTEGER CHECK (mr BETWEEN 0 AND 255),"
        " attempts INTEGER NOT NULL DEFAULT 0,"
        " next_attempt INTEGER NOT NULL DEFAULT 0,"
        " error TEXT,"
        " sent_at INTEGER,"
        " report_status INTEGER,"
        " reported_at INTEGER,"
        " updated INTEGER NOT NULL,"
        " UNIQUE (message_id, seq)"
        ");"
        "CREATE INDEX outgoing_parts_due ON outgoing_parts (state, next_attempt);"
        "CREATE INDEX outgoing_parts_mr ON outgoing_parts (mr, sent_at) WHERE mr IS NOT NULL;"

        "CREATE TABLE inbound_parts ("
        " id INTEGER PRIMARY KEY,"
        " modem_id INTEGER REFERENCES modems(id),"
        " sender TEXT NOT NULL,"
        " ref INTEGER NOT NULL,"
        " total INTEGER NOT NULL CHECK (total BETWEEN 2 AND 255),"
        " seq INTEGER NOT NULL CHECK (seq BETWEEN 1 AND total),"
        " text TEXT NOT NULL,"
        " sc_time INTEGER NOT NULL,"
        " received INTEGER NOT NULL,"
        " UNIQUE (sender, ref, total, seq)"
        ");"

        "CREATE TABLE incoming ("
        " id INTEGER PRIMARY KEY,"
        " modem_id INTEGER REFERENCES modems(id),"
        " sender TEXT NOT NULL,"
        " contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,"
        " text TEXT NOT NULL,"
        " parts INTEGER NOT NULL,"
        " complete INTEGER NOT NULL CHECK (complete IN (0, 1)),"
        " sc_time INTEGER NOT NULL,"
        " received INTEGER NOT NULL,"
        " handled INTEGER NOT NULL DEFAULT 0 CHECK (handled IN (0, 1))"
        ");"

        "CREATE TABLE reports ("
        " id INTEGER PRIMARY KEY,"
        " modem_id INTEGER REFERENCES modems(id),"
        " mr INTEGER NOT NULL,"
        " recipient TEXT NOT NULL,"
        " status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 255),"
        " time INTEGER NOT NULL,"
        " part_id INTEGER REFERENCES outgoing_parts(id) ON DELETE SET NULL"
        ");"

        "CREATE TABLE events ("
        " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        " time INTEGER NOT NULL,"
        " clock_trusted INTEGER NOT NULL CHECK (clock_trusted IN (0, 1)),"
        " type TEXT NOT NULL CHECK (length(type) BETWEEN 1 AND 63"
        "  AND type NOT GLOB '*[^a-z0-9._-]*'),"
        " contact_id INTEGER,"
        " payload TEXT NOT NULL CHECK (json_valid(payload))"
        ");"
        "CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
        " BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;"
        "CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
        " BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;";

/* Version 2: priorities, so that a staff member's reply goes out before the day's batch of
 * reminders; and a send time, so that a reminder can be queued for the morning. */
static const char schema_v2[] =
        "ALTER TABLE outgoing ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE outgoing ADD COLUMN not_before INTEGER NOT NULL DEFAULT 0;"
        "CREATE INDEX outgoing_priority ON outgoing (priority DESC, id);";

/* Version 3: the rules runner's state per contact (rules/engine.h struct rules_state as
 * JSON, the next due time the index is rebuilt from) and the settled occurrence keys that
 * make reminders idempotent (docs/engine.md). */
static const char schema_v3[] =
        "CREATE TABLE rules_state ("
        " contact_id INTEGER PRIMARY KEY REFERENCES contacts(id) ON DELETE CASCADE,"
        " state TEXT NOT NULL CHECK (json_valid(state)),"
        " next_due INTEGER NOT NULL,"
        " rule_set TEXT NOT NULL DEFAULT ''"
        ");"
        "CREATE INDEX rules_state_due ON rules_state (next_due);"
        "CREATE TABLE rules_settled ("
        " contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,"
        " key TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 95),"
        " time INTEGER NOT NULL,"
        " PRIMARY KEY (contact_id, key)"
        ") WITHOUT ROWID;"
        "CREATE INDEX outgoing_contact ON outgoing (contact_id, created);";

/* Version 4: finds a single-part message read again from the SIM after a crash
 * (store_inbound_part_add(), docs/store.md) without scanning the inbox. */
static const char schema_v4[] = "CREATE INDEX incoming_dedup ON incoming (sender, sc_time);";

/* Version 5: the concatenation reference counted per recipient (store_queue_message()); a
 * recipient's first count follows the last reference a multi-part message to it used. */
static const char schema_v5[] = "CREATE TABLE concat_refs ("
                                " recipient TEXT PRIMARY KEY,"
                                " last_ref INTEGER NOT NULL CHECK (last_ref BETWEEN 0 AND 255)"
                                ") WITHOUT ROWID;";

/* Version 6: what queued a message, for its sms.* events (docs/upload.md "Message events"):
 * the reminder's name and the rule set's hash, NULL for a message no rule queued. */
static const char schema_v6[] =
        "ALTER TABLE outgoing ADD COLUMN reminder TEXT CHECK (length(reminder) BETWEEN 1 AND 63);"
        "ALTER TABLE outgoing ADD COLUMN rule_set TEXT CHECK (length(rule_set) BETWEEN 1 AND 64);";

/* Version 7: the daemon looks for incoming messages the rules have not handled at every
 * message received; without an index it stepped through the whole inbox (store_inbox_unhandled,
 * docs/store.md "Scale"). Partial: a handled message leaves it. */
static const char schema_v7[] =
        "CREATE INDEX incoming_unhandled ON incoming (id) WHERE handled = 0;";

const char *const store_migrations[STORE_SCHEMA_VERSION] = {
        schema_v1, schema_v2, schema_v3, schema_v4, schema_v5, schema_v6, schema_v7,
};
