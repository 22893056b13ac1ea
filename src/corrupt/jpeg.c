// JPEG compression: encode at the severity's quality with libjpeg(-turbo) and decode, in memory.
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>

#include "internal.h"

static const int QUALITY[5] = {80, 65, 58, 50, 40};

// libjpeg's default error handler exit()s; ours jumps back so the failure becomes an sr_status.
typedef struct {
  struct jpeg_error_mgr mgr;
  jmp_buf jump;
  unsigned char *buf;  // the encoded image (malloc'd by libjpeg); here, not a local, so longjmp keeps it
  unsigned long size;
  char msg[JMSG_LENGTH_MAX];
} jerr_t;

static void on_error(j_common_ptr ci) {
  jerr_t *e = (jerr_t *)ci->err;
  ci->err->format_message(ci, e->msg);
  longjmp(e->jump, 1);
}
static void on_message(j_common_ptr ci) { (void)ci; }

// pix: (h, w, c) interleaved bytes, replaced by the decoded image.
static int roundtrip(uint8_t *pix, int c, int h, int w, int quality, jerr_t *je) {
  struct jpeg_compress_struct cc;
  struct jpeg_decompress_struct dc;
  volatile int made_c = 0, made_d = 0;
  cc.err = jpeg_std_error(&je->mgr);
  dc.err = &je->mgr;
  je->mgr.error_exit = on_error;
  je->mgr.output_message = on_message;
  if (setjmp(je->jump)) {
    if (made_c) jpeg_destroy_compress(&cc);
    if (made_d) jpeg_destroy_decompress(&dc);
    free(je->buf);
    je->buf = NULL;
    return -1;
  }
  je->buf = NULL;
  je->size = 0;
  jpeg_create_compress(&cc);
  made_c = 1;
  jpeg_mem_dest(&cc, &je->buf, &je->size);
  cc.image_width = (JDIMENSION)w;
  cc.image_height = (JDIMENSION)h;
  cc.input_components = c;
  cc.in_color_space = c == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(&cc);  // 4:2:0 chroma subsampling, baseline Huffman: what PIL's save uses
  jpeg_set_quality(&cc, quality, TRUE);
  jpeg_start_compress(&cc, TRUE);
  while (cc.next_scanline < cc.image_height) {
    JSAMPROW row = pix + (size_t)cc.next_scanline * (size_t)w * (size_t)c;
    jpeg_write_scanlines(&cc, &row, 1);
  }
  jpeg_finish_compress(&cc);
  jpeg_destroy_compress(&cc);
  made_c = 0;

  jpeg_create_decompress(&dc);
  made_d = 1;
  jpeg_mem_src(&dc, je->buf, je->size);
  jpeg_read_header(&dc, TRUE);
  dc.out_color_space = c == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_start_decompress(&dc);
  if ((int)dc.output_width != w || (int)dc.output_height != h || dc.output_components != c) {
    snprintf(je->msg, sizeof je->msg, "decoded image has a different shape");
    jpeg_destroy_decompress(&dc);
    free(je->buf);
    je->buf = NULL;
    return -1;
  }
  while (dc.output_scanline < dc.output_height) {
    JSAMPROW row = pix + (size_t)dc.output_scanline * (size_t)w * (size_t)c;
    jpeg_read_scanlines(&dc, &row, 1);
  }
  jpeg_finish_decompress(&dc);
  jpeg_destroy_decompress(&dc);
  free(je->buf);
  je->buf = NULL;
  return 0;
}

sr_status sr_cor_jpeg(sr_cws *ws, int severity, sr_rng *rng, sr_err *err) {
  (void)rng;
  int c = ws->c;
  size_t np = ws->plane;
  uint8_t *pix = ws->u8;  // (h, w, c)
  for (size_t i = 0; i < np; i++)
    for (int ch = 0; ch < c; ch++) pix[i * (size_t)c + (size_t)ch] = ws->in[(size_t)ch * np + i];
  jerr_t je;
  if (roundtrip(pix, c, ws->h, ws->w, QUALITY[severity - 1], &je))
    return sr_fail(err, SR_ERR_BACKEND, "jpeg_compression: libjpeg failed: %s", je.msg);
  for (size_t i = 0; i < np; i++)
    for (int ch = 0; ch < c; ch++)
      ws->y[(size_t)ch * np + i] = (float)pix[i * (size_t)c + (size_t)ch] * (1.f / 255.f);
  return SR_OK;
}
