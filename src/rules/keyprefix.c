/*
 * Secrets known by their prefix, in free text, for the scrubber (class
 * secret): a streamer who pastes a stream key into the chat, a developer
 * who pastes an access token into a support message. Each is a prefix,
 * then random text of one alphabet and length that holds a digit, and
 * ends where a word ends (not before '.' and a letter or digit: a file
 * name):
 *
 *   sk_ (sk_live_ sk_test_)  stream keys (the rtmp logs' "sk_..."),
 *                            Stripe secret keys: 20+ letters and digits
 *   sk- (sk-proj-)           OpenAI keys: 20+ of letters, digits, _ -
 *   live_NNNNNN_             Twitch stream keys: digits, '_', 20+ letters
 *                            and digits
 *   ghp_ gho_ ghu_ ghs_ ghr_ GitHub tokens: 36 letters and digits
 *   github_pat_              GitHub tokens: 22+ of letters, digits, _
 *   xoxa- xoxb- xoxp- xoxr- xoxs-  Slack tokens: 10+ of letters, digits, -
 *   AKIA ASIA                AWS access key ids: 16 capitals and digits
 *   AIza                     Google API keys: 35 of letters, digits, _ -
 *
 * Words such as "sk_learning_notes" or "live_stream_2024" are no key:
 * their text after the prefix breaks the alphabet or holds no digit.
 */
#include <string.h>
#include "rules_internal.h"

enum alphabet { A_ALNUM, A_KEY, A_WORD, A_SLACK, A_UPPER };

struct key_prefix {
    const char *text;
    size_t min, max;
    enum alphabet alphabet;
};

static const struct key_prefix prefixes[] = {
    {"sk_live_", 20, 250, A_ALNUM}, {"sk_test_", 20, 250, A_ALNUM},
    {"sk_", 20, 250, A_ALNUM},      {"sk-proj-", 20, 250, A_KEY},
    {"sk-", 20, 250, A_KEY},        {"github_pat_", 22, 250, A_WORD},
    {"ghp_", 36, 36, A_ALNUM},      {"gho_", 36, 36, A_ALNUM},
    {"ghu_", 36, 36, A_ALNUM},      {"ghs_", 36, 36, A_ALNUM},
    {"ghr_", 36, 36, A_ALNUM},      {"xoxa-", 10, 250, A_SLACK},
    {"xoxb-", 10, 250, A_SLACK},    {"xoxp-", 10, 250, A_SLACK},
    {"xoxr-", 10, 250, A_SLACK},    {"xoxs-", 10, 250, A_SLACK},
    {"AKIA", 16, 16, A_UPPER},      {"ASIA", 16, 16, A_UPPER},
    {"AIza", 35, 35, A_KEY},
};

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool in_alphabet(char c, enum alphabet a)
{
    bool alnum = digit(c) || upper(c) || (c >= 'a' && c <= 'z');

    switch (a) {
    case A_ALNUM:
        return alnum;
    case A_KEY:
        return alnum || c == '_' || c == '-';
    case A_WORD:
        return alnum || c == '_';
    case A_SLACK:
        return alnum || c == '-';
    case A_UPPER:
        return digit(c) || upper(c);
    }
    return false;
}

/* Random text of `a` from s[j], min..max bytes holding a digit, where a
 * word ends: its end, or 0. */
static size_t key_end(const char *s, size_t hi, size_t j, size_t min,
                      size_t max, enum alphabet a)
{
    size_t st = j;
    bool has_digit = false;

    while (j < hi && in_alphabet(s[j], a) && j - st <= max)
        has_digit |= digit(s[j++]);
    if (j - st < min || j - st > max || !has_digit)
        return 0;
    if (j < hi && (in_alphabet(s[j], A_KEY) ||
                   (s[j] == '.' && j + 1 < hi && in_alphabet(s[j + 1], A_KEY))))
        return 0;
    return j;
}

/* "live_" then the channel's digits, '_' and the key. */
static size_t twitch_end(const char *s, size_t hi, size_t j)
{
    size_t st = j;

    while (j < hi && digit(s[j]))
        j++;
    if (j - st < 6 || j >= hi || s[j] != '_')
        return 0;
    return key_end(s, hi, j + 1, 20, 250, A_ALNUM);
}

bool lsl_key_prefix_at(const char *s, size_t hi, size_t i, struct lsl_hit *h)
{
    size_t end = 0;

    /* Every prefix's second byte is one of these: most words stop here. */
    if (hi - i <= 5 || s[i + 1] == '\0' || !memchr("kihoKSI", s[i + 1], 7))
        return false;
    if (s[i] == 'l' && memcmp(s + i, "live_", 5) == 0) {
        end = twitch_end(s, hi, i + 5);
    } else {
        for (size_t k = 0; k < sizeof(prefixes) / sizeof(prefixes[0]); k++) {
            const struct key_prefix *p = &prefixes[k];
            size_t n = strlen(p->text);

            if (p->text[0] == s[i] && p->text[1] == s[i + 1] && hi - i > n &&
                memcmp(s + i, p->text, n) == 0) {
                end = key_end(s, hi, i + n, p->min, p->max, p->alphabet);
                break;
            }
        }
    }
    if (!end)
        return false;
    lsl_hit_set(h, i, end, LSL_CLASS_SECRET, 0);
    return true;
}
