/* Error codes to text: -errno via strerror, the project band via a table. */
#include <string.h>
#include "logseal/common.h"

const char *lsl_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
#define LSL_ERR_CASE(name, val, msg)                                           \
    case (val):                                                                \
        return msg;
        LSL_ERRNO_MAP(LSL_ERR_CASE)
#undef LSL_ERR_CASE
    default:
        break;
    }
    if (err < 0 && err > -4096)
        return strerror(-err);
    return "unknown error";
}
