// Files written by `simreg spectrum` for one perturbation set: JSON numbers, the maps as .npy, the figures
// (linear map, radial profile, cumulative power; log-power map and radial profile of the mean-removed
// spectrum).
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "report_internal.h"
#include "simreg/npy.h"
#include "simreg/plot.h"
#include "simreg/report.h"

#define FLOOR_DB (-300.0)  // dB of zero power (keeps every value finite)

sr_plot_opts sr_spectrum_axes(int cumulative, int legend) {
  sr_plot_opts o = {.xlabel = "normalized radius (cycles/pixel)", .legend = legend, .xmin = 0, .xmax = 0.5};
  o.title = cumulative ? "Cumulative proportion of power" : "Radial power profile";
  o.ylabel = cumulative ? "proportion of power" : "mean power (max = 1)";
  o.ymax = cumulative ? 1.02 : 1.05;
  return o;
}

cJSON *sr_radial_db_json(const sr_spectrum *s) {
  if (!s->has_ac) return cJSON_CreateNull();
  cJSON *a = cJSON_CreateArray();
  for (int k = 0; k < SR_SPEC_NBINS; k++)
    cJSON_AddItemToArray(a, s->bin_count_ac[k] && s->radial_ac[k] > 0
                                ? cJSON_CreateNumber(10 * log10(s->radial_ac[k]))
                                : cJSON_CreateNull());
  return a;
}

static cJSON *num_or_null(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }

// DC share, mean-removed share and profile (docs/REPORT.md lists the fields).
static void add_mean_removed(cJSON *j, const sr_spectrum *s, const sr_ci *dc, const sr_ci *hf_ac,
                             double peak_db) {
  cJSON_AddNumberToObject(j, "dc_share", s->dc_share);
  cJSON_AddItemToObject(j, "dc_ci_low", num_or_null(dc ? dc->lo : NAN));
  cJSON_AddItemToObject(j, "dc_ci_high", num_or_null(dc ? dc->hi : NAN));
  cJSON_AddItemToObject(j, "mean_removed_total_power", num_or_null(s->has_ac ? s->ac_total_power : NAN));
  cJSON_AddItemToObject(j, "hf_share_mean_removed", num_or_null(s->hf_share_ac));
  cJSON_AddItemToObject(j, "hf_mean_removed_ci_low", num_or_null(s->has_ac && hf_ac ? hf_ac->lo : NAN));
  cJSON_AddItemToObject(j, "hf_mean_removed_ci_high", num_or_null(s->has_ac && hf_ac ? hf_ac->hi : NAN));
  cJSON_AddItemToObject(j, "db_max", num_or_null(peak_db));
  cJSON_AddNumberToObject(j, "db_range", SR_SPEC_DB_RANGE);
  cJSON_AddItemToObject(j, "radial_db_mean_removed", sr_radial_db_json(s));
}

// The bootstrap intervals of a spectrum: high-frequency share, DC share, mean-removed high-frequency share.
typedef struct {
  const sr_ci *hf, *dc, *hf_ac;
} spec_cis;

static sr_status write_json(const sr_spectrum *s, const spec_cis *ci, double peak_db, const char *label,
                            const char *dir, sr_err *err) {
  const sr_ci *hf = ci->hf;
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "label", label);
  cJSON_AddNumberToObject(j, "images", (double)s->n);
  cJSON_AddNumberToObject(j, "height", (double)s->h);
  cJSON_AddNumberToObject(j, "width", (double)s->w);
  cJSON_AddNumberToObject(j, "total_power", s->total_power);
  cJSON_AddNumberToObject(j, "r0", s->r0);
  cJSON_AddNumberToObject(j, "hf_share", s->hf_share);
  cJSON_AddNumberToObject(j, "hf_ci_low", hf->lo);
  cJSON_AddNumberToObject(j, "hf_ci_high", hf->hi);
  cJSON_AddNumberToObject(j, "bootstrap_b", (double)hf->b);
  cJSON_AddNumberToObject(j, "corner_share", s->corner_share);
  cJSON_AddItemToObject(j, "bin_edges", cJSON_CreateDoubleArray(s->bin_edges, SR_SPEC_NBINS + 1));
  cJSON_AddItemToObject(j, "radial", cJSON_CreateDoubleArray(s->radial, SR_SPEC_NBINS));
  cJSON_AddItemToObject(j, "cumulative", cJSON_CreateDoubleArray(s->cumulative, SR_SPEC_NBINS));
  add_mean_removed(j, s, ci->dc, ci->hf_ac, peak_db);
  char *text = cJSON_Print(j);
  cJSON_Delete(j);
  if (!text) return sr_fail(err, SR_ERR_NOMEM, "spectrum.json: cannot serialize");
  char path[4200];
  snprintf(path, sizeof path, "%s/spectrum.json", dir);
  sr_afile f;
  sr_status st = sr_afile_open(&f, path, err);
  if (!st) {
    fchmod(fileno(f.fp), 0644);
    fputs(text, f.fp);
    fputc('\n', f.fp);
    st = sr_afile_commit(&f, err);
  }
  cJSON_free(text);
  return st;
}

// spectrum_map_db.npy and the figures spectrum_2d_db, spectrum_radial_db from the dB map `db` (H,W).
static sr_status write_db(const sr_spectrum *s, const double *db, double peak, const char *label,
                          const char *dir, sr_err *err) {
  char path[4200], title[256];
  snprintf(path, sizeof path, "%s/spectrum_map_db.npy", dir);
  int64_t shape[2] = {s->h, s->w};
  sr_status st = sr_npy_write(path, SR_F64, 2, shape, db, err);
  if (st) return st;
  const double *maps[1] = {db};
  const char *titles[1] = {label};
  sr_map_opts m = {.vmin = peak - SR_SPEC_DB_RANGE,
                   .vmax = peak,
                   .x0 = s->w % 2 ? -0.5 : -0.5 - 0.5 / s->w,
                   .x1 = s->w % 2 ? 0.5 : 0.5 - 0.5 / s->w,
                   .y0 = s->h % 2 ? -0.5 : -0.5 - 0.5 / s->h,
                   .y1 = s->h % 2 ? 0.5 : 0.5 - 0.5 / s->h,
                   .cbar_label = "dB re total power",
                   .cmap = SR_CMAP_SEQUENTIAL,
                   .mask_nan = 1};
  snprintf(title, sizeof title, "Log power, mean removed (DC %.1f%%, grey)", 100 * s->dc_share);
  sr_plot_opts pm = {.title = title, .xlabel = "fx (cycles/pixel)", .ylabel = "fy"};
  snprintf(path, sizeof path, "%s/spectrum_2d_db", dir);
  st = sr_plot_maps(path, &pm, &m, &(sr_maps){.maps = maps, .titles = titles, .n = 1, .h = s->h, .w = s->w},
                    err);
  double rx[SR_SPEC_NBINS], ry[SR_SPEC_NBINS], top = -INFINITY, fx[2] = {0, 0.5}, flat[2];
  int n = sr_spectrum_radial_db_points(s, FLOOR_DB, rx, ry);
  for (int k = 0; k < n; k++) top = fmax(top, ry[k]);
  for (int k = 0; k < n; k++) ry[k] = fmax(ry[k], top - 60);
  flat[0] = flat[1] = fmax(-10.0 * log10((double)(s->h * s->w - 1)), top - 60);
  sr_series rs[2] = {{.label = label, .x = rx, .y = ry, .n = n, .marker = 1},
                     {.label = "white noise", .x = fx, .y = flat, .n = 2, .color = 9, .style = 1}};
  sr_plot_opts pr = {.title = "Radial power profile (mean removed)",
                     .xlabel = "normalized radius (cycles/pixel)",
                     .ylabel = "dB re total power per frequency",
                     .legend = 1,
                     .xmin = 0,
                     .xmax = 0.5,
                     .ymin = top - 62,
                     .ymax = top + 3};
  snprintf(path, sizeof path, "%s/spectrum_radial_db", dir);
  if (!st) st = sr_plot_lines(path, &pr, rs, 2, err);
  return st;
}

sr_status sr_spectrum_write_outputs(const sr_spectrum *s, const sr_ci *hf, const sr_ci *dc,
                                    const sr_ci *hf_ac, const char *label, const char *dir, sr_err *err) {
  double *db = NULL, peak = NAN;
  sr_status st = SR_OK;
  if (s->has_ac) {
    db = sr_alloc(sizeof(double) * (size_t)(s->h * s->w));
    st = db ? sr_spectrum_db_map(s, FLOOR_DB, db, &peak, err)
            : sr_fail(err, SR_ERR_NOMEM, "spectrum: cannot allocate the dB map");
  }
  if (!st) st = sr_mkdir_p(dir, err);
  if (!st) st = write_json(s, &(spec_cis){.hf = hf, .dc = dc, .hf_ac = hf_ac}, peak, label, dir, err);
  if (!st && db) st = write_db(s, db, peak, label, dir, err);
  sr_free(db);
  if (st) return st;
  char path[4200], title[256];
  snprintf(path, sizeof path, "%s/spectrum_map.npy", dir);
  int64_t shape[2] = {s->h, s->w};
  if (!st) st = sr_npy_write(path, SR_F64, 2, shape, s->map, err);
  if (st) return st;
  const double *maps[1] = {s->map};
  const char *titles[1] = {label};
  sr_map_opts m = {.vmin = 0,
                   .vmax = 1,
                   .x0 = s->w % 2 ? -0.5 : -0.5 - 0.5 / s->w,
                   .x1 = s->w % 2 ? 0.5 : 0.5 - 0.5 / s->w,
                   .y0 = s->h % 2 ? -0.5 : -0.5 - 0.5 / s->h,
                   .y1 = s->h % 2 ? 0.5 : 0.5 - 0.5 / s->h,
                   .cbar_label = "normalized power",
                   .cmap = SR_CMAP_SEQUENTIAL};
  snprintf(title, sizeof title, "Power spectrum (%lld images)", (long long)s->n);
  sr_plot_opts pm = {.title = title, .xlabel = "fx (cycles/pixel)", .ylabel = "fy"};
  snprintf(path, sizeof path, "%s/spectrum_2d", dir);
  st = sr_plot_maps(path, &pm, &m, &(sr_maps){.maps = maps, .titles = titles, .n = 1, .h = s->h, .w = s->w},
                    err);
  double rx[SR_SPEC_NBINS], ry[SR_SPEC_NBINS], cum[SR_SPEC_NBINS + 1] = {0};
  for (int k = 0; k < SR_SPEC_NBINS; k++) cum[k + 1] = s->cumulative[k];
  sr_series rad = {.label = label, .x = rx, .y = ry, .n = sr_spectrum_radial_points(s, rx, ry), .marker = 1};
  sr_plot_opts pr = sr_spectrum_axes(0, 0);
  snprintf(path, sizeof path, "%s/spectrum_radial", dir);
  if (!st) st = sr_plot_lines(path, &pr, &rad, 1, err);
  sr_series cs = {.label = label, .x = s->bin_edges, .y = cum, .n = SR_SPEC_NBINS + 1};
  sr_plot_opts pc = sr_spectrum_axes(1, 0);
  snprintf(path, sizeof path, "%s/spectrum_cumulative", dir);
  if (!st) st = sr_plot_lines(path, &pc, &cs, 1, err);
  return st;
}
