/* The wake socket: a unix datagram socket at <state_directory>/puented.sock; any datagram
 * means "the store has new work, look now" (puentectl sends "wake" after queuing).
 *
 * Ownership: wake_open() returns a struct wake the caller frees with wake_close() (NULL is
 * fine), which removes the socket file it created. The sd_event is borrowed and must
 * outlive the struct. The callback runs on the event loop after the pending datagrams were
 * drained (one call for a burst of them); it may call wake_close() only by deferring it. */
#pragma once

#include <stddef.h>
#include <systemd/sd-event.h>

#define WAKE_SOCKET_NAME "puented.sock"
#define WAKE_SOCKET_MODE 0660
#define WAKE_PAYLOAD     "wake"

struct wake;

typedef void (*wake_cb)(void *userdata);

/* Binds the socket at path (a stale socket file left by a crash is replaced; a path that
 * exists and is not a socket is -EEXIST) with mode WAKE_SOCKET_MODE and adds it to the loop.
 * Returns 0 or a negative errno: -ENAMETOOLONG for a path longer than sockaddr_un takes. */
int wake_open(sd_event *event, const char *path, wake_cb cb, void *userdata,
              struct wake **ret_wake);
struct wake *wake_close(struct wake *w);

/* Sends one wake datagram to the socket at path (what puentectl does). Returns 0, or
 * -ENOENT / -ECONNREFUSED when no daemon listens there (not an error for the caller). */
int wake_send(const char *path);

/* Writes "<state_directory>/puented.sock" into buf. -ENAMETOOLONG when it does not fit. */
int wake_socket_path(const char *state_directory, char *buf, size_t size);
