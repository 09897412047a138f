/* replay_main.c - the main() that turns a libFuzzer target into an ordinary test program.
 *
 * In normal builds (gcc, also the ASan+UBSan build) every tests/fuzz/fuzz_<name>.c is linked
 * with this file into fuzz_<name>, and ctest runs it as fuzz_replay_<name> over the target's
 * seed corpus and crash regressions (tests/fuzz/corpus/<name>, tests/fuzz/regress/<name>), so
 * every input that ever mattered is replayed on every build without clang or libFuzzer.
 *
 * Usage: fuzz_<name> PATH...  Each PATH is a file (run as one input) or a directory (each
 * regular file in it, in name order, not recursive; names starting with '.' are skipped). A
 * PATH that does not exist is skipped with a note, so a target without regressions yet needs
 * no empty directory. Like libFuzzer, the empty input is run first. LLVMFuzzerInitialize runs
 * once before any input when the target defines it. Each input is passed in a heap block of
 * exactly its size, so the sanitizers see any read past its end. Exit status 0 when every input
 * returned; a crash, a sanitizer report or a leak ends the process as it would under libFuzzer.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Weak: resolves to NULL when the target does not define it. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Runs the N bytes of a copy in a block of exactly N bytes (1 byte for the empty input, which
 * the target must not read). */
static void replay_run(const uint8_t *data, size_t n)
{
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy) {
        fprintf(stderr, "replay: out of memory\n");
        exit(2);
    }
    if (n) memcpy(copy, data, n);
    LLVMFuzzerTestOneInput(copy, n);
    free(copy);
}

/* Reads PATH whole and runs it; returns 0, or 1 when it could not be read. */
static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return 1;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                fclose(f);
                fprintf(stderr, "replay: out of memory\n");
                exit(2);
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        fprintf(stderr, "replay: %s: read error\n", path);
        return 1;
    }
    replay_run(buf, len);
    free(buf);
    return 0;
}

static int replay_skip_dot(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

/* Runs every regular file of directory PATH; adds to *COUNT; returns the number of errors. */
static int replay_dir(const char *path, long *count)
{
    struct dirent **names;
    int n = scandir(path, &names, replay_skip_dot, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return 1;
    }
    int errors = 0;
    for (int i = 0; i < n; i++) {
        size_t need = strlen(path) + strlen(names[i]->d_name) + 2;
        char *full = malloc(need);
        if (!full) {
            fprintf(stderr, "replay: out of memory\n");
            exit(2);
        }
        snprintf(full, need, "%s/%s", path, names[i]->d_name);
        struct stat st;
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
            errors += replay_file(full);
            (*count)++;
        }
        free(full);
        free(names[i]);
    }
    free(names);
    return errors;
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
    replay_run(NULL, 0);
    long count = 1;
    int errors = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: not there, skipped\n", argv[i]);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            errors += replay_dir(argv[i], &count);
        } else {
            errors += replay_file(argv[i]);
            count++;
        }
    }
    fprintf(stderr, "replay: %ld inputs run, %d unreadable\n", count, errors);
    return errors ? 1 : 0;
}
