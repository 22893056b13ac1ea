// The report's Fourier-sensitivity section: each run's fourier_map.json (simreg fourier-map), its maps side
// by side, the difference maps (run - first run), and per radial band the mean error with a bootstrap CI
// over images and the paired bootstrap CI of (run - first run), with the verdict rule of docs/REPORT.md.
#include "report_fourier.h"

#include <math.h>
#include <string.h>

#include "report_internal.h"
#include "run_json.h"
#include "simreg/plot.h"

static const char RULE[] =
    "Verdict per band, from the paired bootstrap CI (images resampled together) of the mean error of (run - "
    "first "
    "run): CI entirely below 0 -> \"supports\" (the run is less sensitive there), entirely above 0 -> "
    "\"contradicts\", otherwise \"inconclusive\".";

static const cJSON *item(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static sr_status bad(const char *path, const char *what, sr_err *err) {
  return sr_fail(err, SR_ERR_FORMAT, "%s: %s", path, what);
}

// The map entry to compare: the first with channel "all", else the first.
static const cJSON *pick_map(const cJSON *maps) {
  const cJSON *m;
  cJSON_ArrayForEach(m, maps) {
    const cJSON *c = item(m, "channel");
    if (cJSON_IsString(c) && !strcmp(c->valuestring, "all")) return m;
  }
  return cJSON_GetArrayItem(maps, 0);
}

static sr_status read_matrix(const cJSON *a, int64_t h, int64_t w, double *out, const char *path,
                             sr_err *err) {
  if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != h)
    return bad(path, "\"error\" is not an H x W array", err);
  for (int64_t y = 0; y < h; y++) {
    const cJSON *row = cJSON_GetArrayItem(a, (int)y);
    if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != w)
      return bad(path, "\"error\" row of the wrong size", err);
    for (int64_t x = 0; x < w; x++) {
      const cJSON *v = cJSON_GetArrayItem(row, (int)x);
      if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 1))
        return bad(path, "\"error\" holds a value outside [0, 1]", err);
      out[y * w + x] = v->valuedouble;
    }
  }
  return SR_OK;
}

static sr_status read_counts(const cJSON *m, sr_fourier_map *f, const char *path, sr_err *err) {
  const cJSON *img = item(m, "image_band_errors"), *bands = item(m, "bands");
  for (int b = 0; b < SR_FOURIER_NBANDS; b++) {
    const cJSON *a = item(img, sr_fourier_band_name(b)),
                *px = item(item(bands, sr_fourier_band_name(b)), "pixels");
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != f->n || !cJSON_IsNumber(px) || px->valuedouble < 0)
      return bad(path, "band counts missing or of the wrong length", err);
    f->pixels[b] = (int64_t)px->valuedouble;
    f->count[b] = sr_calloc((size_t)f->n, sizeof(int64_t));
    if (!f->count[b]) return sr_fail(err, SR_ERR_NOMEM, "%s: band counts", path);
    for (int64_t i = 0; i < f->n; i++) {
      const cJSON *v = cJSON_GetArrayItem(a, (int)i);
      if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > (double)f->pixels[b])
        return bad(path, "a band count is outside [0, pixels]", err);
      f->count[b][i] = (int64_t)v->valuedouble;
    }
  }
  return SR_OK;
}

static sr_status parse(const cJSON *j, sr_fourier_map *f, sr_err *err) {
  const cJSON *s = item(j, "settings"), *maps = item(j, "maps");
  const cJSON *n = item(s, "images"), *h = item(s, "height"), *w = item(s, "width"), *sd = item(s, "seed");
  if (!cJSON_IsObject(s) || !cJSON_IsNumber(n) || !cJSON_IsNumber(h) || !cJSON_IsNumber(w) ||
      !cJSON_IsArray(maps) || !cJSON_GetArraySize(maps) || n->valuedouble < 1 || h->valuedouble < 2 ||
      w->valuedouble < 2 || h->valuedouble * w->valuedouble > 1e7)
    return bad(f->path, "not a fourier_map.json (settings.images/height/width, maps)", err);
  f->n = (int64_t)n->valuedouble;
  f->h = (int64_t)h->valuedouble;
  f->w = (int64_t)w->valuedouble;
  f->random_sign = cJSON_IsTrue(item(s, "random_sign"));
  f->seed = cJSON_IsNumber(sd) ? sd->valuedouble : 0;
  const cJSON *ds = item(s, "dataset"), *m = pick_map(maps), *eps = item(m, "eps"), *ch = item(m, "channel");
  snprintf(f->dataset, sizeof f->dataset, "%s", cJSON_IsString(ds) ? ds->valuestring : "?");
  if (!cJSON_IsNumber(eps)) return bad(f->path, "map without eps", err);
  f->eps = eps->valuedouble;
  if (cJSON_IsString(ch))
    snprintf(f->channel, sizeof f->channel, "%s", ch->valuestring);
  else
    snprintf(f->channel, sizeof f->channel, "%d", cJSON_IsNumber(ch) ? (int)ch->valuedouble : -1);
  f->map = sr_calloc((size_t)(f->h * f->w), sizeof(double));
  if (!f->map) return sr_fail(err, SR_ERR_NOMEM, "%s: map", f->path);
  sr_status st = read_matrix(item(m, "error"), f->h, f->w, f->map, f->path, err);
  return st ? st : read_counts(m, f, f->path, err);
}

static sr_status load(const char *dir, sr_fourier_map *f, sr_err *err) {
  const char *tries[2] = {"%s/fourier_map.json", "%s/fourier-map/fourier_map.json"};
  for (int t = 0; t < 2; t++) {
    snprintf(f->path, sizeof f->path, tries[t], dir);
    cJSON *j;
    int missing;
    sr_status st = sr_json_load(f->path, &j, &missing, err);
    if (st) return st;
    if (missing) continue;
    st = parse(j, f, err);
    cJSON_Delete(j);
    f->has = !st;
    return st;
  }
  return SR_OK;
}

static int same_setting(const sr_fourier_map *a, const sr_fourier_map *b) {
  return a->n == b->n && a->h == b->h && a->w == b->w && a->eps == b->eps &&
         a->random_sign == b->random_sign && (!a->random_sign || a->seed == b->seed) &&
         !strcmp(a->dataset, b->dataset) && !strcmp(a->channel, b->channel);
}

static sr_status analyse(sr_report *rep, const sr_report_opts *o, sr_err *err) {
  struct sr_fourier_report *fr = rep->fourier;
  sr_fourier_map *base = &fr->run[0];
  for (int r = 0; r < rep->nruns; r++) {
    sr_fourier_map *f = &fr->run[r];
    if (!f->has) continue;
    for (int b = 0; b < SR_FOURIER_NBANDS; b++) {
      if (!f->pixels[b]) continue;  // small planes: a band without positions (no CI, shown as empty)
      sr_rng rng;
      sr_rng_seed(&rng, o->seed, 1000 + 10 * (uint64_t)r + (uint64_t)b);
      sr_status st = sr_fourier_band_ci(f->count[b], NULL, f->n, f->pixels[b],
                                        &(sr_boot_opts){.b = o->bootstrap_b, .level = 0.95, .rng = &rng},
                                        &f->band[b], err);
      if (st) return sr_err_context(err, "%s", f->path);
    }
    f->paired = r > 0 && base->has && same_setting(base, f);
    if (r > 0 && base->has && !f->paired)
      sr_report_note(rep,
                     "%s: Fourier map not compared with %s (images, eps, signs, dataset or channel differ)",
                     rep->runs[r].name, rep->runs[0].name);
    for (int b = 0; b < SR_FOURIER_NBANDS && f->paired; b++) {
      if (!f->pixels[b]) continue;
      sr_rng rng;
      sr_rng_seed(&rng, o->seed, 2000 + 10 * (uint64_t)r + (uint64_t)b);
      sr_status st = sr_fourier_band_ci(f->count[b], base->count[b], f->n, f->pixels[b],
                                        &(sr_boot_opts){.b = o->bootstrap_b, .level = 0.95, .rng = &rng},
                                        &f->diff[b], err);
      if (st) return sr_err_context(err, "%s", f->path);
    }
  }
  return SR_OK;
}

static void axes(const sr_fourier_map *f, sr_map_opts *mo) {
  mo->x0 = ((double)-(f->w / 2) - 0.5) / (double)f->w;
  mo->x1 = ((double)(f->w - f->w / 2) - 0.5) / (double)f->w;
  mo->y0 = ((double)-(f->h / 2) - 0.5) / (double)f->h;
  mo->y1 = ((double)(f->h - f->h / 2) - 0.5) / (double)f->h;
}

static sr_status figures(sr_report *rep, const sr_report_opts *o, sr_err *err) {
  struct sr_fourier_report *fr = rep->fourier;
  const double *maps[SR_PLOT_MAX_MAPS], *diffs[SR_PLOT_MAX_MAPS];
  const char *titles[SR_PLOT_MAX_MAPS], *dtitles[SR_PLOT_MAX_MAPS];
  double *dbuf[SR_PLOT_MAX_MAPS] = {0};
  int nm = 0, nd = 0, h0 = -1;
  for (int r = 0; r < rep->nruns && nm < SR_PLOT_MAX_MAPS; r++) {
    const sr_fourier_map *f = &fr->run[r];
    if (!f->has || (h0 >= 0 && !same_setting(&fr->run[h0], f))) continue;
    if (h0 < 0) h0 = r;
    maps[nm] = f->map;
    titles[nm++] = rep->runs[r].name;
    if (!f->paired) continue;
    dbuf[nd] = sr_calloc((size_t)(f->h * f->w), sizeof(double));
    if (!dbuf[nd]) break;
    for (int64_t p = 0; p < f->h * f->w; p++) dbuf[nd][p] = f->map[p] - fr->run[0].map[p];
    diffs[nd] = dbuf[nd];
    dtitles[nd++] = rep->runs[r].name;
  }
  const sr_fourier_map *f = &fr->run[h0];
  char base[4200], title[160];
  sr_plot_opts po = {.title = title, .xlabel = "fx (cycles/pixel)", .ylabel = "fy (cycles/pixel)"};
  sr_map_opts mo = {.cbar_label = "error rate", .cmap = SR_CMAP_SEQUENTIAL};
  axes(f, &mo);
  snprintf(title, sizeof title, "Fourier sensitivity (error rate), eps %g, %lld images", f->eps,
           (long long)f->n);
  snprintf(base, sizeof base, "%s/fourier_maps", o->out_dir);
  sr_status st = sr_plot_maps(base, &po, &mo,
                              &(sr_maps){.maps = maps, .titles = titles, .n = nm, .h = f->h, .w = f->w}, err);
  if (!st) sr_report_add_figure(rep, "fourier_maps", title);
  if (!st && nd) {
    mo.cmap = SR_CMAP_DIVERGING;
    mo.cbar_label = "error difference";
    snprintf(title, sizeof title, "Fourier sensitivity: run - %.80s (negative: less error)",
             rep->runs[0].name);
    snprintf(base, sizeof base, "%s/fourier_diff", o->out_dir);
    st = sr_plot_maps(base, &po, &mo,
                      &(sr_maps){.maps = diffs, .titles = dtitles, .n = nd, .h = f->h, .w = f->w}, err);
    if (!st) sr_report_add_figure(rep, "fourier_diff", title);
  }
  for (int i = 0; i < nd; i++) sr_free(dbuf[i]);
  return st;
}

sr_status sr_report_fourier(sr_report *rep, const sr_report_opts *o, sr_err *err) {
  rep->fourier = sr_calloc(1, sizeof *rep->fourier);
  if (!rep->fourier) return sr_fail(err, SR_ERR_NOMEM, "report: Fourier section");
  sr_status st = SR_OK;
  for (int r = 0; r < rep->nruns && !st; r++) {
    st = load(rep->runs[r].dir, &rep->fourier->run[r], err);
    rep->fourier->count += rep->fourier->run[r].has;
  }
  if (!st && !rep->fourier->count) {
    sr_report_fourier_free(rep);
    return SR_OK;
  }
  if (!st) st = analyse(rep, o, err);
  if (!st) st = figures(rep, o, err);
  return st;
}

void sr_report_fourier_free(sr_report *rep) {
  if (!rep->fourier) return;
  for (int r = 0; r < SR_REPORT_MAX_RUNS; r++) {
    sr_free(rep->fourier->run[r].map);
    for (int b = 0; b < SR_FOURIER_NBANDS; b++) sr_free(rep->fourier->run[r].count[b]);
  }
  sr_free(rep->fourier);
  rep->fourier = NULL;
}

// One table row per (run, band): cells written by `cell` in the caller's format.
typedef void (*row_fn)(FILE *f, const char *const *cells, int n);

static void rows(const sr_report *rep, FILE *out, row_fn row) {
  const struct sr_fourier_report *fr = rep->fourier;
  const char *head[5] = {"run", "band", "mean error [95% CI]", "run - first [95% CI, paired]", "verdict"};
  row(out, head, 5);
  for (int r = 0; r < rep->nruns; r++) {
    const sr_fourier_map *f = &fr->run[r];
    if (!f->has) continue;
    for (int b = 0; b < SR_FOURIER_NBANDS; b++) {
      char mean[96], diff[96] = "-", band[64];
      snprintf(band, sizeof band, "%s (%lld px)", sr_fourier_band_name(b), (long long)f->pixels[b]);
      snprintf(mean, sizeof mean, "%.4f [%.4f, %.4f]", f->band[b].estimate, f->band[b].lo, f->band[b].hi);
      if (f->paired)
        snprintf(diff, sizeof diff, "%+.4f [%+.4f, %+.4f]", f->diff[b].estimate, f->diff[b].lo,
                 f->diff[b].hi);
      int cmp = f->paired && f->pixels[b];
      if (!f->pixels[b]) {
        snprintf(mean, sizeof mean, "-");
        snprintf(diff, sizeof diff, "-");
      }
      const char *cells[5] = {rep->runs[r].name, band, mean, diff,
                              cmp ? sr_fourier_verdict(&f->diff[b]) : "-"};
      row(out, cells, 5);
    }
  }
}

static void md_row(FILE *f, const char *const *c, int n) {
  for (int i = 0; i < n; i++) {
    fputs("| ", f);
    for (const char *s = c[i]; *s; s++)
      fputs(*s == '|' ? "\\|" : (char[2]){*s, 0}, f);  // a '|' in a run name
    fputc(' ', f);
  }
  fputs("|\n", f);
  if (!strcmp(c[0], "run") && !strcmp(c[1], "band")) {
    for (int i = 0; i < n; i++) fputs("|---", f);
    fputs("|\n", f);
  }
}

static void html_row(FILE *f, const char *const *c, int n) {
  fputs("<tr>", f);
  for (int i = 0; i < n; i++) {
    char buf[512];
    sr_html_escape(buf, sizeof buf, c[i]);
    fprintf(f, "<td>%s</td>", buf);
  }
  fputs("</tr>\n", f);
}

static void settings_line(const sr_report *rep, char *buf, size_t cap) {
  const sr_fourier_map *f = NULL;
  for (int r = 0; r < rep->nruns && !f; r++)
    if (rep->fourier->run[r].has) f = &rep->fourier->run[r];
  snprintf(
      buf, cap,
      "Error rate under x + eps*s*basis(u,v) (simreg fourier-map; docs/SPECTRAL.md): eps %g, %lld %s "
      "images, channel %s, signs %s. Bands: low r < %g, mid %g <= r < %g, high r >= %g cycles/pixel (corners "
      "included).",
      f->eps, (long long)f->n, f->dataset, f->channel, f->random_sign ? "random" : "+1", SR_FOURIER_LOW_MID,
      SR_FOURIER_LOW_MID, SR_FOURIER_MID_HIGH, SR_FOURIER_MID_HIGH);
}

void sr_report_fourier_md(const sr_report *rep, FILE *f) {
  if (!rep->fourier) return;
  char buf[1024];
  settings_line(rep, buf, sizeof buf);
  fprintf(f, "\n## Fourier sensitivity\n\n%s %s\n\n", buf, RULE);
  rows(rep, f, md_row);
}

void sr_report_fourier_html(const sr_report *rep, FILE *f) {
  if (!rep->fourier) return;
  char buf[1024], esc[2048];
  settings_line(rep, buf, sizeof buf);
  sr_html_escape(esc, sizeof esc, buf);
  fprintf(f, "<h2>Fourier sensitivity</h2>\n<p>%s ", esc);
  sr_html_escape(esc, sizeof esc, RULE);
  fprintf(f, "%s</p>\n<div class=\"wide\"><table>\n", esc);
  rows(rep, f, html_row);
  fputs("</table></div>\n", f);
}

static cJSON *ci(const sr_ci *c) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "estimate", c->estimate);
  cJSON_AddNumberToObject(j, "ci_low", c->lo);
  cJSON_AddNumberToObject(j, "ci_high", c->hi);
  return j;
}

void sr_report_fourier_json(const sr_report *rep, cJSON *root) {
  if (!rep->fourier) return;
  cJSON *fj = cJSON_AddObjectToObject(root, "fourier");
  cJSON_AddStringToObject(fj, "rule", RULE);
  cJSON *runs = cJSON_AddArrayToObject(fj, "runs");
  for (int r = 0; r < rep->nruns; r++) {
    const sr_fourier_map *f = &rep->fourier->run[r];
    if (!f->has) continue;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToArray(runs, j);
    cJSON_AddStringToObject(j, "name", rep->runs[r].name);
    cJSON_AddStringToObject(j, "file", f->path);
    cJSON_AddNumberToObject(j, "eps", f->eps);
    cJSON_AddNumberToObject(j, "images", (double)f->n);
    cJSON *bands = cJSON_AddObjectToObject(j, "bands");
    for (int b = 0; b < SR_FOURIER_NBANDS; b++) {
      if (!f->pixels[b]) {
        cJSON_AddNullToObject(bands, sr_fourier_band_name(b));
        continue;
      }
      cJSON *bj = ci(&f->band[b]);
      cJSON_AddItemToObject(bands, sr_fourier_band_name(b), bj);
      if (!f->paired) continue;
      cJSON_AddItemToObject(bj, "minus_first", ci(&f->diff[b]));
      cJSON_AddStringToObject(bj, "verdict", sr_fourier_verdict(&f->diff[b]));
    }
  }
}
