// JPEG decoding with libjpeg-turbo. The error manager longjmps back here instead of exit()ing, and
// corrupt-data warnings (truncated file, bad Huffman code) are errors too: a half-gray image is not data.
#include <setjmp.h>
#include <stdio.h>  // jpeglib.h needs FILE and size_t first
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "data/internal.h"

typedef struct jpeg_ctx {
  struct jpeg_error_mgr mgr;  // first, so the library's err pointer is also a ctx pointer
  jmp_buf jump;
  char msg[JMSG_LENGTH_MAX];
  uint8_t *row;
} jpeg_ctx;

static void on_error(j_common_ptr ci) {
  jpeg_ctx *x = (jpeg_ctx *)ci->err;
  x->mgr.format_message(ci, x->msg);
  longjmp(x->jump, 1);
}

static void on_message(j_common_ptr ci, int level) {
  if (level < 0) on_error(ci);  // level -1: a warning about corrupt data
}

static sr_status decode(FILE *fp, const char *path, const sr_data_img *want, uint8_t *dst, sr_data_img *info,
                        jpeg_ctx *ctx, sr_err *err) {
  struct jpeg_decompress_struct ci;
  ci.err = jpeg_std_error(&ctx->mgr);
  ctx->mgr.error_exit = on_error;
  ctx->mgr.emit_message = on_message;
  if (setjmp(ctx->jump)) {
    jpeg_destroy_decompress(&ci);
    return sr_fail(err, SR_ERR_FORMAT, "%s: corrupt JPEG: %s", path, ctx->msg);
  }
  jpeg_create_decompress(&ci);
  jpeg_stdio_src(&ci, fp);
  jpeg_read_header(&ci, TRUE);
  sr_status st = SR_OK;
  if (ci.jpeg_color_space == JCS_CMYK || ci.jpeg_color_space == JCS_YCCK) {
    st = sr_fail(err, SR_ERR_FORMAT, "%s: CMYK JPEG is not supported (need gray or RGB)", path);
    goto out;
  }
  info->w = (int)ci.image_width;
  info->h = (int)ci.image_height;
  info->c = ci.num_components == 1 ? 1 : 3;
  if (!dst) goto out;
  if (info->w != want->w || info->h != want->h || (info->c == 3 && want->c == 1)) {
    st = sr_fail(err, SR_ERR_FORMAT, "%s: image is %dx%dx%d, expected %dx%dx%d", path, info->h, info->w,
                 info->c, want->h, want->w, want->c);
    goto out;
  }
  ci.out_color_space = info->c == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&ci);
  if (ci.output_components != info->c) {
    st =
        sr_fail(err, SR_ERR_FORMAT, "%s: unexpected JPEG output (%d components)", path, ci.output_components);
    goto out;
  }
  ctx->row = malloc((size_t)info->w * (size_t)info->c);
  if (!ctx->row) {
    st = sr_fail(err, SR_ERR_NOMEM, "%s: cannot allocate a row", path);
    goto out;
  }
  while (ci.output_scanline < ci.output_height) {
    JSAMPROW r = ctx->row;
    int y = (int)ci.output_scanline;
    if (jpeg_read_scanlines(&ci, &r, 1) != 1) {
      st = sr_fail(err, SR_ERR_FORMAT, "%s: corrupt JPEG: no data for row %d", path, y);
      goto out;
    }
    sr_data_put_row(ctx->row, info->c, info->w, info->h, y, want->c, dst);
  }
  jpeg_finish_decompress(&ci);
out:
  jpeg_destroy_decompress(&ci);
  return st;
}

sr_status sr_data_jpeg_read(FILE *fp, const char *path, const sr_data_img *want, uint8_t *dst,
                            sr_data_img *info, sr_err *err) {
  jpeg_ctx ctx;
  memset(&ctx, 0, sizeof ctx);
  sr_status st = decode(fp, path, want, dst, info, &ctx, err);
  free(ctx.row);
  return st;
}
