/* Limits of the store's inbound reassembly (daemon/store-incoming.c, docs/store.md "Incoming
 * messages"): what one sender, and all senders together, may keep pending as parts of
 * unfinished messages. Past a limit the oldest pending message (of that sender, or of anyone
 * for the total) is flushed into the inbox as incomplete, as reassembly_timeout would later:
 * nothing received is dropped, and a message already complete is never touched. Constants
 * only; no ownership. */
#pragma once

/* A phone that splits messages sends one at a time; 8 unfinished ones from one sender is a
 * flood of parts with new references (issue 9). */
#define STORE_INBOUND_GROUPS_PER_SENDER 8
/* UTF-8 bytes of pending text per sender: a whole 255-part message of plain GSM text is
 * about 39 KB; beyond this the sender's other unfinished messages are flushed first. */
#define STORE_INBOUND_BYTES_PER_SENDER (64 * 1024)
/* Unfinished messages of all senders together (alphanumeric senders cost nothing to vary). */
#define STORE_INBOUND_GROUPS_MAX 256
