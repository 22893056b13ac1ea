// Files written by `simreg spectrum` for one perturbation set: JSON numbers, the map as .npy, three figures.
#include <cjson/cJSON.h>
#include <string.h>
#include <sys/stat.h>

#include "simreg/npy.h"
#include "simreg/plot.h"
#include "simreg/report.h"

static sr_status write_json(const sr_spectrum *s, const sr_ci *hf, const char *label, const char *dir, sr_err *err) {
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

sr_status sr_spectrum_write_outputs(const sr_spectrum *s, const sr_ci *hf, const char *label, const char *dir,
                                    sr_err *err) {
  sr_status st = sr_mkdir_p(dir, err);
  if (!st) st = write_json(s, hf, label, dir, err);
  char path[4200], title[256];
  snprintf(path, sizeof path, "%s/spectrum_map.npy", dir);
  int64_t shape[2] = {s->h, s->w};
  if (!st) st = sr_npy_write(path, SR_F64, 2, shape, s->map, err);
  if (st) return st;
  const double *maps[1] = {s->map};
  const char *titles[1] = {label};
  sr_map_opts m = {.vmin = 0, .vmax = 1, .x0 = s->w % 2 ? -0.5 : -0.5 - 0.5 / s->w, .x1 = s->w % 2 ? 0.5 : 0.5 - 0.5 / s->w,
                   .y0 = s->h % 2 ? -0.5 : -0.5 - 0.5 / s->h, .y1 = s->h % 2 ? 0.5 : 0.5 - 0.5 / s->h,
                   .cbar_label = "normalized power", .cmap = SR_CMAP_SEQUENTIAL};
  snprintf(title, sizeof title, "Power spectrum (%lld images)", (long long)s->n);
  sr_plot_opts pm = {.title = title, .xlabel = "fx (cycles/pixel)", .ylabel = "fy"};
  snprintf(path, sizeof path, "%s/spectrum_2d", dir);
  st = sr_plot_maps(path, &pm, &m, maps, titles, 1, s->h, s->w, err);
  double rx[SR_SPEC_NBINS], ry[SR_SPEC_NBINS], cum[SR_SPEC_NBINS + 1] = {0};
  for (int k = 0; k < SR_SPEC_NBINS; k++) cum[k + 1] = s->cumulative[k];
  sr_series rad = {.label = label, .x = rx, .y = ry, .n = sr_spectrum_radial_points(s, rx, ry), .marker = 1};
  sr_plot_opts pr = {.title = "Radial power profile", .xlabel = "normalized radius (cycles/pixel)",
                     .ylabel = "mean power (max = 1)", .xmin = 0, .xmax = 0.5, .ymin = 0, .ymax = 1.05};
  snprintf(path, sizeof path, "%s/spectrum_radial", dir);
  if (!st) st = sr_plot_lines(path, &pr, &rad, 1, err);
  sr_series cs = {.label = label, .x = s->bin_edges, .y = cum, .n = SR_SPEC_NBINS + 1};
  sr_plot_opts pc = {.title = "Cumulative proportion of power", .xlabel = "normalized radius (cycles/pixel)",
                     .ylabel = "proportion of power", .xmin = 0, .xmax = 0.5, .ymin = 0, .ymax = 1.02};
  snprintf(path, sizeof path, "%s/spectrum_cumulative", dir);
  if (!st) st = sr_plot_lines(path, &pc, &cs, 1, err);
  return st;
}
