/* SPDX-License-Identifier: MIT */
/* Unit tests for name.c: safe basenames from URL paths. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "name.h"

static void expect_name(const char *path, const char *want)
{
    char *got = name_from_path(path);
    cr_assert_not_null(got);
    cr_expect_str_eq(got, want, "path '%s'", path);
    free(got);
}

Test(unit_name, plain_and_decoded)
{
    expect_name("/pub/debian-12.iso", "debian-12.iso");
    expect_name("/a/b%20c.txt", "b c.txt");
    expect_name("file", "file");
    expect_name("/%E2%82%AC.bin", "\xe2\x82\xac.bin");
}

Test(unit_name, no_file_means_index)
{
    expect_name("", "index.html");
    expect_name("/", "index.html");
    expect_name("/dir/", "index.html");
    expect_name("/.", "index.html");
    expect_name("/..", "index.html");
    expect_name("/%2e%2e", "index.html");
    expect_name("/%2E", "index.html");
    expect_name("/%00", "index.html");
}

Test(unit_name, never_a_separator_or_control)
{
    expect_name("/a%2F..%2Fetc%2Fpasswd", "a_.._etc_passwd");
    expect_name("/%2F", "_");
    expect_name("/a%5Cb", "a_b");
    expect_name("/a%0Ab%09c%7F", "a_b_c_");
    expect_name("/ok%00evil", "ok");
}

Test(unit_name, bad_escapes_kept)
{
    expect_name("/100%", "100%");
    expect_name("/a%zzb", "a%zzb");
    expect_name("/a%4", "a%4");
}

Test(unit_name, long_names_keep_their_end)
{
    char path[600] = "/";
    memset(path + 1, 'x', 500);
    strcpy(path + 501, ".tar.gz");
    char *got = name_from_path(path);
    cr_assert_eq(strlen(got), NAME_MAX_LEN);
    cr_assert_str_eq(got + NAME_MAX_LEN - 7, ".tar.gz");
    free(got);
}

Test(unit_name, long_names_do_not_start_mid_character)
{
    char path[800] = "/";
    for (int i = 0; i < 150; i++)
        strcat(path, "\xe2\x82\xac"); /* 3 bytes each: 450 */
    char *got = name_from_path(path);
    cr_assert_leq(strlen(got), NAME_MAX_LEN);
    cr_assert_eq((unsigned char)got[0], 0xe2);
    free(got);
}

Test(unit_name, unescape_counts_nul)
{
    size_t n;
    char *s = name_unescape("a%00b", 5, &n);
    cr_assert_eq(n, 3);
    cr_assert_eq(s[1], '\0');
    free(s);
}

static void expect_disp(const char *value, const char *want)
{
    char *got = name_from_disposition(value, strlen(value));
    if (!want) {
        cr_expect_null(got, "'%s' gave '%s'", value, got ? got : "");
    } else {
        cr_assert_not_null(got, "'%s' gave nothing", value);
        cr_expect_str_eq(got, want, "value '%s'", value);
    }
    free(got);
}

Test(unit_name, disposition_plain_and_quoted)
{
    expect_disp("attachment; filename=report.pdf", "report.pdf");
    expect_disp("attachment; filename=\"my report.pdf\"", "my report.pdf");
    expect_disp("attachment; FILENAME = \"a.txt\" ", "a.txt");
    expect_disp("inline; filename=\"q\\\"uote.txt\"", "q\"uote.txt");
    expect_disp("attachment; filename=\"semi;colon.txt\"; size=3",
                "semi;colon.txt");
}

Test(unit_name, disposition_extended_form_wins)
{
    expect_disp("attachment; filename=\"fallback.txt\"; "
                "filename*=UTF-8''%E2%82%AC%20rates.txt",
                "\xe2\x82\xac rates.txt");
    expect_disp("attachment; filename*=utf-8''a%2Fb.txt", "b.txt");
    /* An unknown charset falls back to the plain form. */
    expect_disp("attachment; filename*=EBCDIC''x; filename=y.bin", "y.bin");
}

Test(unit_name, disposition_never_escapes_the_directory)
{
    expect_disp("attachment; filename=\"../evil\"", "evil");
    expect_disp("attachment; filename=\"/etc/passwd\"", "passwd");
    expect_disp("attachment; filename=\"..\\\\..\\\\win.ini\"", "win.ini");
    expect_disp("attachment; filename*=UTF-8''..%2F..%2Fx", "x");
    expect_disp("attachment; filename=\"a%0Ab\"", "a%0Ab");
    expect_disp("attachment; filename*=UTF-8''a%0Ab", "a_b");
    expect_disp("attachment; filename=\"..\"", NULL);
    expect_disp("attachment; filename=\"dir/\"", NULL);
    expect_disp("attachment; filename=\"\"", NULL);
    expect_disp("attachment", NULL);
    expect_disp("", NULL);
    expect_disp("attachment; filename*=UTF-8''%00", NULL);
}
