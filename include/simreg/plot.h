// Paper-style figures with PLplot (cairo): every function writes BASE.png and BASE.svg atomically (temp file
// in the same directory, checked non-empty, renamed). Inputs are validated before PLplot sees them, because
// PLplot reports some errors by printing and exiting the process. PLplot keeps global stream state:
// do not call these from several threads at once. Text is plain: '#' (PLplot's escape) is shown literally.
#ifndef SIMREG_PLOT_H
#define SIMREG_PLOT_H

#include "simreg/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SR_PLOT_MAX_SERIES 32
#define SR_PLOT_MAX_MAPS   8

typedef struct sr_plot_opts {
  const char *title, *xlabel, *ylabel;  // NULL = none
  int width, height;                    // pixels for PNG and points for SVG; 0 = the function's default
  int logy;                             // log10 y axis (every y must be > 0)
  int legend;                           // draw a legend of the labelled series, outside the axes on the right
  double xmin, xmax;                    // fixed x range when xmin < xmax, else from the data (padded)
  double ymin, ymax;                    // fixed y range when ymin < ymax, else from the data (padded)
} sr_plot_opts;

typedef struct sr_series {
  const char *label;      // legend text (NULL: not in the legend)
  const double *x, *y;    // n points, finite
  const double *lo, *hi;  // optional error bars / band (both or neither)
  int64_t n;
  int color;   // palette index 0..9 (a colour-blind-safe qualitative palette); < 0: by position
  int style;   // 0 solid, 1 dashed, 2 dotted, 3 dash-dot
  int marker;  // draw point markers
} sr_series;

// Line plot of up to SR_PLOT_MAX_SERIES series. Default size 900x600.
sr_status sr_plot_lines(const char *base, const sr_plot_opts *o, const sr_series *s, int ns, sr_err *err);

// Grouped bar chart: value[s*ncat + c] for series s (one colour each) and category c (x axis), with optional
// confidence intervals lo/hi (same layout, NULL for none). Bars start at 0 (or at ymin when given).
typedef struct sr_bars {
  const char *const *categories;  // ncat names on the x axis
  int ncat;
  const char *const *series;  // nser names in the legend
  int nser;
  const double *value, *lo, *hi;
} sr_bars;
sr_status sr_plot_bars_ci(const char *base, const sr_plot_opts *o, const sr_bars *b, sr_err *err);

typedef enum sr_cmap { SR_CMAP_SEQUENTIAL, SR_CMAP_DIVERGING } sr_cmap;

typedef struct sr_map_opts {
  double vmin, vmax;       // shared colour scale; vmin >= vmax: from the data (diverging: symmetric about 0)
  double x0, x1, y0, y1;   // axis extent of each map; x0 >= x1: pixel indices
  const char *cbar_label;  // colour bar label (NULL: none)
  sr_cmap cmap;
  int origin_top;  // draw row 0 at the top (matrix convention) instead of the bottom
  int mask_nan;    // NaN cells are allowed and drawn in grey (masked, e.g. a DC pixel); inf still rejected
} sr_map_opts;

// Up to SR_PLOT_MAX_MAPS maps (each row-major (h,w); row 0 at y0, the bottom, unless origin_top) side by
// side on one colour scale with one colour bar. x0..x1, y0..y1 are the outer edges of the cells. titles may
// be NULL. Default size: 330 per map + 190 wide, 430 high.
typedef struct sr_maps {
  const double *const *maps;  // n maps of (h, w)
  const char *const *titles;  // n titles or NULL
  int n;
  int64_t h, w;
} sr_maps;
sr_status sr_plot_maps(const char *base, const sr_plot_opts *o, const sr_map_opts *m, const sr_maps *mp,
                       sr_err *err);
// One (h,w) matrix with a colour bar (e.g. a similarity matrix: diverging on [-1, 1]).
sr_status sr_plot_heatmap(const char *base, const sr_plot_opts *o, const sr_map_opts *m, const double *a,
                          int64_t h, int64_t w, sr_err *err);

// Histograms (fraction of values per bin) of up to SR_PLOT_MAX_SERIES sets on shared bins over the joint
// range, drawn as outlines in one axes. Default size 900x600.
typedef struct sr_hist {
  const double *const *data;  // nsets sets of n[s] values
  const int64_t *n;
  const char *const *labels;
  int nsets, nbins;
} sr_hist;
sr_status sr_plot_hist(const char *base, const sr_plot_opts *o, const sr_hist *h, sr_err *err);

#ifdef __cplusplus
}
#endif
#endif
