#ifndef PTQ_IMAGE_CODECS_H
#define PTQ_IMAGE_CODECS_H
#include <stddef.h>

/// A decoded image: 8-bit RGB, rows top to bottom, `width * 3` bytes each, in `pixels` (malloc'ed; free with
/// ptq_image_free). `message` holds the decoder's complaint when decoding fails.
typedef struct {
    unsigned char *pixels;
    int width;
    int height;
    char message[200];
} ptq_image;

/// Decodes a JPEG from memory to RGB as PIL's `Image.open(f).convert("RGB")` does: libjpeg's defaults (islow DCT,
/// fancy upsampling), greyscale replicated, CMYK/YCCK read as Adobe-inverted CMYK and converted with PIL's formula.
/// Returns 0 on success.
int ptq_decode_jpeg(const unsigned char *data, size_t size, ptq_image *image);

/// Decodes a PNG from memory to RGB as PIL's convert("RGB") does: 16-bit samples keep their high byte (16-bit
/// greyscale: each value clipped at 255, as PIL's "I;16" mode converts), palettes
/// expand, greyscale replicates, alpha is dropped (not composited), gamma chunks are ignored. Returns 0 on success.
int ptq_decode_png(const unsigned char *data, size_t size, ptq_image *image);

void ptq_image_free(ptq_image *image);

#endif
