// Image-folder loader: PNG/JPEG files written here with libpng/libjpeg, read back exactly (PNG) or within
// JPEG's loss (JPEG); class/file ordering, split directories, and corrupt or inconsistent images.
#include "data/data_fixtures.h"

#include <jpeglib.h>
#include <png.h>

#include "simreg/data.h"
#include "sr_test.h"

enum { H = 6, W = 5 };

// Image `id` as (c, H, W): smooth so that JPEG keeps it close.
static uint8_t smooth(int id, int ch, int y, int x) {
  return (uint8_t)(20 + id * 9 + ch * 50 + y * 6 + x * 5);
}

// PNG of image id with color type ct (GRAY, RGB, RGB_ALPHA, PALETTE) and bit depth 8 or 16 (gray only).
static void write_png(const char *path, int id, int ct, int depth, int w, int h) {
  FILE *fp = fopen(path, "wb");
  png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(p);
  if (setjmp(png_jmpbuf(p))) {
    CHECK(0, "libpng failed writing %s", path);
    png_destroy_write_struct(&p, &info);
    fclose(fp);
    return;
  }
  png_init_io(p, fp);
  png_set_IHDR(p, info, (png_uint_32)w, (png_uint_32)h, depth, ct, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_color pal[256];
  if (ct == PNG_COLOR_TYPE_PALETTE) {  // palette entry v = the RGB triple of gray level... (v, 255-v, v/2)
    for (int v = 0; v < 256; v++) pal[v] = (png_color){(png_byte)v, (png_byte)(255 - v), (png_byte)(v / 2)};
    png_set_PLTE(p, info, pal, 256);
  }
  png_write_info(p, info);
  int chans = ct == PNG_COLOR_TYPE_RGB ? 3 : ct == PNG_COLOR_TYPE_RGB_ALPHA ? 4 : 1;
  unsigned char row[4 * 2 * 64];
  for (int y = 0; y < h; y++) {
    for (int x = 0; x < w; x++)
      for (int k = 0; k < chans; k++) {
        uint8_t v = k == 3 ? (uint8_t)(x * 40) : smooth(id, k, y, x);
        if (depth == 16) {
          row[2 * x] = v;
          row[2 * x + 1] = (uint8_t)(255 - v);  // low byte: dropped by strip_16
        } else {
          row[x * chans + k] = v;
        }
      }
    png_write_row(p, row);
  }
  png_write_end(p, NULL);
  png_destroy_write_struct(&p, &info);
  fclose(fp);
}

static void write_jpeg(const char *path, int id, int comps, int w, int h) {
  FILE *fp = fopen(path, "wb");
  struct jpeg_compress_struct ci;
  struct jpeg_error_mgr jerr;
  ci.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&ci);
  jpeg_stdio_dest(&ci, fp);
  ci.image_width = (JDIMENSION)w;
  ci.image_height = (JDIMENSION)h;
  ci.input_components = comps;
  ci.in_color_space = comps == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&ci);
  jpeg_set_quality(&ci, 100, TRUE);
  jpeg_start_compress(&ci, TRUE);
  unsigned char row[3 * 64];
  while (ci.next_scanline < ci.image_height) {
    int y = (int)ci.next_scanline;
    for (int x = 0; x < w; x++)
      for (int k = 0; k < comps; k++) row[x * comps + k] = smooth(id, k, y, x);
    JSAMPROW r = row;
    jpeg_write_scanlines(&ci, &r, 1);
  }
  jpeg_finish_compress(&ci);
  jpeg_destroy_compress(&ci);
  fclose(fp);
}

static const char *mk(char *buf, size_t size, const char *root, const char *rel) {
  snprintf(buf, size, "%s/%s", root, rel);
  return buf;
}

static const uint8_t *img(const sr_dataset *ds, int64_t i) {
  return ds->images + (size_t)i * (size_t)ds->c * H * W;
}

// Exact comparison with smooth(id) in every channel (gray sources replicated when ds->c == 3).
static int same_as(const sr_dataset *ds, int64_t i, int id, int src_gray) {
  for (int ch = 0; ch < ds->c; ch++)
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++)
        if (img(ds, i)[(ch * H + y) * W + x] != smooth(id, src_gray ? 0 : ch, y, x)) return 0;
  return 1;
}

static int max_diff(const sr_dataset *ds, int64_t i, int id, int src_gray) {
  int m = 0;
  for (int ch = 0; ch < ds->c; ch++)
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        int d = abs(img(ds, i)[(ch * H + y) * W + x] - smooth(id, src_gray ? 0 : ch, y, x));
        if (d > m) m = d;
      }
  return m;
}

static void test_round_trip(void) {
  char root[64], p[512], spec[128];
  fx_tmpdir(root, sizeof root, "folder");
  const char *dirs[] = {"train", "train/dog", "train/cat", "train/.hidden", "test", "test/cat", "test/bird"};
  for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) mkdir(mk(p, sizeof p, root, dirs[i]), 0755);
  // train: cat = {a.png RGB id 1, b.PNG gray id 2, c.jpg RGB id 3}, dog = {a.png palette... , z.png 16-bit
  // gray}
  write_png(mk(p, sizeof p, root, "train/cat/a.png"), 1, PNG_COLOR_TYPE_RGB, 8, W, H);
  write_png(mk(p, sizeof p, root, "train/cat/b.PNG"), 2, PNG_COLOR_TYPE_GRAY, 8, W, H);
  write_jpeg(mk(p, sizeof p, root, "train/cat/c.jpg"), 3, 3, W, H);
  write_png(mk(p, sizeof p, root, "train/dog/a.png"), 4, PNG_COLOR_TYPE_RGB_ALPHA, 8, W, H);
  write_png(mk(p, sizeof p, root, "train/dog/z.png"), 5, PNG_COLOR_TYPE_GRAY, 16, W, H);
  write_png(mk(p, sizeof p, root, "train/dog/m.png"), 6, PNG_COLOR_TYPE_PALETTE, 8, W, H);
  fx_write(mk(p, sizeof p, root, "train/dog/notes.txt"), "x", 1);  // ignored: not an image name
  write_png(mk(p, sizeof p, root, "train/.hidden/x.png"), 9, PNG_COLOR_TYPE_GRAY, 8, W, H);
  write_jpeg(mk(p, sizeof p, root, "test/bird/q.jpeg"), 7, 1, W, H);
  write_png(mk(p, sizeof p, root, "test/cat/k.png"), 8, PNG_COLOR_TYPE_GRAY, 8, W, H);

  sr_err err = {0};
  sr_dataset ds;
  snprintf(spec, sizeof spec, "folder:%s", root);
  CHECK_OK(sr_dataset_load(spec, "train", &ds, &err), &err);
  // Classes: sorted union of train and test: bird, cat, dog.
  CHECK(ds.num_classes == 3 && !strcmp(ds.class_names[0], "bird") && !strcmp(ds.class_names[1], "cat") &&
            !strcmp(ds.class_names[2], "dog") && !strcmp(ds.name, "folder"),
        "classes %d: %s %s %s", ds.num_classes, ds.class_names[0], ds.class_names[1], ds.class_names[2]);
  CHECK(ds.n == 6 && ds.c == 3 && ds.h == H && ds.w == W, "train: %lld x %dx%dx%d", (long long)ds.n, ds.c,
        ds.h, ds.w);
  if (ds.n == 6) {
    int32_t want_labels[6] = {1, 1, 1, 2, 2, 2};
    int lab_ok = 1;
    for (int i = 0; i < 6; i++) lab_ok &= ds.labels[i] == want_labels[i];
    CHECK(lab_ok, "labels follow the sorted classes");
    CHECK(same_as(&ds, 0, 1, 0), "cat/a.png (RGB) exact");
    CHECK(same_as(&ds, 1, 2, 1), "cat/b.PNG (gray) exact, replicated to 3 channels");
    int d = max_diff(&ds, 2, 3, 0);
    CHECK(d <= 4, "cat/c.jpg within JPEG loss: max diff %d", d);
    CHECK(same_as(&ds, 3, 4, 0), "dog/a.png (RGBA): alpha dropped, RGB exact");
    // dog/m.png (palette): pixel v -> (v, 255 - v, v / 2)
    int pal_ok = 1;
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        int v = smooth(6, 0, y, x);
        pal_ok &= img(&ds, 4)[y * W + x] == v && img(&ds, 4)[(H + y) * W + x] == 255 - v &&
                  img(&ds, 4)[(2 * H + y) * W + x] == v / 2;
      }
    CHECK(pal_ok, "dog/m.png (palette) expanded to RGB exactly");
    CHECK(same_as(&ds, 5, 5, 1), "dog/z.png (16-bit gray) keeps the high byte");
  }
  sr_dataset_free(&ds);
  CHECK_OK(sr_dataset_load(spec, "test", &ds, &err), &err);
  CHECK(ds.n == 2 && ds.c == 1 && ds.num_classes == 3, "test: gray only -> 1 channel: %lld x %d",
        (long long)ds.n, ds.c);
  if (ds.n == 2 && ds.c == 1) {
    CHECK(ds.labels[0] == 0 && ds.labels[1] == 1, "test labels %d %d", ds.labels[0], ds.labels[1]);
    int d = max_diff(&ds, 0, 7, 1);
    CHECK(d <= 2, "gray JPEG within loss: %d", d);
    CHECK(same_as(&ds, 1, 8, 1), "test/cat/k.png exact");
  }
  sr_dataset_free(&ds);
  // Without train/test directories the root's classes serve both splits.
  snprintf(spec, sizeof spec, "folder:%s/train", root);
  sr_dataset a, b;
  CHECK_OK(sr_dataset_load(spec, "train", &a, &err), &err);
  CHECK_OK(sr_dataset_load(spec, "test", &b, &err), &err);
  CHECK(a.n == 6 && b.n == 6 && a.num_classes == 2 && !memcmp(a.images, b.images, (size_t)a.n * 3 * H * W),
        "flat folder: both splits are the whole folder (%lld, %lld, %d classes)", (long long)a.n,
        (long long)b.n, a.num_classes);
  sr_dataset_free(&a);
  sr_dataset_free(&b);
  CHECK_OK(sr_dataset_load(root, "test", &a, &err), &err);  // a bare path with class folders: auto-detected
  CHECK(!strcmp(a.name, "folder") && a.n == 2 && a.num_classes == 3, "bare folder path: %s, %lld images",
        a.name, (long long)a.n);
  sr_dataset_free(&a);
  fx_rmtree(root);
}

static void expect_fail(const char *root, const char *split, sr_status want, const char *file,
                        const char *also, const char *what) {
  char spec[600];
  snprintf(spec, sizeof spec, "folder:%s", root);
  sr_err err = {0};
  sr_dataset ds;
  sr_status st = sr_dataset_load(spec, split, &ds, &err);
  if (getenv("SR_TEST_VERBOSE")) printf("%-34s -> %s\n", what, err.msg);
  CHECK(st == want, "%s: got %s (%s), want %s", what, sr_status_name(st), err.msg, sr_status_name(want));
  CHECK(strstr(err.msg, file) != NULL, "%s: message names %s: %s", what, file, err.msg);
  if (also) CHECK(strstr(err.msg, also) != NULL, "%s: message mentions '%s': %s", what, also, err.msg);
  CHECK(ds.images == NULL && ds.n == 0, "%s: output left empty", what);
}

static void copy_prefix(const char *from, const char *to, size_t n) {
  unsigned char data[8192];
  FILE *fp = fopen(from, "rb");
  size_t got = fp ? fread(data, 1, sizeof data, fp) : 0;
  if (fp) fclose(fp);
  fx_write(to, data, n < got ? n : got);
}

static void test_bad(void) {
  char root[64], p[512], q[512], r[512];
  fx_tmpdir(root, sizeof root, "folder_bad");
  expect_fail(root, "train", SR_ERR_FORMAT, root, "no class", "no class directories");
  mkdir(mk(p, sizeof p, root, "a"), 0755);
  mkdir(mk(p, sizeof p, root, "b"), 0755);
  expect_fail(root, "train", SR_ERR_FORMAT, root, "no .png", "class directories without images");
  write_png(mk(p, sizeof p, root, "a/1.png"), 1, PNG_COLOR_TYPE_GRAY, 8, W, H);
  write_png(mk(q, sizeof q, root, "b/1.png"), 2, PNG_COLOR_TYPE_RGB, 8, W + 1, H);
  expect_fail(root, "train", SR_ERR_FORMAT, q, "same size", "inconsistent image sizes");
  write_jpeg(q, 2, 3, W, H);
  copy_prefix(q, mk(r, sizeof r, root, "b/2.jpg"), fx_file_size(q) - 8);  // header intact, scan data cut
  expect_fail(root, "train", SR_ERR_FORMAT, r, "corrupt JPEG", "JPEG cut at the end");
  copy_prefix(q, r, fx_file_size(q) / 2);
  remove(q);
  expect_fail(root, "train", SR_ERR_FORMAT, r, "corrupt JPEG", "JPEG cut in half");
  // A JPEG whose frame header claims 60000x60000: refused from the header, before any allocation.
  write_jpeg(r, 2, 1, W, H);
  unsigned char jp[4096];
  FILE *jf = fopen(r, "rb");
  size_t jn = fread(jp, 1, sizeof jp, jf);
  fclose(jf);
  int patched = 0;
  for (size_t i = 0; i + 8 < jn && !patched; i++)
    if (jp[i] == 0xff && jp[i + 1] == 0xc0) {  // SOF0: length(2) precision(1) height(2) width(2)
      jp[i + 5] = jp[i + 7] = 0xea;
      jp[i + 6] = jp[i + 8] = 0x60;
      patched = 1;
    }
  CHECK(patched, "found the SOF0 marker");
  fx_write(r, jp, jn);
  mkdir(mk(p, sizeof p, root, "0"), 0755);  // sorted first, so the huge image is the reference
  char big[512];
  rename(r, mk(big, sizeof big, root, "0/big.jpg"));
  expect_fail(root, "train", SR_ERR_FORMAT, big, "larger than", "JPEG header claiming 60000x60000");
  remove(big);
  rmdir(mk(p, sizeof p, root, "0"));
  fx_write(r, "\xff\xd8\xff\xe0garbage garbage garbage", 27);
  expect_fail(root, "train", SR_ERR_FORMAT, r, "JPEG", "JPEG signature then garbage");
  remove(r);
  fx_write(mk(r, sizeof r, root, "b/2.png"), "this is not a png file", 22);
  expect_fail(root, "train", SR_ERR_FORMAT, r, "signature", "not an image");
  write_png(r, 2, PNG_COLOR_TYPE_RGB, 8, W, H);
  copy_prefix(r, q, fx_file_size(r) - 20);  // IEND and part of IDAT gone
  remove(r);
  expect_fail(root, "train", SR_ERR_FORMAT, q, "PNG", "truncated PNG");
  write_png(q, 2, PNG_COLOR_TYPE_RGB, 8, W, H);
  FILE *fp = fopen(q, "r+b");  // flip a byte inside IDAT: CRC mismatch
  fseek(fp, (long)fx_file_size(q) - 20, SEEK_SET);
  int c = fgetc(fp);
  fseek(fp, (long)fx_file_size(q) - 20, SEEK_SET);
  fputc(c ^ 0xff, fp);
  fclose(fp);
  expect_fail(root, "train", SR_ERR_FORMAT, q, "PNG", "PNG with a bad CRC");
  write_png(q, 2, PNG_COLOR_TYPE_RGB, 8, W, H);
  sr_err err = {0};
  sr_dataset ds;
  char spec[128];
  snprintf(spec, sizeof spec, "folder:%s", root);
  CHECK_OK(sr_dataset_load(spec, "train", &ds, &err), &err);
  CHECK(ds.n == 2 && ds.c == 3, "repaired folder loads: %lld x %d", (long long)ds.n, ds.c);
  sr_dataset_free(&ds);
  if (geteuid() != 0) {  // root reads anything
    chmod(q, 0);
    expect_fail(root, "train", SR_ERR_IO, q, NULL, "unreadable file");
    chmod(q, 0644);
  }
  mkdir(mk(p, sizeof p, root, "train"), 0755);
  mkdir(mk(p, sizeof p, root, "train/a"), 0755);
  write_png(mk(p, sizeof p, root, "train/a/1.png"), 1, PNG_COLOR_TYPE_GRAY, 8, W, H);
  snprintf(p, sizeof p, "%s/test", root);
  expect_fail(root, "test", SR_ERR_IO, p, NULL, "test split missing next to train/");
  snprintf(p, sizeof p, "%s/missing", root);
  expect_fail(p, "train", SR_ERR_IO, p, NULL, "missing root");
  fx_rmtree(root);
}

int main(void) {
  test_round_trip();
  test_bad();
  return sr_test_done();
}
