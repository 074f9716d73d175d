// libjpeg and libpng report errors by longjmp, which Swift cannot catch: these wrappers keep every jump in C
// and hand Swift a status and a message.
#include "ImageCodecs.h"
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

void ptq_image_free(ptq_image *image) {
    free(image->pixels);
    image->pixels = NULL;
}

// PIL refuses images over twice its MAX_IMAGE_PIXELS (DecompressionBombError); a small file declaring a huge image
// must not take gigabytes either.
#define PTQ_MAX_PIXELS 178956970LL

static int too_large(int width, int height, char *message) {
    if ((long long)width * (long long)height <= PTQ_MAX_PIXELS) return 0;
    snprintf(message, 200, "is %dx%d = %lld pixels, over the limit of %lld (PIL's decompression-bomb limit)", width,
             height, (long long)width * (long long)height, PTQ_MAX_PIXELS);
    return 1;
}

// ---- JPEG ----

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char *message;
} jpeg_failure;

static void jpeg_fail(j_common_ptr info) {
    jpeg_failure *failure = (jpeg_failure *)info->err;
    char text[JMSG_LENGTH_MAX];
    (*info->err->format_message)(info, text);
    snprintf(failure->message, 200, "%s", text);
    longjmp(failure->jump, 1);
}

// A file that ends early is an error, as PIL raises "image file is truncated" by default (a half-grey image must
// not pass silently into calibration); other warnings (extraneous bytes before a marker) are ignored, as PIL does.
static void jpeg_warn(j_common_ptr info, int level) {
    if (level < 0 && info->err->msg_code == JWRN_JPEG_EOF) jpeg_fail(info);
}

// PIL's cmyk2rgb on Adobe-inverted samples: nk = 255 - k; channel = nk - nk * c / 255 (rounded as MULDIV255).
static unsigned char muldiv255(int a, int b) {
    int t = a * b + 128;
    return (unsigned char)(((t >> 8) + t) >> 8);
}

int ptq_decode_jpeg(const unsigned char *data, size_t size, ptq_image *image) {
    struct jpeg_decompress_struct info;
    jpeg_failure failure;
    unsigned char *volatile row = NULL;
    image->pixels = NULL;
    image->message[0] = 0;
    info.err = jpeg_std_error(&failure.base);
    failure.base.error_exit = jpeg_fail;
    failure.base.emit_message = jpeg_warn;
    failure.message = image->message;
    if (setjmp(failure.jump)) {
        jpeg_destroy_decompress(&info);
        free(row);
        ptq_image_free(image);
        return 1;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, data, (unsigned long)size);
    jpeg_read_header(&info, TRUE);
    if (too_large((int)info.image_width, (int)info.image_height, image->message)) longjmp(failure.jump, 1);
    int cmyk = info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK;
    if (cmyk) info.out_color_space = JCS_CMYK;
    else if (info.jpeg_color_space == JCS_GRAYSCALE) info.out_color_space = JCS_GRAYSCALE;
    else info.out_color_space = JCS_RGB;
    jpeg_start_decompress(&info);
    int width = (int)info.output_width, height = (int)info.output_height, components = info.output_components;
    image->pixels = malloc((size_t)width * (size_t)height * 3);
    row = malloc((size_t)width * (size_t)components);
    if (!image->pixels || !row) {
        snprintf(image->message, 200, "out of memory for a %dx%d image", width, height);
        longjmp(failure.jump, 1);
    }
    while (info.output_scanline < info.output_height) {
        unsigned char *out = image->pixels + (size_t)info.output_scanline * (size_t)width * 3;
        if (components == 3) {  // RGB: straight into the image
            JSAMPROW rows[1] = {out};
            jpeg_read_scanlines(&info, rows, 1);
            continue;
        }
        JSAMPROW rows[1] = {row};
        jpeg_read_scanlines(&info, rows, 1);
        for (int x = 0; x < width; x++) {
            if (components == 1) {
                out[3 * x] = out[3 * x + 1] = out[3 * x + 2] = row[x];
            } else {
                // Adobe writes CMYK inverted; PIL reads it as "CMYK;I" and converts.
                int nk = row[4 * x + 3];  // 255 - k after inversion
                for (int c = 0; c < 3; c++) out[3 * x + c] = (unsigned char)(nk - muldiv255(255 - row[4 * x + c], nk));
            }
        }
    }
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
    free(row);
    image->width = width;
    image->height = height;
    return 0;
}

// ---- PNG ----

typedef struct {
    const unsigned char *data;
    size_t size, offset;
} png_source;

static void png_read_memory(png_structp png, png_bytep out, png_size_t count) {
    png_source *source = (png_source *)png_get_io_ptr(png);
    if (count > source->size - source->offset) png_error(png, "the file ends early (truncated)");
    memcpy(out, source->data + source->offset, count);
    source->offset += count;
}

static void png_fail(png_structp png, png_const_charp text) {
    snprintf((char *)png_get_error_ptr(png), 200, "%s", text);
    png_longjmp(png, 1);
}

static void png_ignore_warning(png_structp png, png_const_charp text) { (void)png; (void)text; }

int ptq_decode_png(const unsigned char *data, size_t size, ptq_image *image) {
    image->pixels = NULL;
    image->message[0] = 0;
    if (size < 8 || png_sig_cmp(data, 0, 8)) {
        snprintf(image->message, 200, "not a PNG signature");
        return 1;
    }
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, image->message, png_fail, png_ignore_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    png_bytep *volatile rows = NULL;
    if (!png || !info) {
        snprintf(image->message, 200, "libpng could not start");
        png_destroy_read_struct(&png, &info, NULL);
        return 1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(rows);
        ptq_image_free(image);
        return 1;
    }
    png_source source = {data, size, 0};
    png_set_read_fn(png, &source, png_read_memory);
    // A bad checksum is an error in any chunk, critical or not, as PIL refuses a "broken PNG file".
    png_set_crc_action(png, PNG_CRC_DEFAULT, PNG_CRC_ERROR_QUIT);
    png_read_info(png, info);
    if (too_large((int)png_get_image_width(png, info), (int)png_get_image_height(png, info), image->message)) png_longjmp(png, 1);
    int type = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
    // PIL opens 16-bit greyscale as "I;16" and convert("RGB") clips each value at 255 (it does not scale); every
    // other 16-bit image keeps its high byte.
    int grey16 = type == PNG_COLOR_TYPE_GRAY && depth == 16;
    if (depth == 16 && !grey16) png_set_strip_16(png);
    if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if ((type == PNG_COLOR_TYPE_GRAY || type == PNG_COLOR_TYPE_GRAY_ALPHA) && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if ((type == PNG_COLOR_TYPE_GRAY && !grey16) || type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int width = (int)png_get_image_width(png, info), height = (int)png_get_image_height(png, info);
    if (png_get_rowbytes(png, info) != (size_t)width * (grey16 ? 2 : 3)) {
        snprintf(image->message, 200, "unexpected row layout after conversion to RGB");
        png_longjmp(png, 1);
    }
    image->pixels = malloc((size_t)width * (size_t)height * 3);
    rows = malloc(sizeof(png_bytep) * (size_t)(height > 0 ? height : 1));
    if (!image->pixels || !rows) {
        snprintf(image->message, 200, "out of memory for a %dx%d image", width, height);
        png_longjmp(png, 1);
    }
    // 16-bit greyscale rows (2 bytes a pixel) are read into the first two thirds of their RGB rows, then spread
    // from the right so no byte is overwritten before it is read.
    for (int y = 0; y < height; y++) rows[y] = image->pixels + (size_t)y * (size_t)width * 3;
    png_read_image(png, rows);  // no png_read_end: PIL accepts a file that stops after its image data
    if (grey16) {
        for (int y = 0; y < height; y++) {
            unsigned char *row = rows[y];
            for (int x = width - 1; x >= 0; x--) {
                int value = (row[2 * x] << 8) | row[2 * x + 1];
                unsigned char clipped = (unsigned char)(value > 255 ? 255 : value);
                row[3 * x] = row[3 * x + 1] = row[3 * x + 2] = clipped;
            }
        }
    }
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    image->width = width;
    image->height = height;
    return 0;
}
