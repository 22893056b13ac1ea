// Line plots: several series on one axes, optional error bars, legend outside on the right.
#include <math.h>
#include <string.h>

#include "plot_internal.h"

typedef struct {
  const sr_plot_opts *o;
  const sr_series *s;
  int ns;
  double x0, x1, y0, y1;
  int width;
  const double *ty[SR_PLOT_MAX_SERIES], *tlo[SR_PLOT_MAX_SERIES],
      *thi[SR_PLOT_MAX_SERIES];  // y in axis units
} lines_ctx;

static double ty(const sr_plot_opts *o, double y) { return o->logy ? log10(y) : y; }

static void draw_lines(const void *p) {
  const lines_ctx *c = p;
  const sr_plot_opts *o = c->o;
  int nlab = 0, colors[SR_PLOT_MAX_SERIES], styles[SR_PLOT_MAX_SERIES], markers[SR_PLOT_MAX_SERIES];
  const char *labels[SR_PLOT_MAX_SERIES];
  for (int i = 0; i < c->ns; i++)
    if (c->s[i].label) labels[nlab++] = c->s[i].label;
  int legend = o->legend && nlab > 0;
  sr_plot_frame(o, c->x0, c->x1, c->y0, c->y1, legend ? sr_plot_legend_right(nlab, labels, c->width) : 0.95,
                0);
  nlab = 0;
  for (int i = 0; i < c->ns; i++) {
    const sr_series *s = &c->s[i];
    int col = sr_plot_color(s->color >= 0 ? s->color : i);
    const double *y = c->ty[i], *lo = c->tlo[i], *hi = c->thi[i];
    plcol0(col);
    plwidth(2.5);
    pllsty(sr_plot_lsty(s->style));
    plline((PLINT)s->n, s->x, y);
    pllsty(1);
    if (lo) {
      plwidth(1.5);
      plerry((PLINT)s->n, s->x, lo, hi);
      plwidth(2.5);
    }
    if (s->marker) plstring((PLINT)s->n, s->x, y, "•");
    pllsty(1);
    if (s->label) {
      labels[nlab] = s->label;
      colors[nlab] = col;
      styles[nlab] = s->style;
      markers[nlab] = s->marker;
      nlab++;
    }
  }
  plwidth(1);
  if (legend) sr_plot_legend(nlab, labels, colors, styles, markers, 0);
}

sr_status sr_plot_lines(const char *base, const sr_plot_opts *o, const sr_series *s, int ns, sr_err *err) {
  sr_status st = sr_plot_check_base(base, err);
  if (st) return st;
  if (ns < 1 || ns > SR_PLOT_MAX_SERIES)
    return sr_fail(err, SR_ERR_ARG, "%s: need 1..%d series (got %d)", base, SR_PLOT_MAX_SERIES, ns);
  lines_ctx c = {o,   s,   ns, INFINITY, -INFINITY, INFINITY, -INFINITY, o->width ? o->width : 900,
                 {0}, {0}, {0}};
  for (int i = 0; i < ns; i++) {
    if (s[i].n < 1 || !s[i].x || !s[i].y)
      return sr_fail(err, SR_ERR_ARG, "%s: series %d (%s) is empty", base, i,
                     s[i].label ? s[i].label : "unlabelled");
    if (!s[i].lo != !s[i].hi) return sr_fail(err, SR_ERR_ARG, "%s: series %d has only one of lo/hi", base, i);
    if ((st = sr_plot_check_finite(s[i].x, s[i].n, "x", err)) ||
        (st = sr_plot_check_finite(s[i].y, s[i].n, "y", err)) ||
        (s[i].lo && ((st = sr_plot_check_finite(s[i].lo, s[i].n, "lo", err)) ||
                     (st = sr_plot_check_finite(s[i].hi, s[i].n, "hi", err)))))
      return sr_err_context(err, "%s", base);
    for (int64_t k = 0; k < s[i].n; k++) {
      double lo = s[i].lo ? fmin(s[i].lo[k], s[i].y[k]) : s[i].y[k];
      double hi = s[i].hi ? fmax(s[i].hi[k], s[i].y[k]) : s[i].y[k];
      if (o->logy && !(lo > 0))
        return sr_fail(err, SR_ERR_ARG, "%s: log y axis needs positive values (series %d has %g)", base, i,
                       lo);
      c.x0 = fmin(c.x0, s[i].x[k]);
      c.x1 = fmax(c.x1, s[i].x[k]);
      c.y0 = fmin(c.y0, ty(o, lo));
      c.y1 = fmax(c.y1, ty(o, hi));
    }
  }
  if (o->xmin < o->xmax) {
    c.x0 = o->xmin;
    c.x1 = o->xmax;
  } else
    sr_plot_pad_range(&c.x0, &c.x1, 0);
  if (o->ymin < o->ymax) {
    if (o->logy && !(o->ymin > 0))
      return sr_fail(err, SR_ERR_ARG, "%s: log y axis with ymin %g", base, o->ymin);
    c.y0 = ty(o, o->ymin);
    c.y1 = ty(o, o->ymax);
  } else {
    sr_plot_pad_range(&c.y0, &c.y1, o->logy);
  }
  // y values in axis units (log10 for a log axis), one buffer for all series.
  int64_t total = 0;
  for (int i = 0; i < ns; i++) total += 3 * s[i].n;
  double *buf = sr_alloc((size_t)total * sizeof(double)), *p = buf;
  if (!buf) return sr_fail(err, SR_ERR_NOMEM, "%s: cannot allocate plot buffers", base);
  for (int i = 0; i < ns; i++) {
    double *y = p, *lo = p + s[i].n, *hi = p + 2 * s[i].n;
    p += 3 * s[i].n;
    for (int64_t k = 0; k < s[i].n; k++) {
      y[k] = ty(o, s[i].y[k]);
      if (s[i].lo) {
        lo[k] = ty(o, s[i].lo[k]);
        hi[k] = ty(o, s[i].hi[k]);
      }
    }
    c.ty[i] = y, c.tlo[i] = s[i].lo ? lo : NULL, c.thi[i] = s[i].lo ? hi : NULL;
  }
  if (total > (int64_t)INT32_MAX) st = sr_fail(err, SR_ERR_ARG, "%s: too many points", base);
  if (!st) st = sr_plot_render(base, c.width, o->height ? o->height : 600, draw_lines, &c, err);
  sr_free(buf);
  return st;
}
