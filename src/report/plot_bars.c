// Grouped bar charts with confidence intervals: categories along x, one colour per series.
#include <math.h>

#include "plot_internal.h"

typedef struct {
  const sr_plot_opts *o;
  const char *const *cat, *const *ser;
  int ncat, nser;
  const double *v, *lo, *hi;
  double y0, y1, base;
  int width;
} bars_ctx;

static void draw_bars(const void *p) {
  const bars_ctx *c = p;
  int legend = c->o->legend && c->nser > 1;
  double right = legend ? sr_plot_legend_right(c->nser, c->ser, c->width) : 0.95;
  sr_plot_frame(c->o, -0.6, c->ncat - 0.4, c->y0, c->y1, right, 1);
  double group = 0.8, bw = group / c->nser;
  int colors[SR_PLOT_MAX_SERIES];
  for (int s = 0; s < c->nser; s++) {
    colors[s] = sr_plot_color(s);
    for (int k = 0; k < c->ncat; k++) {
      double xc = k - group / 2 + bw * (s + 0.5), v = c->v[s * c->ncat + k];
      PLFLT xs[4] = {xc - 0.45 * bw, xc + 0.45 * bw, xc + 0.45 * bw, xc - 0.45 * bw};
      PLFLT ys[4] = {c->base, c->base, v, v};
      plcol0(colors[s]);
      plfill(4, xs, ys);
      plcol0(SR_PLOT_BLACK);
      plwidth(1);
      plline(4, xs, ys);
      if (c->lo) {
        PLFLT x1[1] = {xc}, l1[1] = {c->lo[s * c->ncat + k]}, h1[1] = {c->hi[s * c->ncat + k]};
        plwidth(2);
        plerry(1, x1, l1, h1);
        plwidth(1);
      }
    }
  }
  char buf[256];
  plcol0(SR_PLOT_BLACK);
  for (int k = 0; k < c->ncat; k++) {
    sr_plot_text(buf, sizeof buf, c->cat[k]);
    plmtex("b", 1.4, (k + 0.6) / ((double)c->ncat + 0.2), 0.5, buf);
  }
  if (legend) sr_plot_legend(c->nser, (const char *const *)c->ser, colors, NULL, NULL, 1);
}

sr_status sr_plot_bars_ci(const char *base, const sr_plot_opts *o, const sr_bars *b, sr_err *err) {
  const char *const *categories = b->categories, *const *series = b->series;
  const int ncat = b->ncat, nser = b->nser;
  const double *value = b->value, *lo = b->lo, *hi = b->hi;
  sr_status st = sr_plot_check_base(base, err);
  if (st) return st;
  if (ncat < 1 || nser < 1 || nser > SR_PLOT_MAX_SERIES || ncat > 256)
    return sr_fail(err, SR_ERR_ARG, "%s: need 1..256 categories and 1..%d series (got %d, %d)", base,
                   SR_PLOT_MAX_SERIES, ncat, nser);
  if (!lo != !hi) return sr_fail(err, SR_ERR_ARG, "%s: give both lo and hi or neither", base);
  if (o->logy) return sr_fail(err, SR_ERR_ARG, "%s: bar charts have a linear y axis", base);
  int64_t n = (int64_t)ncat * nser;
  if ((st = sr_plot_check_finite(value, n, "bar values", err)) ||
      (lo &&
       ((st = sr_plot_check_finite(lo, n, "lo", err)) || (st = sr_plot_check_finite(hi, n, "hi", err)))))
    return sr_err_context(err, "%s", base);
  bars_ctx c = {o, categories, series, ncat, nser, value, lo, hi, 0, 0, 0, o->width ? o->width : 900};
  for (int64_t i = 0; i < n; i++) {
    c.y0 = fmin(c.y0, fmin(value[i], lo ? lo[i] : value[i]));
    c.y1 = fmax(c.y1, fmax(value[i], hi ? hi[i] : value[i]));
  }
  if (c.y1 - c.y0 <= 0) return sr_fail(err, SR_ERR_ARG, "%s: every bar and interval is zero", base);
  c.y1 += 0.08 * (c.y1 - c.y0);
  if (c.y0 < 0) c.y0 -= 0.08 * (c.y1 - c.y0);
  if (o->ymin < o->ymax) {
    c.y0 = o->ymin;
    c.y1 = o->ymax;
    c.base = o->ymin;
  }
  return sr_plot_render(base, c.width, o->height ? o->height : 600, draw_bars, &c, err);
}
