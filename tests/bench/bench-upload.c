/* The uploader's throughput and size on the wire: 100,000 events of a simulated run (200
 * contacts, mixed types) cut into batches of 1,000 and PUT to nginx WebDAV on 127.0.0.1
 * through the sd-event loop. Prints bytes per event on the wire (gzip) and events per second
 * through the uploader (cut + pseudonyms + JSON + gzip + fsync + PUT + confirm).
 * Targets: <= 40 bytes per event, >= 50,000 events per second. */
#include <stdio.h>
#include <time.h>

#include "tests/unit/test-upload-harness.h"

#define EVENTS 100000

static double now_s(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(void)
{
        struct harness h;
        struct upload_config c;
        struct upload *u;
        char url[128];
        size_t bytes = 0;

        if (h_setup(&h, "bench-upload") < 0 || h_add_events(&h, EVENTS) < 0) {
                fprintf(stderr, "bench-upload: cannot set up the store\n");
                return 1;
        }
        if (h_nginx_start(&h, NULL, NULL) < 0) {
                fprintf(stderr, "bench-upload: nginx did not start (nginx-light installed?)\n");
                h_cleanup(&h);
                return 1;
        }
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/up/bench", h.port);
        h_config(&h, &c, url);
        c.batch_events = 1000;
        if (upload_new(h.loop, h.store, &c, &u) < 0) {
                h_cleanup(&h);
                return 1;
        }
        double t0 = now_s();
        upload_kick(u, true);
        bool idle = h_run_until_idle(&h, u, 120);
        double dt = now_s() - t0;
        int batches = idle ? h_check_uploaded(&h, "up/bench", EVENTS, &bytes) : -1;
        upload_free(u);
        h_cleanup(&h);
        if (batches < 0) {
                fprintf(stderr, "bench-upload: the upload did not complete or check\n");
                return 1;
        }
        printf("upload: %d events in %d batches, %.2f s: %.0f events/s (target >= 50000)\n", EVENTS,
               batches, dt, EVENTS / dt);
        printf("upload: %zu bytes on the wire: %.1f bytes/event (target <= 40)\n", bytes,
               (double)bytes / EVENTS);
        return 0;
}
