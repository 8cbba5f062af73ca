/* nn/weights.h — owns the SBFW weight file (weights/FORMAT.md): validated mmap loading, lookup by
 * name, key/value metadata, and writing (for tools).  Every model of the project uses this format. */
#ifndef NN_WEIGHTS_H
#define NN_WEIGHTS_H
#include <stddef.h>
#include <stdint.h>

typedef enum { NNW_F32 = 0, NNW_F16 = 1, NNW_I8 = 2, NNW_U8 = 3, NNW_I32 = 4 } nnw_dtype;
#define NNW_MAX_DIMS 4

typedef struct {
    const char *name;
    nnw_dtype dtype;
    int ndim;
    uint32_t shape[NNW_MAX_DIMS]; /* unused dims are 1 */
    float scale;                  /* NNW_I8: real value = scale * q; 1 otherwise */
    uint64_t count;               /* number of elements */
    uint64_t size;                /* bytes */
    const void *data;             /* 64-byte aligned, inside the mapping */
} nnw_tensor;

typedef struct nnw_file nnw_file;

/* Opens and fully validates a weight file (magic, version, bounds, alignment, per-tensor CRC32).
 * Returns NULL and writes a one-line reason to err on failure. */
nnw_file *nnw_open(const char *path, char *err, size_t errlen);
/* Same for an in-memory image (e.g. a model embedded in the binary); buf must outlive the handle
 * and be 64-byte aligned. */
nnw_file *nnw_open_memory(const void *buf, size_t len, char *err, size_t errlen);
/* Same, taking buf over (malloc'ed, 64-byte aligned, e.g. from nnw_writer_serialize): nnw_close frees it, and
 * so does a failed open. */
nnw_file *nnw_open_memory_owned(void *buf, size_t len, char *err, size_t errlen);
void nnw_close(nnw_file *f);

int nnw_count(const nnw_file *f);
const nnw_tensor *nnw_at(const nnw_file *f, int i);
const nnw_tensor *nnw_find(const nnw_file *f, const char *name);
/* Finds a tensor and checks dtype and shape (shape entries of 0 mean "any"); NULL + reason otherwise. */
const nnw_tensor *nnw_expect(const nnw_file *f, const char *name, nnw_dtype dtype, int ndim, const uint32_t *shape,
                             char *err, size_t errlen);
const char *nnw_meta(const nnw_file *f, const char *key); /* NULL when absent */
int nnw_meta_count(const nnw_file *f);
void nnw_meta_at(const nnw_file *f, int i, const char **key, const char **value);
const char *nnw_dtype_name(nnw_dtype t);
size_t nnw_dtype_size(nnw_dtype t);

/* Writer: collects tensors (copies data) and metadata, then saves atomically (temp file + rename). */
typedef struct nnw_writer nnw_writer;
nnw_writer *nnw_writer_new(void);
int nnw_writer_meta(nnw_writer *w, const char *key, const char *value);
int nnw_writer_add(nnw_writer *w, const char *name, nnw_dtype dtype, int ndim, const uint32_t *shape, float scale,
                   const void *data);
int nnw_writer_save(nnw_writer *w, const char *path, char *err, size_t errlen);
/* Serialises to a malloc'ed, 64-byte aligned buffer (free() it); returns NULL on failure. */
void *nnw_writer_serialize(nnw_writer *w, size_t *len);
void nnw_writer_free(nnw_writer *w);

/* CRC-32 (IEEE 802.3, as zlib's crc32) on the fastest code this CPU has (x86-64 PCLMULQDQ, ARMv8 CRC32
 * instructions, else slicing-by-8: nnw_crc32_impl names it); nnw_crc32_portable is the slicing-by-8 code
 * alone (tests compare the two). */
uint32_t nnw_crc32(uint32_t crc, const void *data, size_t len);
uint32_t nnw_crc32_portable(uint32_t crc, const void *data, size_t len);
const char *nnw_crc32_impl(void);

#endif
