/* libFuzzer target for gateway/text.c: any bytes go to gw_text_analyse, and an accepted text
 * must give counts that agree with each other and with the part sizes. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "gateway/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int ok)
{
    if (!ok)
        abort();
}

/* Plain ASCII without banned control characters is always valid text. */
static int is_plain_ascii(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        uint8_t b = data[i];
        if (b >= 0x7f || (b < 0x20 && b != '\t' && b != '\n' && b != '\r'))
            return 0;
    }
    return size > 0;
}

static void check_parts(const struct gw_text_info *info)
{
    int gsm7 = info->encoding == GW_TEXT_GSM7;
    unsigned single = gsm7 ? 160 : 70;
    unsigned part = gsm7 ? 153 : 67;

    if (info->units <= single) {
        require(info->segments == 1);
        return;
    }
    /* every part but the last holds at least part - 1 units (a pair pushed over) */
    require(info->segments >= 2);
    require(info->units <= (unsigned long long)info->segments * part);
    require(info->units >= (unsigned long long)(info->segments - 1) * (part - 1) + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gw_text_info info;
    int err = gw_text_analyse((const char *)data, size, &info);

    require(err == 0 || err == EINVAL);
    if (is_plain_ascii(data, size))
        require(err == 0 && info.chars == size);
    if (err != 0)
        return 0;
    require(size > 0);
    require(info.chars >= 1 && info.chars <= size);
    require(info.units >= info.chars && info.units <= 2 * (unsigned long long)info.chars);
    require(info.encoding == GW_TEXT_GSM7 || info.encoding == GW_TEXT_UCS2);
    check_parts(&info);
    return 0;
}
