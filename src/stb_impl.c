/* src/stb_impl.c — compiles the stb_image / stb_image_write implementations from Debian's libstb-dev
 * headers (/usr/include/stb), restricted to the formats we decode with it (JPEG goes to libjpeg-turbo, WebP to libwebp:
 * src/decoders.h).  Third-party code: warnings off. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
/* Allocation cap for stb_image, set per decode by src/image.c from the header's size: stb grows its
 * zlib output without bound, so a small PNG whose IDAT inflates far past the declared image (a deflate
 * bomb) could take gigabytes; over the cap stb's malloc/realloc fail and it reports "outofmem". */
#include <stddef.h>
#include <stdlib.h>
_Thread_local size_t sbf_stbi_alloc_limit; /* 0: no cap */
/* calloc: stb 2.27 leaves parts of its buffers unwritten on corrupt input (a JPEG scan that stops
 * early, truncated PNM/TGA data, the JPEG state itself); zeroed memory makes such pixels black and
 * the same on every run instead of heap garbage (MemorySanitizer fuzzing, fuzz/fuzz_image.c). */
static void *sbf_stbi_malloc(size_t n) {
    return sbf_stbi_alloc_limit && n > sbf_stbi_alloc_limit ? NULL : calloc(1, n ? n : 1);
}
static void *sbf_stbi_realloc(void *p, size_t n) {
    return sbf_stbi_alloc_limit && n > sbf_stbi_alloc_limit ? NULL : realloc(p, n);
}
#define STBI_MALLOC(n) sbf_stbi_malloc(n)
#define STBI_REALLOC(p, n) sbf_stbi_realloc(p, n)
#define STBI_FREE(p) free(p)

#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#define STBI_ONLY_PNM
#define STBI_ONLY_TGA
#define STBI_NO_STDIO
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop
