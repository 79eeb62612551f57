#include <stdio.h>
#include "lsl_config.h"
int main(void)
{
    puts("logseal " LSL_VERSION);
    return 0;
}
