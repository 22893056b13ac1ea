// Histograms on shared bins (fraction of each set per bin), drawn with plbin as outlines in one axes.
#include <math.h>

#include "plot_internal.h"

typedef struct {
  const sr_plot_opts *o;
  const char *const *labels;
  int nsets, nbins;
  const double *edges, *frac;  // (nbins) left edges, (nsets, nbins) fractions
  double x0, x1, ymax;
  int width;
} hist_ctx;

static void draw_hist(const void *p) {
  const hist_ctx *c = p;
  int legend = c->o->legend && c->labels;
  double right = legend ? sr_plot_legend_right(c->nsets, c->labels, c->width) : 0.95;
  sr_plot_frame(c->o, c->x0, c->x1, 0, c->ymax, right, 0);
  int colors[SR_PLOT_MAX_SERIES];
  for (int s = 0; s < c->nsets; s++) {
    colors[s] = sr_plot_color(s);
    plcol0(colors[s]);
    plwidth(2.5);
    plbin(c->nbins, c->edges, c->frac + (int64_t)s * c->nbins, PL_BIN_NOEXPAND);
  }
  plwidth(1);
  if (legend) sr_plot_legend(c->nsets, c->labels, colors, NULL, NULL, 0);
}

sr_status sr_plot_hist(const char *base, const sr_plot_opts *o, const sr_hist *h, sr_err *err) {
  const double *const *data = h->data;
  const int64_t *n = h->n;
  const char *const *labels = h->labels;
  const int nsets = h->nsets, nbins = h->nbins;
  sr_status st = sr_plot_check_base(base, err);
  if (st) return st;
  if (nsets < 1 || nsets > SR_PLOT_MAX_SERIES || nbins < 1 || nbins > 10000)
    return sr_fail(err, SR_ERR_ARG, "%s: need 1..%d sets and 1..10000 bins", base, SR_PLOT_MAX_SERIES);
  if (o->logy) return sr_fail(err, SR_ERR_ARG, "%s: histograms have a linear y axis", base);
  double lo = INFINITY, hi = -INFINITY;
  for (int s = 0; s < nsets; s++) {
    if (n[s] < 1 || !data[s]) return sr_fail(err, SR_ERR_ARG, "%s: set %d is empty", base, s);
    if ((st = sr_plot_check_finite(data[s], n[s], "histogram data", err)))
      return sr_err_context(err, "%s", base);
    for (int64_t i = 0; i < n[s]; i++) {
      lo = fmin(lo, data[s][i]);
      hi = fmax(hi, data[s][i]);
    }
  }
  if (o->xmin < o->xmax) {
    lo = o->xmin;
    hi = o->xmax;
  }
  if (!(hi > lo)) sr_plot_pad_range(&lo, &hi, 0);  // one repeated value: a bin around it
  double *edges = sr_alloc(sizeof(double) * (size_t)nbins),
         *frac = sr_calloc((size_t)nsets * (size_t)nbins, sizeof(double));
  if (!edges || !frac) {
    sr_free(edges);
    sr_free(frac);
    return sr_fail(err, SR_ERR_NOMEM, "%s: cannot allocate histogram", base);
  }
  double width = (hi - lo) / nbins, ymax = 0;
  for (int b = 0; b < nbins; b++) edges[b] = lo + width * b;
  for (int s = 0; s < nsets; s++) {
    for (int64_t i = 0; i < n[s]; i++) {
      double v = data[s][i];
      if (v < lo || v > hi) continue;  // outside a fixed x range
      int b = (int)((v - lo) / width);
      frac[(int64_t)s * nbins + (b >= nbins ? nbins - 1 : b)] += 1.0 / (double)n[s];
    }
    for (int b = 0; b < nbins; b++) ymax = fmax(ymax, frac[(int64_t)s * nbins + b]);
  }
  hist_ctx c = {
      o, labels, nsets, nbins, edges, frac, lo, hi, ymax > 0 ? ymax * 1.08 : 1, o->width ? o->width : 900};
  st = sr_plot_render(base, c.width, o->height ? o->height : 600, draw_hist, &c, err);
  sr_free(edges);
  sr_free(frac);
  return st;
}
