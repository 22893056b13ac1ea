// PNG decoding with libpng; its errors longjmp back here and become SR_ERR_FORMAT (never exit()).
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "data/internal.h"

#define PNG_MAX_SIDE 16384

typedef struct png_ctx {
  char msg[200];
  uint8_t *pixels;  // decoded image, interleaved
  png_bytep *rows;  // row pointers into pixels
} png_ctx;

static void on_error(png_structp p, png_const_charp msg) {
  png_ctx *x = png_get_error_ptr(p);
  snprintf(x->msg, sizeof x->msg, "%s", msg);
  png_longjmp(p, 1);
}

static void on_warning(png_structp p, png_const_charp msg) {
  (void)p;
  (void)msg;  // ancillary-chunk problems do not affect the pixels
}

// Everything that may longjmp lives in this function; buffers hang off ctx so the caller frees them.
static sr_status decode(FILE *fp, const char *path, const sr_data_img *want, uint8_t *dst, sr_data_img *info,
                        png_ctx *ctx, sr_err *err) {
  png_structp p = png_create_read_struct(PNG_LIBPNG_VER_STRING, ctx, on_error, on_warning);
  if (!p) return sr_fail(err, SR_ERR_NOMEM, "%s: cannot create PNG reader", path);
  png_infop pi = png_create_info_struct(p);
  if (!pi) {
    png_destroy_read_struct(&p, NULL, NULL);
    return sr_fail(err, SR_ERR_NOMEM, "%s: cannot create PNG reader", path);
  }
  if (setjmp(png_jmpbuf(p))) {
    png_destroy_read_struct(&p, &pi, NULL);
    return sr_fail(err, SR_ERR_FORMAT, "%s: corrupt PNG: %s", path, ctx->msg);
  }
  png_init_io(p, fp);
  png_set_user_limits(p, PNG_MAX_SIDE, PNG_MAX_SIDE);
  png_read_info(p, pi);
  info->w = (int)png_get_image_width(p, pi);
  info->h = (int)png_get_image_height(p, pi);
  info->c = (png_get_color_type(p, pi) & PNG_COLOR_MASK_COLOR) ? 3 : 1;
  sr_status st = SR_OK;
  if (!dst) goto out;
  if (info->w != want->w || info->h != want->h || (info->c == 3 && want->c == 1)) {
    st = sr_fail(err, SR_ERR_FORMAT, "%s: image is %dx%dx%d, expected %dx%dx%d", path, info->h, info->w,
                 info->c, want->h, want->w, want->c);
    goto out;
  }
  png_set_expand(p);  // palette -> RGB, gray < 8 bit -> 8 bit, tRNS -> alpha
  png_set_strip_16(p);
  png_set_strip_alpha(p);
  png_set_interlace_handling(p);
  png_read_update_info(p, pi);
  size_t rowbytes = png_get_rowbytes(p, pi);
  int chans = png_get_channels(p, pi);
  if (chans != info->c || rowbytes != (size_t)info->w * (size_t)chans) {
    st = sr_fail(err, SR_ERR_FORMAT, "%s: unexpected PNG layout (%d channels)", path, chans);
    goto out;
  }
  ctx->pixels = malloc(rowbytes * (size_t)info->h);
  ctx->rows = malloc(sizeof(png_bytep) * (size_t)info->h);
  if (!ctx->pixels || !ctx->rows) {
    st = sr_fail(err, SR_ERR_NOMEM, "%s: cannot allocate the decoded image", path);
    goto out;
  }
  for (int y = 0; y < info->h; y++) ctx->rows[y] = ctx->pixels + (size_t)y * rowbytes;
  png_read_image(p, ctx->rows);
  png_read_end(p, NULL);
  for (int y = 0; y < info->h; y++) sr_data_put_row(ctx->rows[y], chans, info->w, info->h, y, want->c, dst);
out:
  png_destroy_read_struct(&p, &pi, NULL);
  return st;
}

sr_status sr_data_png_read(FILE *fp, const char *path, const sr_data_img *want, uint8_t *dst,
                           sr_data_img *info, sr_err *err) {
  png_ctx ctx;
  memset(&ctx, 0, sizeof ctx);
  sr_status st = decode(fp, path, want, dst, info, &ctx, err);
  free(ctx.pixels);
  free(ctx.rows);
  return st;
}
