/*
 * Growing a plain heap array (see include/logseal/array.h). The new
 * capacity is computed and checked in full before realloc is called, so a
 * failure leaves the caller's pointer and capacity exactly as they were.
 */
#include "logseal/array.h"
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int lsl_array_grow(void *slot, size_t *cap, size_t need, size_t size,
                   size_t first)
{
    size_t c = *cap;
    void *p;

    if (need <= c)
        return 0;
    if (size == 0 || first == 0)
        return -EINVAL;
    if (c == 0)
        c = first;
    while (c < need)
        c = c > SIZE_MAX / 2 ? need : c * 2;
    if (c > SIZE_MAX / size)
        return -ENOMEM;
    memcpy(&p, slot, sizeof(p));
    p = realloc(p, c * size);
    if (!p)
        return -ENOMEM;
    memcpy(slot, &p, sizeof(p));
    *cap = c;
    return 0;
}
