// Image files for folder datasets: tell PNG from JPEG by signature, then hand over to the decoder.
#include <errno.h>
#include <string.h>

#include "data/internal.h"

void sr_data_put_row(const uint8_t *row, int src_c, int w, int h, int y, int dst_c, uint8_t *dst) {
  // row: (w, src_c) interleaved -> dst: (dst_c, h, w); gray (src_c 1) fills every output channel.
  size_t plane = (size_t)h * (size_t)w;
  for (int ch = 0; ch < dst_c; ch++) {
    uint8_t *out = dst + (size_t)ch * plane + (size_t)y * (size_t)w;
    int sc = src_c == 1 ? 0 : ch;
    for (int x = 0; x < w; x++) out[x] = row[(size_t)x * (size_t)src_c + (size_t)sc];
  }
}

static sr_status read_image(const char *path, const sr_data_img *want, uint8_t *dst, sr_data_img *info,
                            sr_err *err) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return sr_fail(err, SR_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  unsigned char sig[8];
  size_t got = fread(sig, 1, sizeof sig, fp);
  rewind(fp);
  sr_status st;
  static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (got == 8 && memcmp(sig, png_sig, 8) == 0)
    st = sr_data_png_read(fp, path, want, dst, info, err);
  else if (got >= 3 && sig[0] == 0xff && sig[1] == 0xd8 && sig[2] == 0xff)
    st = sr_data_jpeg_read(fp, path, want, dst, info, err);
  else if (ferror(fp))
    st = sr_fail(err, SR_ERR_IO, "%s: read error", path);
  else
    st = sr_fail(err, SR_ERR_FORMAT, "%s: neither a PNG nor a JPEG file (bad signature)", path);
  fclose(fp);
  return st;
}

sr_status sr_data_image_probe(const char *path, sr_data_img *info, sr_err *err) {
  return read_image(path, NULL, NULL, info, err);
}

sr_status sr_data_image_decode(const char *path, const sr_data_img *want, uint8_t *dst, sr_err *err) {
  sr_data_img info;
  return read_image(path, want, dst, &info, err);
}
