/* The run-time detection: the levels nest (i8mm => dotprod => neon), and when
 * run.sh names the features of the emulated CPU (BNK_EXPECT, e.g.
 * "neon,dotprod"), each check answers exactly that. */
#include "bitnet_kernels.h"
#include "check.h"

static int expected(const char *list, const char *feature) {
    size_t n = strlen(feature);
    for (const char *p = list; (p = strstr(p, feature)) != NULL; p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0')) return 1;
    return 0;
}

int main(void) {
    char note[256];
    const int neon = bnk_cpu_has_neon(), dotprod = bnk_cpu_has_neon_dotprod(), i8mm = bnk_cpu_has_neon_i8mm();
    printf("detected: neon %d, dotprod %d, i8mm %d\n", neon, dotprod, i8mm);
    check_case("detected levels nest", (i8mm && !dotprod) || (dotprod && !neon) ? "a level without the one below it" : NULL);
    check_case("x86 checks are 0 on AArch64", bnk_cpu_has_avx2() || bnk_cpu_has_avx512vnni() ? "an x86 check said yes" : NULL);
    const char *expect = getenv("BNK_EXPECT");
    if (expect != NULL) {
        const char *bad = NULL;
        if (neon != expected(expect, "neon") || dotprod != expected(expect, "dotprod") || i8mm != expected(expect, "i8mm"))
            bad = check_note(note, sizeof note, "expected \"%s\"", expect);
        check_case("detection matches the emulated CPU", bad);
    }
    return check_summary();
}
