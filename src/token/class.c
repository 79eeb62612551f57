/* Identifier classes: names used in rule files, tokens and the vault. */
#include <string.h>
#include "logseal/token.h"

static const char *const class_names[LSL_CLASS_COUNT] = {
    [LSL_CLASS_IP] = "ip",         [LSL_CLASS_ID] = "id",
    [LSL_CLASS_USER] = "user",     [LSL_CLASS_EMAIL] = "email",
    [LSL_CLASS_SECRET] = "secret", [LSL_CLASS_PHONE] = "phone",
    [LSL_CLASS_NAME] = "name",
};

const char *lsl_class_name(enum lsl_class c)
{
    if ((unsigned)c >= LSL_CLASS_COUNT)
        return "?";
    return class_names[c];
}

int lsl_class_parse(const char *s, size_t len, enum lsl_class *out)
{
    for (unsigned c = 0; c < LSL_CLASS_COUNT; c++) {
        if (strlen(class_names[c]) == len &&
            memcmp(class_names[c], s, len) == 0) {
            *out = (enum lsl_class)c;
            return 0;
        }
    }
    return LSL_ENOTFOUND;
}
