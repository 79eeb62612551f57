/*
 * logseal — growing a plain heap array.
 *
 * The one place the "double the capacity, realloc, check, assign" step is
 * written. It suits arrays whose elements hold no secret and no original
 * (realloc may leave the old block's bytes in freed memory): secrets live
 * in sodium_malloc memory, originals in struct lsl_buf, which wipes.
 */
#ifndef LOGSEAL_ARRAY_H
#define LOGSEAL_ARRAY_H

#include <stddef.h>
#include "logseal/common.h"

/*
 * Make room for `need` elements of `size` bytes in the array whose pointer
 * is stored at `slot` (the address of any `T *`, e.g. `&v->items`; it is
 * read and written with memcpy, so no pointer type is punned) and whose
 * capacity, in elements, is *cap. A NULL array with *cap == 0 is the empty
 * one. The array is owned by the caller before and after; the helper only
 * reallocates it, so pointers into it are stale after a growth.
 *
 * need <= *cap: nothing to do, 0. Otherwise the capacity doubles, starting
 * from `first` when it is 0, until it holds `need` (or becomes `need` when
 * doubling would overflow), and the array is moved with realloc.
 *
 * Returns 0, -ENOMEM (the bytes do not fit in a size_t, or realloc failed)
 * or -EINVAL (`size` or `first` is 0). On failure neither *slot nor *cap
 * changes and the array is still valid.
 */
LSL_MUST_CHECK int lsl_array_grow(void *slot, size_t *cap, size_t need,
                                  size_t size, size_t first);

#endif
