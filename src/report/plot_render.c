// Rendering one figure to PNG and SVG through PLplot's cairo devices, written atomically: PLplot writes a
// temp file (plsfnam) in the target directory, which is fsync'ed, checked non-empty and renamed.
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plot_internal.h"

// Okabe-Ito (colour-blind safe) followed by two extra distinguishable tones.
static const unsigned char PALETTE[10][3] = {
    {0, 114, 178},  {213, 94, 0}, {0, 158, 115},  {204, 121, 167}, {230, 159, 0},
    {86, 180, 233}, {0, 0, 0},    {240, 228, 66}, {128, 64, 0},    {100, 100, 100},
};

int sr_plot_color(int i) { return 2 + ((i % 10) + 10) % 10; }

void sr_plot_text(char *out, size_t cap, const char *s) {
  size_t k = 0;
  for (; s && *s && k + 2 < cap; s++) {
    if (*s == '#') out[k++] = '#';
    out[k++] = *s;
  }
  out[k] = 0;
}

int sr_plot_lsty(int style) {
  static const int map[4] = {1, 3, 2, 5};  // PLplot's built-in styles: solid, long dash, short dash, dash-dot
  return map[((style % 4) + 4) % 4];
}

static void setup_colors(void) {
  plscmap0n(16);
  plscol0(0, 255, 255, 255);
  plscol0(SR_PLOT_BLACK, 0, 0, 0);
  for (int i = 0; i < 10; i++) plscol0(sr_plot_color(i), PALETTE[i][0], PALETTE[i][1], PALETTE[i][2]);
  plscol0(SR_PLOT_GRAY, 110, 110, 110);
  plscol0(SR_PLOT_LIGHT, 225, 225, 225);
}

// fsync a finished file and report its size (0 when missing).
static long long sync_size(const char *path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return 0;
  fsync(fd);
  struct stat sb;
  long long n = fstat(fd, &sb) == 0 ? (long long)sb.st_size : 0;
  close(fd);
  return n;
}

// One figure: the path without extension, its size in pixels and what draws it.
typedef struct {
  const char *base;
  int width, height;
  sr_draw_fn draw;
  const void *ctx;
} plot_job;

// The figure through one PLplot device (dev) into base.ext.
static sr_status render_one(const plot_job *job, const char *dev, const char *ext, sr_err *err) {
  const char *base = job->base;
  char path[4096], tmp[4200];
  if (snprintf(path, sizeof path, "%s.%s", base, ext) >= (int)sizeof path)
    return sr_fail(err, SR_ERR_ARG, "%s: path too long", base);
  snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd < 0) return sr_fail(err, SR_ERR_IO, "%s: cannot create temp file: %s", path, strerror(errno));
  fchmod(fd, 0644);  // a figure, not a secret: readable like the report beside it
  close(fd);
  PLINT strm;
  plmkstrm(&strm);
  plsdev(dev);
  plsfnam(tmp);
  plspage(0., 0., job->width, job->height, 0, 0);
  setup_colors();
  plinit();
  plfontld(1);
  pladv(0);
  job->draw(job->ctx);
  plend1();
  long long size = sync_size(tmp);
  if (size <= 0) {
    unlink(tmp);
    return sr_fail(err, SR_ERR_IO, "%s: PLplot (%s) wrote nothing", path, dev);
  }
  if (rename(tmp, path) != 0) {
    int e = errno;
    unlink(tmp);
    return sr_fail(err, SR_ERR_IO, "%s: cannot rename the finished plot: %s", path, strerror(e));
  }
  return SR_OK;
}

sr_status sr_plot_render(const char *base, int width, int height, sr_draw_fn draw, const void *ctx,
                         sr_err *err) {
  if (width < 100 || height < 100 || width > 8000 || height > 8000)
    return sr_fail(err, SR_ERR_ARG, "%s: plot size %dx%d outside [100, 8000]", base, width, height);
  const plot_job job = {.base = base, .width = width, .height = height, .draw = draw, .ctx = ctx};
  sr_status st = render_one(&job, "pngcairo", "png", err);
  if (!st) st = render_one(&job, "svgcairo", "svg", err);
  return st;
}

sr_status sr_plot_check_base(const char *base, sr_err *err) {
  if (!base || !*base) return sr_fail(err, SR_ERR_ARG, "plot: empty output path");
  if (strlen(base) > 4000) return sr_fail(err, SR_ERR_ARG, "plot: output path too long");
  return SR_OK;
}

sr_status sr_plot_check_finite(const double *v, int64_t n, const char *what, sr_err *err) {
  for (int64_t i = 0; i < n; i++)
    if (!isfinite(v[i]))
      return sr_fail(err, SR_ERR_NUMERIC, "plot: %s: value %lld is not finite", what, (long long)i);
  return SR_OK;
}

void sr_plot_pad_range(double *lo, double *hi, int logy) {
  if (*hi - *lo <= 1e-12 * (fabs(*lo) + fabs(*hi))) {
    double d = logy ? 0.5 : fmax(fabs(*lo) / 10, 0.5);
    *lo -= d;
    *hi += d;
    return;
  }
  double d = 0.05 * (*hi - *lo);
  *lo -= d;
  *hi += d;
}

double sr_plot_legend_right(int n, const char *const *labels, int width) {
  size_t longest = 0;
  for (int i = 0; i < n; i++)
    if (labels[i]) {
      size_t k = 0;  // count UTF-8 code points, not bytes
      for (const char *p = labels[i]; *p; p++) k += ((unsigned char)*p & 0xC0) != 0x80;
      if (k > longest) longest = k;
    }
  // Legend text at scale 1.1 is about 10.5 px per character; line samples and padding take about 110 px.
  double right = 1.0 - (110.0 + 10.5 * (double)longest) / (double)width;
  return right < 0.45 ? 0.45 : right > 0.95 ? 0.95 : right;
}

void sr_plot_frame(const sr_plot_opts *o, double x0, double x1, double y0, double y1, double right,
                   int categorical) {
  char buf[512];
  plschr(0, 1.25);
  plvpor(0.13, right, 0.13, 0.89);
  plwind(x0, x1, y0, y1);
  const char *yopt = o->logy ? "gl" : "g";
  plcol0(SR_PLOT_LIGHT);
  plwidth(1);
  pllsty(1);
  plbox(categorical ? "" : "g", 0, 0, yopt, 0, 0);
  plcol0(SR_PLOT_BLACK);
  plbox(categorical ? "bc" : "bcnst", 0, 0, o->logy ? "bcnstvl" : "bcnstv", 0, 0);
  if (o->xlabel) {
    sr_plot_text(buf, sizeof buf, o->xlabel);
    plmtex("b", 2.8, 0.5, 0.5, buf);
  }
  if (o->ylabel) {
    sr_plot_text(buf, sizeof buf, o->ylabel);
    plmtex("l", 4.2, 0.5, 0.5, buf);
  }
  if (o->title) {
    sr_plot_text(buf, sizeof buf, o->title);
    plschr(0, 1.45);
    plmtex("t", 1.2, 0.5, 0.5, buf);
    plschr(0, 1.25);
  }
}

void sr_plot_legend(int n, const char *const *labels, const int *colors, const int *styles,
                    const int *markers, int boxes) {
  if (n <= 0) return;
  PLINT opt[SR_PLOT_MAX_SERIES], tcol[SR_PLOT_MAX_SERIES], lcol[SR_PLOT_MAX_SERIES], lsty[SR_PLOT_MAX_SERIES];
  PLINT bpat[SR_PLOT_MAX_SERIES], snum[SR_PLOT_MAX_SERIES];
  PLFLT lwid[SR_PLOT_MAX_SERIES], sscale[SR_PLOT_MAX_SERIES], bscale[SR_PLOT_MAX_SERIES],
      bwid[SR_PLOT_MAX_SERIES];
  char text[SR_PLOT_MAX_SERIES][128];
  const char *tp[SR_PLOT_MAX_SERIES], *sym[SR_PLOT_MAX_SERIES];
  if (n > SR_PLOT_MAX_SERIES) n = SR_PLOT_MAX_SERIES;
  for (int i = 0; i < n; i++) {
    opt[i] = boxes ? PL_LEGEND_COLOR_BOX : PL_LEGEND_LINE | (markers && markers[i] ? PL_LEGEND_SYMBOL : 0);
    tcol[i] = SR_PLOT_BLACK;
    lcol[i] = colors[i];
    lsty[i] = sr_plot_lsty(styles ? styles[i] : 0);
    lwid[i] = 2.5;
    bpat[i] = 0;
    bscale[i] = 0.8;
    bwid[i] = 1;
    sscale[i] = 1.0;
    snum[i] = 2;
    sym[i] = "•";
    sr_plot_text(text[i], sizeof text[i], labels[i] ? labels[i] : "");
    tp[i] = text[i];
  }
  PLFLT lw, lh;
  plschr(0, 1.1);
  pllegend(&lw, &lh, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
           PL_POSITION_VIEWPORT | PL_POSITION_OUTSIDE | PL_POSITION_RIGHT, 0.02, 0.0, 0.08, 0, SR_PLOT_BLACK,
           1, 0, 0, n, opt, 0.8, 1.0, 2.0, 0.0, tcol, tp, lcol, bpat, bscale, bwid, lcol, lsty, lwid, lcol,
           sscale, snum, sym);
  plschr(0, 1.25);
}
