/* Message storage of a simulated SIM ("SM") or modem ("ME"): fixed slots. */
#include <errno.h>
#include <string.h>

#include "tests/sim/sim.h"

int sim_store_used(const struct sim_store *s)
{
        int n = 0;
        for (int i = 0; i < s->size; i++)
                n += s->slots[i].used;
        return n;
}

bool sim_store_full(const struct sim_store *s)
{
        return s->full_fault || sim_store_used(s) >= s->size;
}

int sim_store_put(struct sim_store *s, const uint8_t *pdu, size_t len, size_t tpdu_len,
                  enum sim_stat stat, bool status_report)
{
        if (s->full_fault || len > SMS_PDU_MAX)
                return -ENOSPC;
        for (int i = 0; i < s->size; i++) {
                struct sim_slot *slot = &s->slots[i];
                if (slot->used)
                        continue;
                memcpy(slot->pdu, pdu, len);
                slot->len = len;
                slot->tpdu_len = tpdu_len;
                slot->stat = stat;
                slot->status_report = status_report;
                slot->used = true;
                return i;
        }
        return -ENOSPC;
}
