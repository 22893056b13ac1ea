// Shared pieces of the PLplot wrappers: rendering to both devices, palette, axes, text escaping.
#ifndef SR_REPORT_PLOT_INTERNAL_H
#define SR_REPORT_PLOT_INTERNAL_H

#include <plplot.h>

#include "simreg/plot.h"

// Draws one figure into the current PLplot stream (already initialized, page advanced).
typedef void (*sr_draw_fn)(const void *ctx);

// Render `draw` once per device (pngcairo -> BASE.png, svgcairo -> BASE.svg), atomically.
sr_status sr_plot_render(const char *base, int width, int height, sr_draw_fn draw, const void *ctx,
                         sr_err *err);

// Copy `s` into `out` with PLplot's escape character '#' doubled, so text shows literally.
void sr_plot_text(char *out, size_t cap, const char *s);
// Colour index in cmap0 for palette entry i (wraps around the 10 entries).
int sr_plot_color(int i);
enum { SR_PLOT_BLACK = 1, SR_PLOT_GRAY = 12, SR_PLOT_LIGHT = 13 };
// PLplot line style (pllsty) for sr_series.style.
int sr_plot_lsty(int style);

// Frame of an x-y plot: viewport, window, grid, box,
// labels. logy: the window is in log10 units and the y axis labelled as such. categorical: no numeric x
// labels or vertical grid (the caller writes category names).
// right: right edge of the axes in page fraction (0.95 without legend, sr_plot_legend_right with one).
void sr_plot_frame(const sr_plot_opts *o, double x0, double x1, double y0, double y1, double right,
                   int categorical);
// Right edge of the axes that leaves room for a legend of these labels on a page `width` wide.
double sr_plot_legend_right(int n, const char *const *labels, int width);
// Legend with line samples (and markers when markers[i]) for the labelled entries.
void sr_plot_legend(int n, const char *const *labels, const int *colors, const int *styles,
                    const int *markers, int boxes);

// Validation shared by the wrappers.
sr_status sr_plot_check_base(const char *base, sr_err *err);
sr_status sr_plot_check_finite(const double *v, int64_t n, const char *what, sr_err *err);
// Padded data range; a degenerate range [a,a] becomes [a-d, a+d] with d = max(|a|/10, 0.5) (linear) .
void sr_plot_pad_range(double *lo, double *hi, int logy);

#endif
