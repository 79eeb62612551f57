/* The hex digit value the text decoders share (pct.c, jstr.c, xesc.c). */
#ifndef LSL_TOKEN_HEX_INTERNAL_H
#define LSL_TOKEN_HEX_INTERNAL_H

/* The value of hex digit c (either case), or -1. */
static inline int lsl_hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

#endif
