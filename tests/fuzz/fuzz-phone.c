/* libFuzzer target for at/phone: any bytes as a typed number (and the first byte choosing a
 * real default country code) give an E.164 number or a named problem, never a crash; an accepted
 * number is "+" and 7..15 digits, and normalizing it again gives itself. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "at/phone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char e164[PHONE_E164_MAX], again[PHONE_E164_MAX], *z;
        enum phone_problem problem = PHONE_OK;
        /* Real calling codes only: a default like 115 (inside NANP's +1) gives numbers
         * that read back as +1 and fail its length rules (reported, not a crash). */
        static const unsigned ccs[] = { 52, 1, 44, 34, 57, 51, 502, 593, 49, 683 };
        unsigned cc = 52, cc2;
        size_t digits;
        int r;

        if (size >= 1) {
                cc = ccs[data[0] % (sizeof(ccs) / sizeof(ccs[0]))];
                data++;
                size--;
        }
        z = malloc(size + 1);
        if (!z)
                return 0;
        memcpy(z, data, size);
        z[size] = '\0';
        r = phone_normalize(z, cc, e164, &problem);
        if (r == 0) {
                digits = strlen(e164) - 1;
                if (e164[0] != '+' || digits < PHONE_E164_DIGITS_MIN ||
                    digits > PHONE_E164_DIGITS_MAX || strspn(e164 + 1, "0123456789") != digits)
                        abort();
                if (phone_normalize(e164, cc, again, NULL) != 0 || strcmp(e164, again) != 0)
                        abort(); /* E.164 is a fixed point */
        } else if (r != -EINVAL || problem == PHONE_OK || !phone_problem_str(problem)) {
                abort();
        }
        if (size == 2 && phone_country_code(z, &cc2) == 0 && (cc2 < 1 || cc2 > PHONE_CC_MAX))
                abort();
        free(z);
        return 0;
}
