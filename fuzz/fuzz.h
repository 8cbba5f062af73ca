/* fuzz/fuzz.h — the fuzz harnesses' entry points, shared by the libFuzzer / AFL++ targets
 * (fuzz/fuzz_*.c, built by mk/fuzz.mk) and tests/test_fuzz_regress.c, which replays the committed
 * seed corpus and every regression input through exactly the same code.
 *
 * Each entry point feeds one input to a parser, checks invariants of whatever it returns and aborts
 * (a crash the fuzzer reports) when one is violated.  Return value: 1 when the input was accepted
 * (decoded / opened), 0 when it was refused with a reason. */
#ifndef FUZZ_FUZZ_H
#define FUZZ_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Pixel limit the image harness passes: the fuzzer should not spend its time decoding huge images. */
#define SBF_FUZZ_MAX_PIXELS 4000000LL

/* Image loader incl. EXIF: sbf_image_load_memory (sniffed formats) or sbf_image_load on a temp file
 * named *.tga (everything else), sbf_exif_orientation, sbf_sniff_image. */
int sbf_fuzz_image(const uint8_t *data, size_t size);
/* Weight loader: nnw_open_memory on a 64-byte aligned copy, walking every tensor and metadata entry;
 * then again with every checksum recomputed so the checks behind the CRCs get fuzzed too. */
int sbf_fuzz_weights(const uint8_t *data, size_t size);
/* Embeddings database reader: sbf_store_open read-only and read/write on a temp file, the face set,
 * the people record (decoded, re-encoded byte for byte, its faces matched), lookups, forget + compaction +
 * reopen; raw and with checksums recomputed. */
int sbf_fuzz_store(const uint8_t *data, size_t size);

/* A private temp folder for this process (TMPDIR, else /dev/shm, else /tmp), removed at exit. */
const char *sbf_fuzz_tmpdir(void);
/* Writes data to <tmpdir>/<name> (replacing it); returns the full path (static buffer) or NULL. */
const char *sbf_fuzz_write_tmp(const char *name, const uint8_t *data, size_t size);

#define FUZZ_CHECK(c)                                                                                                  \
    do {                                                                                                               \
        if (!(c)) {                                                                                                    \
            fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__);                            \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

#endif
