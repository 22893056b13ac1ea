// Shaded maps (plimagefr) side by side on one shared colour scale, with a PLplot colour bar.
#include <math.h>

#include "plot_internal.h"

typedef struct {
  const sr_plot_opts *o;
  const sr_map_opts *m;
  PLFLT **cols[SR_PLOT_MAX_MAPS];  // per map: w pointers to columns of h values (PLplot's [x][y] order)
  const double *const *maps;       // the caller's maps (row-major (h,w)), for the masked cells
  const char *const *titles;
  int nmaps;
  int64_t h, w;
  double vmin, vmax, x0, x1, y0, y1;
  int width, height;
} maps_ctx;

static void set_cmap(sr_cmap cmap) {
  // Viridis-like sequential ramp; blue-white-red diverging ramp (ColorBrewer RdBu endpoints).
  static const PLFLT sp[5] = {0, 0.25, 0.5, 0.75, 1}, sr[5] = {0.267, 0.230, 0.128, 0.369, 0.993},
                     sg[5] = {0.005, 0.322, 0.567, 0.789, 0.906}, sb[5] = {0.329, 0.546, 0.551, 0.383, 0.144};
  static const PLFLT dp[3] = {0, 0.5, 1}, dr[3] = {0.129, 0.97, 0.698}, dg[3] = {0.4, 0.97, 0.094},
                     db[3] = {0.675, 0.97, 0.169};
  plscmap1n(256);
  if (cmap == SR_CMAP_DIVERGING)
    plscmap1l(1, 3, dp, dr, dg, db, NULL);
  else
    plscmap1l(1, 5, sp, sr, sg, sb, NULL);
}

// plimagefr without a transform steps (max - min) / (n - 1) per cell and draws cell k from min + k * step,
// so passing the lower edge of the last cell as max gives n cells of width (x1 - x0) / n filling x0..x1.
static double last_edge(double x0, double x1, int64_t n) {
  return n > 1 ? x0 + (x1 - x0) * (double)(n - 1) / (double)n : x1;
}

// Masked (NaN) cells: plimagefr leaves them out (their value is below its range), then they are filled grey.
static void fill_masked(const maps_ctx *c, int i) {
  if (!c->m->mask_nan) return;
  double dx = (c->x1 - c->x0) / (double)c->w, dy = (c->y1 - c->y0) / (double)c->h;
  plcol0(SR_PLOT_GRAY);
  for (int64_t y = 0; y < c->h; y++)
    for (int64_t x = 0; x < c->w; x++) {
      if (!isnan(c->maps[i][y * c->w + x])) continue;
      PLFLT xs[4] = {c->x0 + x * dx, c->x0 + (x + 1) * dx, c->x0 + (x + 1) * dx, c->x0 + x * dx};
      PLFLT ys[4] = {c->y0 + y * dy, c->y0 + y * dy, c->y0 + (y + 1) * dy, c->y0 + (y + 1) * dy};
      plfill(4, xs, ys);
    }
}

static void draw_maps(const void *p) {
  const maps_ctx *c = p;
  char buf[512];
  set_cmap(c->m->cmap);
  double W = c->width, H = c->height, side = fmin(260.0, H - 150.0);
  plschr(0, 1.15);
  for (int i = 0; i < c->nmaps; i++) {
    double xl = (75.0 + i * (side + 70.0)) / W, yb = 75.0 / H;
    plvpor(xl, xl + side / W, yb, yb + side / H);
    // origin_top: an inverted window puts row 0 (at y0) on top, and the axis labels follow.
    if (c->m->origin_top)
      plwind(c->x0, c->x1, c->y1, c->y0);
    else
      plwind(c->x0, c->x1, c->y0, c->y1);
    plimagefr((PLFLT_MATRIX)c->cols[i], (PLINT)c->w, (PLINT)c->h, c->x0, last_edge(c->x0, c->x1, c->w), c->y0,
              last_edge(c->y0, c->y1, c->h), c->vmin, c->vmax, c->vmin, c->vmax, NULL, NULL);
    fill_masked(c, i);
    plcol0(SR_PLOT_BLACK);
    plbox("bcnst", 0, 0, i == 0 ? "bcnstv" : "bcst", 0, 0);
    if (c->titles && c->titles[i]) {
      sr_plot_text(buf, sizeof buf, c->titles[i]);
      plmtex("t", 1.0, 0.5, 0.5, buf);
    }
    if (c->o->xlabel) {
      sr_plot_text(buf, sizeof buf, c->o->xlabel);
      plmtex("b", 2.8, 0.5, 0.5, buf);
    }
    if (i == 0 && c->o->ylabel) {
      sr_plot_text(buf, sizeof buf, c->o->ylabel);
      plmtex("l", 3.6, 0.5, 0.5, buf);
    }
  }
  // The colour bar belongs to the last panel's viewport, just outside on the right.
  PLFLT values[64], cw, ch;
  for (int k = 0; k < 64; k++) values[k] = c->vmin + (c->vmax - c->vmin) * k / 63.0;
  const PLFLT *vp[1] = {values};
  PLINT nval[1] = {64}, label_opts[1] = {PL_COLORBAR_LABEL_RIGHT}, sub[1] = {0};
  PLFLT ticks[1] = {0};
  sr_plot_text(buf, sizeof buf, c->m->cbar_label ? c->m->cbar_label : "");
  const char *labels[1] = {buf}, *axis[1] = {"bcvtm"};
  plcolorbar(&cw, &ch, PL_COLORBAR_IMAGE, PL_POSITION_RIGHT | PL_POSITION_OUTSIDE | PL_POSITION_VIEWPORT,
             0.05, 0.0, 0.06, 1.0, 0, SR_PLOT_BLACK, 1, 0, 0, 0, 0, c->m->cbar_label ? 1 : 0, label_opts,
             labels, 1, axis, ticks, sub, nval, vp);
  if (c->o->title) {
    sr_plot_text(buf, sizeof buf, c->o->title);
    plvpor(0, 1, 0, 1);
    plschr(0, 1.4);
    plmtex("t", -1.6, 0.5, 0.5, buf);
  }
}

static sr_status check_map(const double *v, int64_t n, int mask_nan, sr_err *err) {
  if (!mask_nan) return sr_plot_check_finite(v, n, "map", err);
  for (int64_t i = 0; i < n; i++)
    if (isinf(v[i])) return sr_fail(err, SR_ERR_NUMERIC, "map: value %lld is infinite", (long long)i);
  return SR_OK;
}

sr_status sr_plot_maps(const char *base, const sr_plot_opts *o, const sr_map_opts *m, const sr_maps *mp,
                       sr_err *err) {
  const double *const *maps = mp->maps;
  const char *const *titles = mp->titles;
  const int nmaps = mp->n;
  const int64_t h = mp->h, w = mp->w;
  sr_status st = sr_plot_check_base(base, err);
  if (st) return st;
  if (nmaps < 1 || nmaps > SR_PLOT_MAX_MAPS)
    return sr_fail(err, SR_ERR_ARG, "%s: need 1..%d maps (got %d)", base, SR_PLOT_MAX_MAPS, nmaps);
  if (h < 1 || w < 1 || h > 4096 || w > 4096)
    return sr_fail(err, SR_ERR_ARG, "%s: map size %lldx%lld outside 1..4096", base, (long long)h,
                   (long long)w);
  maps_ctx c = {.o = o, .m = m, .maps = maps, .titles = titles, .nmaps = nmaps, .h = h, .w = w};
  double lo = INFINITY, hi = -INFINITY;
  for (int i = 0; i < nmaps; i++) {
    if (!maps[i]) return sr_fail(err, SR_ERR_ARG, "%s: map %d is missing", base, i);
    if ((st = check_map(maps[i], h * w, m->mask_nan, err))) return sr_err_context(err, "%s", base);
    for (int64_t k = 0; k < h * w; k++) {
      lo = fmin(lo, maps[i][k]);
      hi = fmax(hi, maps[i][k]);
    }
  }
  if (!(lo <= hi)) lo = hi = 0;  // every cell masked
  if (m->vmin < m->vmax) {
    c.vmin = m->vmin;
    c.vmax = m->vmax;
  } else if (m->cmap == SR_CMAP_DIVERGING) {
    double a = fmax(fabs(lo), fabs(hi));
    c.vmin = -(a > 0 ? a : 1);
    c.vmax = a > 0 ? a : 1;
  } else {
    c.vmin = lo;
    c.vmax = hi;
    if (!(hi > lo)) sr_plot_pad_range(&c.vmin, &c.vmax, 0);
  }
  if (m->x0 < m->x1 && m->y0 < m->y1) {
    c.x0 = m->x0;
    c.x1 = m->x1;
    c.y0 = m->y0;
    c.y1 = m->y1;
  } else {
    c.x0 = 0;
    c.x1 = (double)w;
    c.y0 = 0;
    c.y1 = (double)h;
  }
  c.width = o->width ? o->width : 330 * nmaps + 190;
  c.height = o->height ? o->height : 430;
  // PLplot wants [x][y]; values beyond the colour range are clamped so they keep the end colours.
  PLFLT *buf = sr_alloc((size_t)(nmaps * h * w) * sizeof(PLFLT));
  PLFLT **ptr = sr_alloc((size_t)(nmaps * w) * sizeof(PLFLT *));
  if (!buf || !ptr) {
    sr_free(buf);
    sr_free(ptr);
    return sr_fail(err, SR_ERR_NOMEM, "%s: cannot allocate map buffers", base);
  }
  for (int i = 0; i < nmaps; i++) {
    c.cols[i] = ptr + i * w;
    for (int64_t x = 0; x < w; x++) {
      PLFLT *col = buf + (i * w + x) * h;
      c.cols[i][x] = col;
      for (int64_t y = 0; y < h; y++) {
        double v = maps[i][y * w + x];
        // A masked cell gets a value below the drawn range, so plimagefr skips it.
        col[y] = isnan(v) ? c.vmin - 1.0 - (c.vmax - c.vmin) : fmin(fmax(v, c.vmin), c.vmax);
      }
    }
  }
  st = sr_plot_render(base, c.width, c.height, draw_maps, &c, err);
  sr_free(buf);
  sr_free(ptr);
  return st;
}

sr_status sr_plot_heatmap(const char *base, const sr_plot_opts *o, const sr_map_opts *m, const double *a,
                          int64_t h, int64_t w, sr_err *err) {
  const double *maps[1] = {a};
  sr_plot_opts oo = *o;
  if (!oo.width) oo.width = 520;
  if (!oo.height) oo.height = 430;
  return sr_plot_maps(base, &oo, m, &(sr_maps){.maps = maps, .titles = NULL, .n = 1, .h = h, .w = w}, err);
}
