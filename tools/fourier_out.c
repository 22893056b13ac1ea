// Outputs of simreg fourier-map: OUT/fourier_map.json (settings, maps, Wilson intervals, band summaries with
// bootstrap CIs, per-image band counts for the report's paired differences), one (H,W) float64 .npy and one
// heat map (PNG+SVG) per map. Every file is written atomically (docs/SPECTRAL.md).
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fourier_map.h"
#include "simreg/attack.h"
#include "simreg/npy.h"
#include "simreg/plot.h"

void fmap_name(const fmap_result *r, int64_t m, char *out, size_t cap) {
  int nch = r->o.each ? r->c : 1;
  int n = snprintf(out, cap, "fourier_map");
  if (r->o.n_eps > 1 && n > 0 && (size_t)n < cap)
    n += snprintf(out + n, cap - (size_t)n, "_eps%g", r->o.eps[m / nch]);
  if (r->o.each && n > 0 && (size_t)n < cap) snprintf(out + n, cap - (size_t)n, "_c%d", (int)(m % nch));
}

// rate/lo/hi (h*w): error rate of map m at every position and its Wilson 95% interval.
static void map_rates(const fmap_result *r, int64_t m, double *rate, double *lo, double *hi) {
  const sr_fourier_cells *c = r->cells;
  for (int64_t p = 0; p < r->h * r->w; p++) {
    const uint8_t *e = r->err + (m * c->n + c->of[p]) * r->n;
    int64_t k = 0;
    for (int64_t i = 0; i < r->n; i++) k += e[i];
    rate[p] = (double)k / (double)r->n;
    sr_wilson_ci(k, r->n, &lo[p], &hi[p]);
    // sr_wilson_ci's bounds at k = 0 and k = n are 0 and 1 only up to rounding (1e-17 off): pin them
    lo[p] = k == 0 ? 0 : lo[p];
    hi[p] = k == r->n ? 1 : hi[p];
  }
}

static cJSON *matrix(const double *v, int64_t h, int64_t w) {
  cJSON *a = cJSON_CreateArray();
  for (int64_t y = 0; y < h; y++) cJSON_AddItemToArray(a, cJSON_CreateDoubleArray(v + y * w, (int)w));
  return a;
}

static cJSON *freqs(int64_t n) {
  cJSON *a = cJSON_CreateArray();
  for (int64_t k = 0; k < n; k++)
    cJSON_AddItemToArray(a, cJSON_CreateNumber((double)(k - n / 2) / (double)n));
  return a;
}

static cJSON *i64s(const int64_t *v, int64_t n) {
  cJSON *a = cJSON_CreateArray();
  for (int64_t i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber((double)v[i]));
  return a;
}

// Band means with bootstrap CIs (resampling images; stream 100 + m of the seed) and the per-image counts.
static sr_status map_bands(const fmap_result *r, int64_t m, cJSON *j, sr_err *err) {
  int64_t *count = sr_calloc((size_t)(SR_FOURIER_NBANDS * r->n), sizeof(int64_t)), pixels[SR_FOURIER_NBANDS];
  if (!count) return sr_fail(err, SR_ERR_NOMEM, "band counts");
  sr_fourier_band_counts(r->cells, r->err + m * r->cells->n * r->n, r->n, count, pixels);
  sr_rng rng;
  sr_rng_seed(&rng, r->o.seed, 100 + (uint64_t)m);
  cJSON *bands = cJSON_AddObjectToObject(j, "bands"), *img = cJSON_AddObjectToObject(j, "image_band_errors");
  sr_status st = SR_OK;
  for (int b = 0; b < SR_FOURIER_NBANDS && !st; b++) {
    sr_ci ci = {.estimate = NAN, .lo = NAN, .hi = NAN};  // a band without positions (planes under 8x8): nulls
    if (pixels[b])
      st = sr_fourier_band_ci(count + b * r->n, NULL, r->n, pixels[b],
                              &(sr_boot_opts){.b = r->b, .level = 0.95, .rng = &rng}, &ci, err);
    if (st) break;
    cJSON *o = cJSON_AddObjectToObject(bands, sr_fourier_band_name(b));
    cJSON_AddNumberToObject(o, "mean", ci.estimate);
    cJSON_AddNumberToObject(o, "ci_low", ci.lo);
    cJSON_AddNumberToObject(o, "ci_high", ci.hi);
    cJSON_AddNumberToObject(o, "pixels", (double)pixels[b]);
    cJSON_AddItemToObject(img, sr_fourier_band_name(b), i64s(count + b * r->n, r->n));
  }
  sr_free(count);
  return st;
}

static sr_status map_figure(const fmap_result *r, const char *base, const double *rate, const char *title,
                            sr_err *err) {
  sr_plot_opts po = {.title = title, .xlabel = "fx (cycles/pixel)", .ylabel = "fy (cycles/pixel)"};
  sr_map_opts mo = {.vmin = 0, .vmax = 0, .cbar_label = "error rate", .cmap = SR_CMAP_SEQUENTIAL};
  mo.x0 = ((double)-(r->w / 2) - 0.5) / (double)r->w;
  mo.x1 = ((double)(r->w - r->w / 2) - 0.5) / (double)r->w;
  mo.y0 = ((double)-(r->h / 2) - 0.5) / (double)r->h;
  mo.y1 = ((double)(r->h - r->h / 2) - 0.5) / (double)r->h;
  const double *maps[1] = {rate};
  return sr_plot_maps(base, &po, &mo, &(sr_maps){.maps = maps, .titles = NULL, .n = 1, .h = r->h, .w = r->w},
                      err);
}

// One map: its .npy, its figure and its JSON entry.
static sr_status write_map(const fmap_result *r, int64_t m, cJSON *maps, double *buf, sr_err *err) {
  int64_t hw = r->h * r->w, shape[2] = {r->h, r->w};
  double *rate = buf, *lo = buf + hw, *hi = buf + 2 * hw;
  map_rates(r, m, rate, lo, hi);
  int nch = r->o.each ? r->c : 1;
  char name[128], path[4400], title[256], chan[32];
  fmap_name(r, m, name, sizeof name);
  if (r->o.each)
    snprintf(chan, sizeof chan, "channel %d", (int)(m % nch));
  else
    snprintf(chan, sizeof chan, "all channels");
  snprintf(path, sizeof path, "%s/%s.npy", r->out, name);
  sr_status st = sr_npy_write(path, SR_F64, 2, shape, rate, err);
  snprintf(title, sizeof title, "Fourier sensitivity, eps %g, %s, %lld images", r->o.eps[m / nch], chan,
           (long long)r->n);
  snprintf(path, sizeof path, "%s/%s", r->out, name);
  if (!st) st = map_figure(r, path, rate, title, err);
  if (st) return st;
  cJSON *j = cJSON_CreateObject();
  cJSON_AddItemToArray(maps, j);
  cJSON_AddNumberToObject(j, "eps", r->o.eps[m / nch]);
  if (r->o.each)
    cJSON_AddNumberToObject(j, "channel", (double)(m % nch));
  else
    cJSON_AddStringToObject(j, "channel", "all");
  snprintf(path, sizeof path, "%s.npy", name);
  cJSON_AddStringToObject(j, "npy", path);
  cJSON_AddStringToObject(j, "figure", name);
  double mean = 0;
  for (int64_t p = 0; p < hw; p++) mean += rate[p] / (double)hw;
  cJSON_AddNumberToObject(j, "mean_error", mean);
  cJSON_AddItemToObject(j, "error", matrix(rate, r->h, r->w));
  cJSON_AddItemToObject(j, "ci_low", matrix(lo, r->h, r->w));
  cJSON_AddItemToObject(j, "ci_high", matrix(hi, r->h, r->w));
  return map_bands(r, m, j, err);
}

static cJSON *settings(const fmap_result *r) {
  cJSON *s = cJSON_CreateObject();
  cJSON_AddStringToObject(s, "run", r->run);
  cJSON_AddStringToObject(s, "checkpoint", r->checkpoint);
  cJSON_AddStringToObject(s, "dataset", r->dataset);
  cJSON_AddStringToObject(s, "split", r->split);
  cJSON_AddNumberToObject(s, "images", (double)r->n);
  cJSON_AddItemToObject(s, "eps", cJSON_CreateDoubleArray(r->o.eps, r->o.n_eps));
  cJSON_AddBoolToObject(s, "random_sign", r->o.random_sign);
  cJSON_AddNumberToObject(s, "seed", (double)r->o.seed);
  cJSON_AddStringToObject(s, "channels", r->o.each ? "each" : "all");
  cJSON_AddNumberToObject(s, "height", (double)r->h);
  cJSON_AddNumberToObject(s, "width", (double)r->w);
  cJSON_AddNumberToObject(s, "image_channels", r->c);
  cJSON_AddNumberToObject(s, "bootstrap_b", (double)r->b);
  cJSON_AddNumberToObject(s, "cells_computed", (double)r->cells->n);
  cJSON_AddNumberToObject(s, "ranks", r->ranks);
  cJSON_AddNumberToObject(s, "threads", r->threads);
  return s;
}

static cJSON *header(const fmap_result *r) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "kind", "fourier_map");
  cJSON_AddItemToObject(j, "settings", settings(r));
  cJSON *f = cJSON_AddObjectToObject(j, "frequency");
  cJSON_AddStringToObject(f, "convention",
                          "shifted index k -> (k - floor(n/2)) / n cycles/pixel; row = fy, column = fx");
  cJSON_AddItemToObject(f, "fy", freqs(r->h));
  cJSON_AddItemToObject(f, "fx", freqs(r->w));
  cJSON *b = cJSON_AddObjectToObject(j, "band_edges");
  cJSON_AddNumberToObject(b, "low_mid", SR_FOURIER_LOW_MID);
  cJSON_AddNumberToObject(b, "mid_high", SR_FOURIER_MID_HIGH);
  cJSON_AddNumberToObject(j, "clean_error", r->clean_error);
  cJSON_AddNumberToObject(j, "seconds", r->seconds);
  if (r->o.random_sign) {
    cJSON *s = cJSON_AddArrayToObject(j, "signs");
    for (int64_t i = 0; i < r->n; i++)
      cJSON_AddItemToArray(s, cJSON_CreateNumber(sr_fourier_sign(r->o.seed, i)));
  }
  return j;
}

sr_status fmap_write(const fmap_result *r, sr_err *err) {
  sr_status st = sr_mkdir_p(r->out, err);
  if (st) return st;
  double *buf = sr_calloc((size_t)(3 * r->h * r->w), sizeof(double));
  if (!buf) return sr_fail(err, SR_ERR_NOMEM, "Fourier map buffers");
  cJSON *j = header(r), *maps = cJSON_AddArrayToObject(j, "maps");
  for (int64_t m = 0; m < r->n_maps && !st; m++) st = write_map(r, m, maps, buf, err);
  sr_free(buf);
  char *text = st ? NULL : cJSON_Print(j);
  cJSON_Delete(j);
  if (st) return st;
  if (!text) return sr_fail(err, SR_ERR_NOMEM, "fourier_map.json: serialising");
  char path[4300];
  snprintf(path, sizeof path, "%s/fourier_map.json", r->out);
  st = sr_write_file_atomic(path, text, strlen(text), err);
  cJSON_free(text);
  return st;
}
