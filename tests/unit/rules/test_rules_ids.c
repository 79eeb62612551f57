/*
 * Device ids and secrets (ids.c) through the scrubber, percent-encoded
 * text scrubbed as decoded, the useragent action, the query action's new
 * readings (decoded and array names, fragments, encoded pairs, opaque
 * values) and format text. Each case of the issue that came out raw or
 * misattributed before is here, with look-alikes that must stay.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "logseal/rules.h"
#include "plan_render.h"
#include "src/rules/rules_internal.h"

static void scrub(void **state, const char *line, const char *want)
{
    check_plan(NULL, *state, line, false, want);
}

static void test_mac(void **state)
{
    scrub(state, "mac 00:1A:2B:3C:4D:5E, 00-1a-2b-3c-4d-5e; 001a.2B3C.4d5e.",
          "mac <id|00:1A:2B:3C:4D:5E>, <id|00-1a-2b-3c-4d-5e>; "
          "<id|001a.2B3C.4d5e>.");
    scrub(state, "all-letters aa-bb-cc-dd-ee-ff ok",
          "all-letters <id|aa-bb-cc-dd-ee-ff> ok");
    /* Mixed separators, seven groups, glued, EUI-64 IPv6: no MAC. */
    scrub(state, "00:1a-2b:3c:4d:5e 00-1a-2b-3c-4d-5e-6f x00:1a:2b:3c:4d:5e",
          "00:1a-2b:3c:4d:5e 00-1a-2b-3c-4d-5e-6f x00:1a:2b:3c:4d:5e");
    scrub(state, "aa:bb:cc:dd:ee:ff:00:11 1234.5678.9abc.def0",
          "<ip|aa:bb:cc:dd:ee:ff:00:11> 1234.5678.9abc.def0");
}

static void test_imei(void **state)
{
    scrub(state, "imei 352099001761481 and 35-209900-176148-1 end",
          "imei <id|352099001761481> and <id|35-209900-176148-1> end");
    scrub(state, "dev 35 209900 176148 1!", "dev <id|35 209900 176148 1>!");
    /* IMEISV (16 digits, no check digit) only after its label. */
    scrub(state, "IMEISV: 3520990017614823, imei=35209900176148",
          "IMEISV: <id|3520990017614823>, imei=<id|35209900176148>");
    /* Luhn fails, a timestamp, a decimal, glued: all kept. */
    scrub(state, "352099001761482 1764403199605123 0.352099001761481",
          "352099001761482 1764403199605123 0.352099001761481");
    scrub(state, "352099001761481x a352099001761481 352099001761481.5",
          "352099001761481x a352099001761481 352099001761481.5");
}

/* Test numbers of the card networks, as checkout pages document them. */
static void test_cards(void **state)
{
    scrub(state,
          "visa 4111 1111 1111 1111, 4111-1111-1111-1111 or "
          "4111111111111111.",
          "visa <secret|4111 1111 1111 1111>, <secret|4111-1111-1111-1111> "
          "or <secret|4111111111111111>.");
    scrub(state, "mc 5555555555554444 2223003122003222 amex 3782 822463 10005",
          "mc <secret|5555555555554444> <secret|2223003122003222> amex "
          "<secret|3782 822463 10005>");
    scrub(state,
          "jcb 3530111333300000 diners 3056 930902 5904 up "
          "6200000000000005 disc 6011000990139424",
          "jcb <secret|3530111333300000> diners <secret|3056 930902 5904> up "
          "<secret|6200000000000005> disc <secret|6011000990139424>");
    /* Fullwidth digits, and the ideographic spaces of a Japanese IME. */
    scrub(state,
          "\xef\xbc\x94\xef\xbc\x91\xef\xbc\x91\xef\xbc\x91 1111 1111 "
          "1111 or 4111\xe3\x80\x80"
          "1111\xe3\x80\x80"
          "1111\xe3\x80\x80"
          "1111",
          "<secret|\xef\xbc\x94\xef\xbc\x91\xef\xbc\x91\xef\xbc\x91 1111 "
          "1111 1111> or <secret|4111\xe3\x80\x80"
          "1111\xe3\x80\x80"
          "1111\xe3\x80\x80"
          "1111>");
    /* 15 digits with a check digit: an IMEI, but an Amex card from 34/37. */
    scrub(state, "378282246310005 352099001761481",
          "<secret|378282246310005> <id|352099001761481>");
    /* Luhn fails; no issuer; a length the issuer does not give; mixed or
     * unprinted groups; a sixth group; glued; a decimal. */
    scrub(state,
          "4111 1111 1111 1112 1234567812345678 37828224631000 "
          "4111 1111-1111 1111 4111 1111 11111 111",
          "4111 1111 1111 1112 1234567812345678 37828224631000 "
          "4111 1111-1111 1111 4111 1111 11111 111");
    scrub(state,
          "4111 1111 1111 1111 1111 1 x4111111111111111 "
          "1.4111111111111111 4111111111111111.5",
          "4111 1111 1111 1111 1111 1 x4111111111111111 "
          "1.4111111111111111 4111111111111111.5");
}

/* Keys known by their prefix, pasted in chat; words that start alike. */
static void test_key_prefixes(void **state)
{
    scrub(state,
          "my key sk_e4dcaba9ad5f61d9a09ed564, twitch "
          "live_123456789_AbCdEfGhIjKlMnOpQrSt0123 gh "
          "ghp_16C7e42F292c6912E7710c838347Ae178B4a aws AKIAIOSFODNN7EXAMPL3",
          "my key <secret|sk_e4dcaba9ad5f61d9a09ed564>, twitch "
          "<secret|live_123456789_AbCdEfGhIjKlMnOpQrSt0123> gh "
          "<secret|ghp_16C7e42F292c6912E7710c838347Ae178B4a> aws "
          "<secret|AKIAIOSFODNN7EXAMPL3>");
    scrub(
        state,
        "slack xoxb-123456789012-AbCdEf stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc"
        " openai sk-proj-Ab12_cd34-EF56gh78IJ90kl google "
        "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
        "slack <secret|xoxb-123456789012-AbCdEf> stripe "
        "<secret|sk_live_4eC39HqLyjWDarjtT1zdp7dc> openai "
        "<secret|sk-proj-Ab12_cd34-EF56gh78IJ90kl> google "
        "<secret|AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY>");
    /* No digit, another alphabet, too short, a file name, glued. */
    scrub(state,
          "sk_learning_notes_for_today live_stream_2024_highlights "
          "sk_e4dcaba9ad5f61d9a09ed564.ts xsk_e4dcaba9ad5f61d9a09ed564 "
          "AKIAIOSFODNNXEXAMPLE AKIAIOSFODNN7EXAMPL3X sk_abc123",
          "sk_learning_notes_for_today live_stream_2024_highlights "
          "sk_e4dcaba9ad5f61d9a09ed564.ts xsk_e4dcaba9ad5f61d9a09ed564 "
          "AKIAIOSFODNNXEXAMPLE AKIAIOSFODNN7EXAMPL3X sk_abc123");
}

static void test_jwt(void **state)
{
    const char *jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0"
                      "NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
    char line[512], want[512];

    snprintf(line, sizeof(line), "/t/%s?x#%s", jwt, jwt);
    snprintf(want, sizeof(want), "/t/<secret|%s>?x#<secret|%s>", jwt, jwt);
    scrub(state, line, want);
    /* An unsecured token keeps its empty last part; a sentence's '.' is
     * not the token's. */
    scrub(state, "none eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0. x",
          "none <secret|eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.> x");
    scrub(state, "t=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln.",
          "t=<secret|eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln>.");
    /* Two parts, a short header: not a JWT. */
    scrub(state, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0 eyJh.eyJz.c2ln",
          "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0 eyJh.eyJz.c2ln");
}

static void test_auth(void **state)
{
    scrub(state, "Authorization: Bearer abc.DEF-123_x~+/= next",
          "Authorization: Bearer <secret|abc.DEF-123_x~+/=> next");
    scrub(state, "bearer+tok3n basic dXNlcjpwYXNz BASIC\tZm9v",
          "bearer+<secret|tok3n> basic <secret|dXNlcjpwYXNz> "
          "BASIC\t<secret|Zm9v>");
    scrub(state, "Bearers go, basically Bearer",
          "Bearers go, basically Bearer");
}

static void test_userinfo(void **state)
{
    scrub(state, "https://alice:s3cr3t@host.example.com/x",
          "https://<user|alice>:<secret|s3cr3t>@host.example.com/x");
    scrub(state, "ftp://anonymous@ftp.example.org/ http://:pw@10.0.0.1:81/",
          "ftp://<user|anonymous>@ftp.example.org/ "
          "http://:<secret|pw>@<ip|10.0.0.1>:81/");
    /* An encoded '@' in the user: an e-mail, and still two values. */
    scrub(state, "https://bob%40corp.example:p%40ss@h.example/",
          "https://<email|bob%40corp.example>:<secret|p%40ss>@h.example/");
    /* No '@' before the path: no userinfo. */
    scrub(state, "https://host.example/a@b https://h/?u=a:b@c.example",
          "https://host.example/a@b https://h/?u=a:<email|b@c.example>");
}

static void test_url_hosts(void **state)
{
    scrub(state, "http://0xC0A80001/ http://3232235521:8080/x",
          "http://<ip|0xC0A80001>/ http://<ip|3232235521>:8080/x");
    scrub(state, "http://0300.0250.0.1/ https://0xc0.0xa8.0x00.0x01/a",
          "http://<ip|0300.0250.0.1>/ https://<ip|0xc0.0xa8.0x00.0x01>/a");
    scrub(state, "http://u:p@0xC0A80001/",
          "http://<user|u>:<secret|p>@<ip|"
          "0xC0A80001>/");
    /* Outside a URL's host such numbers are counts and codes. */
    scrub(state, "error 0x80070005 after 3232235521 bytes",
          "error 0x80070005 after 3232235521 bytes");
    scrub(state, "http://0xC0A80001x/ http://2001:db8::1/",
          "http://0xC0A80001x/ http://<ip|2001:db8::1>/");
}

static void test_encoded(void **state)
{
    /* Misattribution before: 32.168.7.4 was taken from the middle. */
    scrub(state, "ip=%31%39%32.168.7.4&z", "ip=<ip|%31%39%32.168.7.4>&z");
    scrub(state, "x %2531%2539%2532.168.7.4 y",
          "x <ip|%2531%2539%2532.168.7.4> y");
    scrub(state, "to john%40example.com and john%2540example.com",
          "to <email|john%40example.com> and <email|john%2540example.com>");
    scrub(state, "fe80%3A%3A1 fe80::1%25eth0 2001%3adb8%3a%3a1%2525lo",
          "<ip|fe80%3A%3A1> <ip|fe80::1%25eth0> <ip|2001%3adb8%3a%3a1%2525lo>");
    scrub(state, "device_id%3DA09FBA35-1234-4ABC-9DEF-0123456789AB&x=1",
          "device_id%3D<id|A09FBA35-1234-4ABC-9DEF-0123456789AB>&x=1");
    scrub(state, "q=%E9%85%8D%E4%BF%A1+live 100%25 50%off",
          "q=%E9%85%8D%E4%BF%A1+live 100%25 50%off");
}

static void test_useragent(void **state)
{
    struct lsl_rule *r =
        parse_rule("name t\npattern ^(?<ua>.*)$\nfield ua useragent\n");

    check_plan(r, *state,
               "Mozilla/5.0 Chrome/130.0.0.0 Edg/130.0.2849.68 from 10.0.0.1",
               true,
               "Mozilla/5.0 Chrome/130.0.0.0 Edg/130.0.2849.68 from "
               "<ip|10.0.0.1>");
    check_plan(r, *state, "bot (+http://192.0.2.1/) x/1.2.3.4", true,
               "bot (+http://<ip|192.0.2.1>/) x/1.2.3.4");
    /* Only in a user agent: elsewhere the quad is an address. */
    scrub(state, "Chrome/130.0.0.0", "Chrome/<ip|130.0.0.0>");
    lsl_rule_free(r);
}

/* Names as apps write them: camelCase and dashes for a listed name with
 * '_' (a name listed without them wins: user_id is userid here), and
 * names no line lists that only a secret's name holds. */
static void test_name_forms(void **state)
{
    struct lsl_rule *r =
        parse_rule("name t\npattern ^(?<q>.*)$\nfield q query\n"
                   "param android_id id\nparam account_id user\n"
                   "param user-id user\nparam userid name\n");

    check_plan(r, *state,
               "/a?androidId=1a2b&ACCOUNT-ID=77&account_ID=78&user_id=79&"
               "userId=80&u_s_e_r_i_d=81",
               true,
               "/a?androidId=<id|1a2b>&ACCOUNT-ID=<user|77>&account_ID=<user|"
               "78>&user_id=<name|79>&userId=<name|80>&u_s_e_r_i_d=<name|81>");
    check_plan(r, *state,
               "/a?sessionToken=xyz&client_secret=s3&db_password=pw&"
               "keyword=cats&author=bob&monkey=1",
               true,
               "/a?sessionToken=<secret|xyz>&client_secret=<secret|s3>&"
               "db_password=<secret|pw>&keyword=cats&author=bob&monkey=1");
    lsl_rule_free(r);
    r = parse_rule("name t\nformat text\nparam android_id id\n");
    check_plan(r, *state, "refreshToken: abc androidId=9f keyword: cats", true,
               "refreshToken: <secret|abc> androidId=<id|9f> keyword: cats");
    lsl_rule_free(r);
}

static void test_query(void **state)
{
    struct lsl_rule *r =
        parse_rule("name t\npattern ^(?<q>.*)$\nfield q query\n"
                   "param password secret\nparam token secret\n"
                   "param uid user\n");

    check_plan(r, *state,
               "/a?pass%77ord=hunter2&token[]=t1&TOKEN%5B%5D=t2&token[0]=t3",
               true,
               "/a?pass%77ord=<secret|hunter2>&token[]=<secret|t1>&TOKEN%5B%5D="
               "<secret|t2>&token[0]=<secret|t3>");
    /* An encoded query inside a value, and an encoded '='. */
    check_plan(r, *state, "/cb?next=%2Fcb%3Ftoken%3Dabc%26uid%3D5&k=1", true,
               "/cb?next=%2Fcb%3Ftoken%3D<secret|abc>%26uid%3D<user|5>&k=1");
    check_plan(r, *state, "/a?token%3Dzzz&token%253Dyyy", true,
               "/a?token%3D<secret|zzz>&token%253D<secret|yyy>");
    /* The fragment (OAuth implicit flow). */
    check_plan(r, *state, "/cb#token=abc&state=1", true,
               "/cb#token=<secret|abc>&state=1");
    /* Opaque values of unlisted names, and path segments. */
    check_plan(r, *state,
               "/d/9774d56d682e549c/x?aid=9774D56D682E549C&f=AbCdEf0123456789_-"
               "xY&v=3f9c2a1e&q=example+live+ch12&n=blackfriday2024promo",
               true,
               "/d/<id|9774d56d682e549c>/x?aid=<id|9774D56D682E549C>&f=<id|"
               "AbCdEf0123456789_-xY>&v=3f9c2a1e&q=example+live+ch12&n="
               "blackfriday2024promo");
    check_plan(r, *state, "/static/js/app.3f9c2a1e.js?t=1764403199605", true,
               "/static/js/app.3f9c2a1e.js?t=1764403199605");
    lsl_rule_free(r);
}

/* What Japanese users type: fullwidth separators after listed names, and
 * the labels of jalabel.c, at the end of the text before the separator. */
static void test_ja_labels(void **state)
{
    struct lsl_rule *r =
        parse_rule("name t\nformat text\nparam password secret\n");

    check_plan(r, *state, "password：hunter2 と password＝pw2", true,
               "password：<secret|hunter2> と password＝<secret|pw2>");
    check_plan(r, *state,
               "私のパスワード: hunter2 です。ログインID＝taro_1987、会員番号"
               "：12345678。",
               true,
               "私のパスワード: <secret|hunter2> です。ログインID＝<user|"
               "taro_1987>、会員番号：<user|12345678>。");
    check_plan(r, *state,
               "本名：「山田太郎」 暗証番号 : 1234 ユーザーＩＤ：taro", true,
               "本名：「<name|山田太郎>」 暗証番号 : <secret|1234> ユーザーＩＤ"
               "：<user|taro>");
    /* No separator, a label not right before it, no value. */
    check_plan(
        r, *state, "本名は山田太郎 パスワードは秘密 パスワード設定：済 氏名：",
        true, "本名は山田太郎 パスワードは秘密 パスワード設定：済 氏名：");
    lsl_rule_free(r);
}

static void test_text_rule(void **state)
{
    struct lsl_rule *r =
        parse_rule("name t\nformat text\nparam password secret\n"
                   "param uid user\n");

    check_plan(r, *state,
               "login uid=42 password=\"a b\" db.password=x1 from 10.0.0.1",
               true,
               "login uid=<user|42> password=\"<secret|a b>\" "
               "db.password=<secret|x1> from <ip|10.0.0.1>");
    check_plan(r, *state, "{\"password\":\"p w\",\"uid\": 7} uid: 8", true,
               "{\"password\":\"<secret|p w>\",\"uid\": <user/q|7>} uid: "
               "<user|8>");
    /* An unlisted opaque value is an id; other values stay. */
    check_plan(r, *state,
               "rid=7a39a4a8b4459573e9f6282f40eb18fe took: 12ms ok=\"9774d56d"
               "682e549c\"",
               true,
               "rid=<id|7a39a4a8b4459573e9f6282f40eb18fe> took: 12ms ok=\"9774d"
               "56d682e549c\"");
    /* Words with escapes are read as query pairs. */
    check_plan(r, *state, "go uid%3D77 to %2Fcb%3Fpassword%3Dpw1 x=1", true,
               "go uid%3D<user|77> to %2Fcb%3Fpassword%3D<secret|pw1> x=1");
    /* Bytes printed \xHH (Python's repr of bytes, nginx) are read as
     * bytes. */
    check_plan(r, *state,
               "got b'bob\\xef\\xbc\\xa0example.com uid=\\xef\\xbc\\x97'", true,
               "got b'<email/x|bob\\xef\\xbc\\xa0example.com> uid=<user/x|"
               "\\xef\\xbc\\x97>'");
    lsl_rule_free(r);
}

static void test_text_rule_errors(void **state)
{
    static const char *const bad[] = {
        "name t\nformat text\nfield a ip\n",
        "name t\nformat text\ntime t %s\n",
        "name t\nformat text\npattern ^x$\n",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct lsl_rule *r = NULL;
        struct lsl_rule_error e;

        assert_int_equal(lsl_rule_parse(&r, bad[i], strlen(bad[i]), "t", &e),
                         LSL_ERULE);
        assert_non_null(strstr(e.msg, "text rule"));
    }
}

/* The matchers alone: bounds are respected at the range's ends. */
static void test_bounds(void **state)
{
    struct lsl_hit h;
    const char *s = "00:1a:2b:3c:4d:5e";

    (void)state;
    assert_true(lsl_mac_at(s, 0, 17, 0, &h));
    assert_false(lsl_mac_at(s, 0, 16, 0, &h));
    assert_true(lsl_imei_at("352099001761481", 0, 15, 0, &h));
    assert_false(lsl_imei_at("352099001761481", 0, 14, 0, &h));
    assert_false(lsl_userinfo_at("://a:b@c", 1, 8, 3, &h));
    assert_true(lsl_userinfo_at("://a:b@c", 0, 8, 3, &h));
    assert_int_equal(h.n, 2);
    assert_true(lsl_opaque_value("9774d56d682e549c", 16, true));
    assert_false(lsl_opaque_value("9774d56d682e549", 15, true));
    assert_false(lsl_opaque_value("/774d56d682e549c", 16, true));
    assert_true(lsl_opaque_value("QWxhZGRpbjpvcGVuIHNlc2FtZQ==", 28, true));
    /* Raw '+' is a blank in a query string, not base64. */
    assert_false(lsl_opaque_value("bearer+0RMiqtRokXGZxUPr4Vkn", 27, true));
    assert_true(lsl_opaque_value("bearer+0RMiqtRokXGZxUPr4Vkn", 27, false));
    /* The hex shortcut: one case with digits; mixed case (random enough
     * here), letters only and digits only are left to the full reading.
     * The shortcut answered as the full reading alone did on 6M random
     * strings, half of them hex. */
    assert_true(lsl_opaque_value("64B1FEC4AABCF1EA34AC48F8C3B5D46F", 32, true));
    assert_true(lsl_opaque_value("64b1fec4aabcf1ea34ac48f8c3b5d46f", 32, true));
    assert_true(lsl_opaque_value("64b1FEC4aabcf1ea", 16, true));
    assert_false(lsl_opaque_value("deadbeefcafebabe", 16, true));
    assert_false(lsl_opaque_value("1234567890123456", 16, true));
    assert_true(lsl_opaque_value("64b1fec4aabcf1ea==", 18, true));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mac),
        cmocka_unit_test(test_imei),
        cmocka_unit_test(test_cards),
        cmocka_unit_test(test_key_prefixes),
        cmocka_unit_test(test_jwt),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_userinfo),
        cmocka_unit_test(test_url_hosts),
        cmocka_unit_test(test_encoded),
        cmocka_unit_test(test_useragent),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_name_forms),
        cmocka_unit_test(test_text_rule),
        cmocka_unit_test(test_ja_labels),
        cmocka_unit_test(test_text_rule_errors),
        cmocka_unit_test(test_bounds),
    };

    return cmocka_run_group_tests(tests, matcher_setup, matcher_teardown);
}
