// Plots: every wrapper writes a valid PNG of the requested size and a valid SVG, leaves no temp files, and
// rejects bad input (non-finite, empty, log of non-positive) before PLplot sees it.
#include <dirent.h>
#include <stdint.h>
#include <unistd.h>

#include "simreg/plot.h"
#include "sr_test.h"

static char dir[256];

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

// PNG signature, IHDR first with the expected size, IEND last; SVG opening tag with the size in points.
static void check_files(const char *name, int w, int h) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s.png", dir, name);
  FILE *f = fopen(path, "rb");
  CHECK(f != NULL, "%s exists", path);
  if (!f) return;
  unsigned char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf, f);
  fseek(f, -12, SEEK_END);
  unsigned char tail[12];
  size_t nt = fread(tail, 1, 12, f);
  fclose(f);
  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  CHECK(n > 33 && !memcmp(buf, sig, 8) && !memcmp(buf + 12, "IHDR", 4), "%s: PNG signature and IHDR", name);
  CHECK(be32(buf + 16) == (uint32_t)w && be32(buf + 20) == (uint32_t)h, "%s: PNG is %ux%u, want %dx%d", name,
        be32(buf + 16), be32(buf + 20), w, h);
  CHECK(nt == 12 && !memcmp(tail + 4, "IEND", 4), "%s: PNG ends with IEND", name);
  snprintf(path, sizeof path, "%s/%s.svg", dir, name);
  f = fopen(path, "rb");
  CHECK(f != NULL, "%s exists", path);
  if (!f) return;
  n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  char end[64] = {0};
  fseek(f, -16, SEEK_END);
  size_t ne = fread(end, 1, 16, f);
  fclose(f);
  end[ne] = 0;
  char want[64];
  snprintf(want, sizeof want, "width=\"%dpt\" height=\"%dpt\"", w, h);
  CHECK(strstr((char *)buf, "<svg") && strstr((char *)buf, want), "%s: SVG with %s", name, want);
  CHECK(strstr(end, "</svg>") != NULL, "%s: SVG is complete", name);
}

static void check_no_temp(void) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int tmp = 0;
  while (d && (e = readdir(d)))
    if (strstr(e->d_name, ".tmp.")) tmp++;
  if (d) closedir(d);
  CHECK(tmp == 0, "no temp files left (%d)", tmp);
}

static void test_lines(void) {
  double x[10], a[10], b[10], lo[10], hi[10];
  for (int i = 0; i < 10; i++) {
    x[i] = 0.1 * i / 9;
    a[i] = 0.88 * exp(-30 * x[i]) + 0.1;
    b[i] = 0.84 * exp(-12 * x[i]) + 0.1;
    lo[i] = b[i] - 0.03;
    hi[i] = b[i] + 0.03;
  }
  sr_series s[2] = {{.label = "baseline #1", .x = x, .y = a, .n = 10, .color = -1, .marker = 1},
                    {.label = "pixel-reg (alpha=10)",
                     .x = x,
                     .y = b,
                     .lo = lo,
                     .hi = hi,
                     .n = 10,
                     .color = -1,
                     .style = 1,
                     .marker = 1}};
  sr_plot_opts o = {.title = "Gaussian noise",
                    .xlabel = "noise std",
                    .ylabel = "accuracy",
                    .legend = 1,
                    .ymin = 0,
                    .ymax = 1};
  char base[300];
  snprintf(base, sizeof base, "%s/lines", dir);
  sr_err err = {0};
  CHECK_OK(sr_plot_lines(base, &o, s, 2, &err), &err);
  check_files("lines", 900, 600);
  o.logy = 1;
  o.ymin = o.ymax = 0;
  o.width = 640;
  o.height = 480;
  snprintf(base, sizeof base, "%s/lines_log", dir);
  CHECK_OK(sr_plot_lines(base, &o, s, 2, &err), &err);
  check_files("lines_log", 640, 480);
  a[3] = 0;
  CHECK(sr_plot_lines(base, &o, s, 2, &err) == SR_ERR_ARG, "log axis with a zero value rejected");
  o.logy = 0;
  a[3] = NAN;
  CHECK(sr_plot_lines(base, &o, s, 2, &err) == SR_ERR_NUMERIC, "NaN rejected: %s", err.msg);
  a[3] = 0.5;
  s[0].n = 0;
  CHECK(sr_plot_lines(base, &o, s, 2, &err) == SR_ERR_ARG, "empty series rejected");
  s[0].n = 1;
  double c1[1] = {0.5};
  s[0].y = c1, s[1].y = c1, s[1].x = x, s[1].n = 1, s[1].lo = s[1].hi = NULL;
  snprintf(base, sizeof base, "%s/lines_const", dir);
  CHECK_OK(sr_plot_lines(base, &o, s, 2, &err), &err);  // zero data range is padded, not fatal
  check_files("lines_const", 640, 480);
  snprintf(base, sizeof base, "%s/no/such/dir/x", dir);
  CHECK(sr_plot_lines(base, &o, s, 2, &err) == SR_ERR_IO, "missing directory is an I/O error");
}

static void test_bars(void) {
  const char *cats[3] = {"baseline", "pixel Th=0.8", "pixel Th=0.4"}, *ser[1] = {"median"};
  double v[3] = {2.8e-3, 5.1e-3, 4.6e-3}, lo[3] = {2.5e-3, 4.6e-3, 4.1e-3}, hi[3] = {3.1e-3, 5.9e-3, 5.0e-3};
  sr_plot_opts o = {.title = "Boundary attack", .ylabel = "median ||d||^2/D"};
  char base[300];
  snprintf(base, sizeof base, "%s/bars", dir);
  sr_err err = {0};
  CHECK_OK(sr_plot_bars_ci(base, &o, &(sr_bars){cats, 3, ser, 1, v, lo, hi}, &err), &err);
  check_files("bars", 900, 600);
  const char *groups[3] = {"low", "mid", "high"}, *models[2] = {"baseline", "pixel"};
  double g[6] = {0.7, 0.6, 0.43, 0.72, 0.66, 0.61};
  o.legend = 1;
  snprintf(base, sizeof base, "%s/bars_grouped", dir);
  CHECK_OK(sr_plot_bars_ci(base, &o, &(sr_bars){groups, 3, models, 2, g, NULL, NULL}, &err), &err);
  check_files("bars_grouped", 900, 600);
  double z[3] = {0, 0, 0};
  CHECK(sr_plot_bars_ci(base, &o, &(sr_bars){cats, 3, ser, 1, z, NULL, NULL}, &err) == SR_ERR_ARG,
        "all-zero bars rejected");
}

static void test_maps_hist(void) {
  enum { H = 32, W = 32 };
  static double m1[H * W], m2[H * W], sim[16 * 16];
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      double fy = (y - H / 2) / (double)H, fx = (x - W / 2) / (double)W, r2 = fx * fx + fy * fy;
      m1[y * W + x] = exp(-r2 / 0.01);
      m2[y * W + x] = 0.5 * exp(-r2 / 0.05);
    }
  for (int i = 0; i < 16; i++)
    for (int j = 0; j < 16; j++) sim[i * 16 + j] = i == j ? 1 : cos(0.4 * (i - j)) * 0.8;
  const double *maps[2] = {m1, m2};
  const char *titles[2] = {"baseline", "pixel-reg"};
  sr_map_opts m = {.x0 = -0.5 - 0.5 / W,
                   .x1 = 0.5 - 0.5 / W,
                   .y0 = -0.5 - 0.5 / H,
                   .y1 = 0.5 - 0.5 / H,
                   .cbar_label = "normalized power",
                   .cmap = SR_CMAP_SEQUENTIAL};
  sr_plot_opts o = {.title = "Power spectra of minimal perturbations", .xlabel = "fx", .ylabel = "fy"};
  char base[300];
  snprintf(base, sizeof base, "%s/maps", dir);
  sr_err err = {0};
  CHECK_OK(sr_plot_maps(base, &o, &m, &(sr_maps){maps, titles, 2, H, W}, &err), &err);
  check_files("maps", 2 * 330 + 190, 430);
  sr_map_opts d = {
      .vmin = -1, .vmax = 1, .cmap = SR_CMAP_DIVERGING, .cbar_label = "similarity", .origin_top = 1};
  sr_plot_opts oh = {.title = "target similarity", .xlabel = "image j", .ylabel = "image i"};
  snprintf(base, sizeof base, "%s/heat", dir);
  CHECK_OK(sr_plot_heatmap(base, &oh, &d, sim, 16, 16, &err), &err);
  check_files("heat", 520, 430);
  const double *sets[2] = {sim, m1};
  int64_t n[2] = {256, H * W};
  const char *labels[2] = {"target", "model"};
  sr_plot_opts ohist = {.title = "similarity values", .xlabel = "value", .ylabel = "fraction", .legend = 1};
  snprintf(base, sizeof base, "%s/hist", dir);
  CHECK_OK(sr_plot_hist(base, &ohist, &(sr_hist){sets, n, labels, 2, 40}, &err), &err);
  check_files("hist", 900, 600);
  // A masked (NaN) DC cell: rejected unless mask_nan, then drawn (grey) and the files are complete.
  m1[(H / 2) * W + W / 2] = NAN;
  snprintf(base, sizeof base, "%s/masked", dir);
  CHECK(sr_plot_maps(base, &o, &m, &(sr_maps){maps, titles, 2, H, W}, &err) == SR_ERR_NUMERIC,
        "NaN rejected without mask_nan");
  m.mask_nan = 1;
  CHECK_OK(sr_plot_maps(base, &o, &m, &(sr_maps){maps, titles, 2, H, W}, &err), &err);
  check_files("masked", 2 * 330 + 190, 430);
  m1[5] = INFINITY;
  CHECK(sr_plot_maps(base, &o, &m, &(sr_maps){maps, titles, 2, H, W}, &err) == SR_ERR_NUMERIC,
        "inf in a map rejected (even with mask_nan)");
  m.mask_nan = 0;
  CHECK(sr_plot_maps(base, &o, &m, &(sr_maps){maps, titles, 2, H, W}, &err) == SR_ERR_NUMERIC,
        "inf in a map rejected");
}

int main(void) {
  const char *keep = getenv("SR_PLOT_KEEP");  // a directory to keep the figures in, for eyeballing
  if (keep) {
    snprintf(dir, sizeof dir, "%s", keep);
  } else {
    snprintf(dir, sizeof dir, "/tmp/sr_plot_XXXXXX");
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  }
  test_lines();
  test_bars();
  test_maps_hist();
  check_no_temp();
  if (!keep) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "cleanup");
  }
  return sr_test_done();
}
