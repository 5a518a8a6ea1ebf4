/* SPDX-License-Identifier: MIT */
/* Unit tests for sums.c: finding an output's entry in checksum lists as
 * Debian, Ubuntu and Fedora mirrors publish them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sums.h"

#define H32 "900150983cd24fb0d6963f7d28e17f72"
#define H40 "a9993e364706816aba3e25717850c26c9cd0d89d"
#define H64 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static const char *find(const char *text, const char *name)
{
    static char spec[200];
    sums *s;
    sg_err e = {0};
    cr_assert_eq(sums_parse(text, strlen(text), &s, &e), SG_OK);
    int found = sums_find(s, name, spec, sizeof spec);
    sums_free(s);
    return found ? spec : NULL;
}

Test(unit_sums, gnu_lines_text_and_binary)
{
    const char *t = H64 "  ubuntu.iso\n" H64 " *other.iso\n";
    cr_expect_str_eq(find(t, "ubuntu.iso"), "sha256=" H64);
    cr_expect_str_eq(find(t, "other.iso"), "sha256=" H64);
    cr_expect_null(find(t, "missing.iso"));
    cr_expect_null(find(t, "ubuntu"), "a prefix is not a name");
}

Test(unit_sums, gnu_algorithm_by_length)
{
    char t[600];
    snprintf(t, sizeof t, "%s  a\n%s  b\n%s  c\n%s%s  d\n", H32, H40, H64,
             H64, H64);
    cr_expect_str_eq(find(t, "a"), "md5=" H32);
    cr_expect_str_eq(find(t, "b"), "sha1=" H40);
    cr_expect_str_eq(find(t, "c"), "sha256=" H64);
    cr_expect_str_eq(find(t, "d"), "sha512=" H64 H64);
    cr_expect_null(find("abcdef  e\n", "e"), "no algorithm is 6 digits");
}

Test(unit_sums, bsd_tagged_lines_and_a_pgp_wrapper)
{
    /* Fedora's CHECKSUM file. */
    const char *t = "-----BEGIN PGP SIGNED MESSAGE-----\n"
                    "Hash: SHA256\n"
                    "\n"
                    "# Fedora-Workstation-Live-x86_64-41-1.4.iso: 2398523392 bytes\n"
                    "SHA256 (Fedora-Workstation-Live-x86_64-41-1.4.iso) = " H64
                    "\n"
                    "MD5 (small (1).txt) = " H32 "\n"
                    "-----BEGIN PGP SIGNATURE-----\n"
                    "iQIzBAEBCAAdFiEE\n"
                    "-----END PGP SIGNATURE-----\n";
    cr_expect_str_eq(find(t, "Fedora-Workstation-Live-x86_64-41-1.4.iso"),
                     "sha256=" H64);
    cr_expect_str_eq(find(t, "small (1).txt"), "md5=" H32);
    cr_expect_null(find(t, "Hash:"));
}

Test(unit_sums, names_by_path_or_last_component_and_dot_slash)
{
    const char *t = H64 "  ./dir/file.bin\n" H32 "  other/x.bin\r\n";
    cr_expect_str_eq(find(t, "dir/file.bin"), "sha256=" H64);
    cr_expect_null(find(t, "sub/file.bin"));
    cr_expect_null(find(t, "x.bin"),
                   "an entry with a directory matches that path only");
    cr_expect_str_eq(find(t, "other/x.bin"), "md5=" H32, "CRLF lines");
    const char *u = H64 "  file.bin\n";
    cr_expect_str_eq(find(u, "sub/file.bin"), "sha256=" H64,
                     "a bare name matches the output's last component");
}

Test(unit_sums, escaped_names_and_the_first_match)
{
    const char *t = "\\" H64 "  a\\nb\\\\c\n" H32 "  dup\n" H40 "  dup\n";
    cr_expect_str_eq(find(t, "a\nb\\c"), "sha256=" H64);
    cr_expect_str_eq(find(t, "dup"), "md5=" H32);
}

Test(unit_sums, garbage_is_skipped_not_fatal)
{
    const char *t = "\n\n   \n" H64 "\n" H64 " x\n" H64 "\tx\n"
                    "SHA256 (x) " H64 "\n(x) = " H64 "\n" H64 "  x";
    cr_expect_str_eq(find(t, "x"), "sha256=" H64,
                     "only the last, well-formed line (without its newline)");
    cr_expect_null(find("", "x"));
}

Test(unit_sums, load_reads_a_file_and_says_why_not)
{
    char path[] = "/tmp/sg-sums-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, H64 "  f\n", 68), 68);
    close(fd);
    sums *s = NULL;
    sg_err e = {0};
    char spec[200];
    cr_assert_eq(sums_load(path, &s, &e), SG_OK);
    cr_expect(sums_find(s, "f", spec, sizeof spec));
    cr_expect_str_eq(spec, "sha256=" H64);
    sums_free(s);
    unlink(path);
    cr_expect_eq(sums_load(path, &s, &e), SG_EUSAGE);
    cr_expect(strstr(err_msg(&e), path), "%s", err_msg(&e));
    cr_expect_null(s);
    err_reset(&e);
}

Test(unit_sums, the_first_line_wins_between_a_path_and_its_last_component)
{
    /* In the list's order, whichever of the two forms comes first. */
    const char *t = H32 "  sub/f\n" H64 "  f\n";
    cr_expect_str_eq(find(t, "sub/f"), "md5=" H32);
    const char *u = H64 "  f\n" H32 "  sub/f\n";
    cr_expect_str_eq(find(u, "sub/f"), "sha256=" H64);
    cr_expect_str_eq(find(u, "f"), "sha256=" H64);
    cr_expect_str_eq(find(u, "other/f"), "sha256=" H64);
    const char *v = H32 "  ./sub/f\n" H64 "  sub/f\n" H40 "  f\n";
    cr_expect_str_eq(find(v, "sub/f"), "md5=" H32, "./ is ignored");
}

/* Every one of many entries is found with its own digest, from either
 * end of the list; names that are not there are not. */
Test(unit_sums, a_list_of_many_entries)
{
    enum { N = 200000 };
    size_t cap = (size_t)N * 100, len = 0;
    char *t = malloc(cap);
    cr_assert_not_null(t);
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(t + len, cap - len, "%064x  d%d/f%d.bin\n",
                                i, i % 7, i);
    sums *s;
    sg_err e = {0};
    cr_assert_eq(sums_parse(t, len, &s, &e), SG_OK);
    char spec[200], want[200], name[64];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "d%d/f%d.bin", i % 7, i);
        snprintf(want, sizeof want, "sha256=%064x", i);
        cr_assert(sums_find(s, name, spec, sizeof spec), "%s", name);
        cr_assert_str_eq(spec, want);
    }
    snprintf(name, sizeof name, "d1/f%d.bin", N);
    cr_expect_not(sums_find(s, name, spec, sizeof spec));
    cr_expect_not(sums_find(s, "d1/f0.bin", spec, sizeof spec),
                  "f0.bin is listed under d0/ only");
    sums_free(s);
    free(t);
}
