// The readable view of the perturbation spectra (docs/REPORT.md, docs/SPECTRAL.md): DC share and
// mean-removed HF share with bootstrap CIs, HF share differences against the first run, the log-power (dB)
// maps of the mean-removed spectra with the DC pixel masked, their differences from the first run, and the
// radial profile in dB. The linear figures and fields of report_plots.c / report_write.c are left as they
// were.
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "report_internal.h"
#include "simreg/plot.h"

// Bootstrap streams: 2i and 2i+1 belong to run i's norms and HF share (report.c); these start above them.
#define STREAM_BASE (2 * SR_REPORT_MAX_RUNS + 48)
enum { STREAM_DC, STREAM_HF_AC, STREAM_HF_DIFF, STREAM_HF_AC_DIFF, STREAMS_PER_RUN };

#define FLOOR_DB         (-300.0)  // dB of zero power, so every value stays finite
#define RADIAL_SPAN_DB   60.0      // the radial dB figure shows this much below its top
#define DIFF_MIN_HALF_DB 3.0       // smallest half-range of the difference colour scale

static sr_rng stream(const sr_report_opts *o, int run, int which) {
  sr_rng rng;
  sr_rng_seed(&rng, o->seed, STREAM_BASE + (uint64_t)run * STREAMS_PER_RUN + (uint64_t)which);
  return rng;
}

sr_status sr_report_spectrum_cis(sr_report *rep, sr_run *r, int idx, const sr_report_opts *o, sr_err *err) {
  if (!r->has_spectrum) return SR_OK;
  sr_rng rng = stream(o, idx, STREAM_DC);
  sr_status st = sr_spectrum_share_ci(&r->spectrum, SR_SHARE_DC, o->bootstrap_b, 0.95, &rng, &r->dc, err);
  if (st) return sr_err_context(err, "%s: DC share", r->dir);
  if (!r->spectrum.has_ac) {
    r->hf_ac = (sr_ci){.estimate = NAN, .lo = NAN, .hi = NAN};
    sr_report_note(rep,
                   "%s: every perturbation is constant (all power in the DC term): no mean-removed spectrum",
                   r->name);
    return SR_OK;
  }
  rng = stream(o, idx, STREAM_HF_AC);
  st = sr_spectrum_share_ci(&r->spectrum, SR_SHARE_HF_AC, o->bootstrap_b, 0.95, &rng, &r->hf_ac, err);
  return st ? sr_err_context(err, "%s: mean-removed high-frequency share", r->dir) : SR_OK;
}

sr_status sr_report_spectrum_diffs(sr_report *rep, const sr_report_opts *o, sr_err *err) {
  const sr_run *ref = &rep->runs[0];
  int others = 0;
  for (int i = 1; i < rep->nruns; i++) others += rep->runs[i].has_spectrum;
  if (!others) return SR_OK;
  if (!ref->has_spectrum) {
    sr_report_note(rep, "HF share differences and difference maps need the first run's spectrum; %s has none",
                   ref->name);
    return SR_OK;
  }
  for (int i = 1; i < rep->nruns; i++) {
    const sr_run *r = &rep->runs[i];
    if (!r->has_spectrum) continue;
    sr_rng rng = stream(o, i, STREAM_HF_DIFF);
    sr_status st = sr_spectrum_share_diff_ci(&ref->spectrum, &r->spectrum, SR_SHARE_HF,
                                             &(sr_boot_opts){.b = o->bootstrap_b, .level = 0.95, .rng = &rng},
                                             &rep->hf_diff[i], err);
    if (st) return sr_err_context(err, "%s: HF share difference", r->dir);
    rep->has_hf_diff[i] = 1;
    if (!ref->spectrum.has_ac || !r->spectrum.has_ac) continue;
    rng = stream(o, i, STREAM_HF_AC_DIFF);
    st = sr_spectrum_share_diff_ci(&ref->spectrum, &r->spectrum, SR_SHARE_HF_AC,
                                   &(sr_boot_opts){.b = o->bootstrap_b, .level = 0.95, .rng = &rng},
                                   &rep->hf_ac_diff[i], err);
    if (st) return sr_err_context(err, "%s: mean-removed HF share difference", r->dir);
    rep->has_hf_ac_diff[i] = 1;
  }
  return SR_OK;
}

static void out_base(char *out, size_t cap, const sr_report_opts *o, const char *name) {
  snprintf(out, cap, "%s/%s", o->out_dir, name);
}

// Cell edges for a shifted spectrum axis of n frequencies: cells centred on (k - n/2)/n.
static void axis_edges(int64_t n, double *lo, double *hi) {
  *lo = n % 2 ? -0.5 : -0.5 - 0.5 / (double)n;
  *hi = n % 2 ? 0.5 : 0.5 - 0.5 / (double)n;
}

// Runs whose mean-removed spectra are drawn as maps: has_ac and the size of the first such run.
typedef struct {
  int run[SR_REPORT_MAX_RUNS];
  double *db[SR_REPORT_MAX_RUNS];  // (h,w) dB maps, owned
  int n, same;
  int64_t h, w;
  double peak;  // largest non-DC dB value over the maps
} db_maps;

static void db_maps_free(db_maps *d) {
  for (int i = 0; i < d->n; i++) sr_free(d->db[i]);
  d->n = 0;
}

static sr_status db_maps_make(const sr_report *rep, db_maps *d, sr_err *err) {
  memset(d, 0, sizeof *d);
  d->same = 1, d->peak = -INFINITY;
  for (int r = 0; r < rep->nruns; r++) {
    const sr_spectrum *s = &rep->runs[r].spectrum;
    if (!rep->runs[r].has_spectrum || !s->has_ac) continue;
    if (d->n == 0) {
      d->h = s->h;
      d->w = s->w;
    }
    if (s->h != d->h || s->w != d->w) {
      d->same = 0;
      continue;
    }
    double peak, *m = sr_alloc(sizeof(double) * (size_t)(s->h * s->w));
    if (!m) return sr_fail(err, SR_ERR_NOMEM, "report: cannot allocate a dB map");
    d->run[d->n] = r;
    d->db[d->n++] = m;
    sr_status st = sr_spectrum_db_map(s, FLOOR_DB, m, &peak, err);
    if (st) return st;
    if (peak > d->peak) d->peak = peak;
  }
  return SR_OK;
}

static sr_status fig_db_maps(sr_report *rep, const sr_report_opts *o, const db_maps *d, sr_err *err) {
  const double *maps[SR_REPORT_MAX_RUNS];
  const char *titles[SR_REPORT_MAX_RUNS];
  for (int i = 0; i < d->n; i++) {
    maps[i] = d->db[i];
    titles[i] = rep->runs[d->run[i]].name;
  }
  sr_map_opts m = {.vmin = d->peak - SR_SPEC_DB_RANGE,
                   .vmax = d->peak,
                   .cbar_label = "dB re total power",
                   .cmap = SR_CMAP_SEQUENTIAL,
                   .mask_nan = 1};
  axis_edges(d->w, &m.x0, &m.x1);
  axis_edges(d->h, &m.y0, &m.y1);
  sr_plot_opts po = {
      .title = "Log power of mean-removed perturbations", .xlabel = "fx (cycles/pixel)", .ylabel = "fy"};
  char base[4200];
  out_base(base, sizeof base, o, "spectra_2d_db");
  sr_status st = sr_plot_maps(
      base, &po, &m, &(sr_maps){.maps = maps, .titles = titles, .n = d->n, .h = d->h, .w = d->w}, err);
  if (!st)
    sr_report_add_figure(rep, "spectra_2d_db",
                         "10 log10(P/P_total) of the mean-removed spectra, shared range max-40 dB..max; DC "
                         "pixel masked (grey)");
  return st;
}

// dB(run) - dB(first run), each map floored at the 2D figure's bottom so that frequencies with (almost) no
// power in both runs read 0 rather than a difference of noise floors.
static sr_status fig_db_diff(sr_report *rep, const sr_report_opts *o, const db_maps *d, sr_err *err) {
  if (d->n < 2 || d->run[0] != 0) {
    sr_report_note(
        rep,
        "no spectrum difference map: it needs the first run and another run with mean-removed spectra "
        "of the same size");
    return SR_OK;
  }
  int64_t hw = d->h * d->w;
  double *buf = sr_alloc(sizeof(double) * (size_t)(hw * (d->n - 1))), lo = d->peak - SR_SPEC_DB_RANGE,
         half = 0;
  if (!buf) return sr_fail(err, SR_ERR_NOMEM, "report: cannot allocate difference maps");
  const double *maps[SR_REPORT_MAX_RUNS];
  const char *titles[SR_REPORT_MAX_RUNS];
  char names[SR_REPORT_MAX_RUNS][300];
  for (int i = 1; i < d->n; i++) {
    double *m = buf + (i - 1) * hw;
    for (int64_t k = 0; k < hw; k++) {
      m[k] = fmax(d->db[i][k], lo) - fmax(d->db[0][k], lo);  // NaN at DC stays NaN (masked)
      if (fabs(m[k]) > half) half = fabs(m[k]);
    }
    snprintf(names[i - 1], sizeof names[0], "%s - %s", rep->runs[d->run[i]].name, rep->runs[0].name);
    maps[i - 1] = m;
    titles[i - 1] = names[i - 1];
  }
  if (half < DIFF_MIN_HALF_DB) half = DIFF_MIN_HALF_DB;
  sr_map_opts m = {
      .vmin = -half, .vmax = half, .cbar_label = "dB difference", .cmap = SR_CMAP_DIVERGING, .mask_nan = 1};
  axis_edges(d->w, &m.x0, &m.x1);
  axis_edges(d->h, &m.y0, &m.y1);
  sr_plot_opts po = {.title = "Change in the distribution of power vs the first run",
                     .xlabel = "fx (cycles/pixel)",
                     .ylabel = "fy"};
  char base[4200];
  out_base(base, sizeof base, o, "spectra_2d_diff");
  sr_status st = sr_plot_maps(
      base, &po, &m, &(sr_maps){.maps = maps, .titles = titles, .n = d->n - 1, .h = d->h, .w = d->w}, err);
  sr_free(buf);
  if (!st)
    sr_report_add_figure(
        rep, "spectra_2d_diff",
        "dB(run) - dB(first run), each normalized to its own total power (values below max-40 dB "
        "set to it); DC masked (grey)");
  return st;
}

static sr_status fig_radial_db(sr_report *rep, const sr_report_opts *o, sr_err *err) {
  sr_series s[SR_REPORT_MAX_RUNS + 1];
  double rx[SR_REPORT_MAX_RUNS][SR_SPEC_NBINS], ry[SR_REPORT_MAX_RUNS][SR_SPEC_NBINS], top = -INFINITY;
  int n = 0, same = 1;
  int64_t h = 0, w = 0;
  for (int r = 0; r < rep->nruns; r++) {
    const sr_run *run = &rep->runs[r];
    if (!run->has_spectrum || !run->spectrum.has_ac) continue;
    if (n == 0) {
      h = run->spectrum.h;
      w = run->spectrum.w;
    }
    same &= run->spectrum.h == h && run->spectrum.w == w;
    int np_ = sr_spectrum_radial_db_points(&run->spectrum, FLOOR_DB, rx[n], ry[n]);
    for (int k = 0; k < np_; k++) top = fmax(top, ry[n][k]);
    s[n] = (sr_series){
        .label = run->name, .x = rx[n], .y = ry[n], .n = np_, .color = r, .style = r % 4, .marker = 1};
    n++;
  }
  if (!n) return SR_OK;
  double bottom = top - RADIAL_SPAN_DB, flat[2], fx[2] = {0, 0.5};
  for (int i = 0; i < n; i++)  // values below the shown range sit on its bottom edge
    for (int64_t k = 0; k < s[i].n; k++) ry[i][k] = fmax(ry[i][k], bottom);
  int ns = n;
  if (same) {  // white noise: every non-DC pixel carries 1/(HW-1) of the power
    flat[0] = flat[1] = fmax(-10.0 * log10((double)(h * w - 1)), bottom);
    s[ns++] = (sr_series){.label = "white noise", .x = fx, .y = flat, .n = 2, .color = 9, .style = 1};
  }
  sr_plot_opts po = {.title = "Radial power profile (mean removed)",
                     .xlabel = "normalized radius (cycles/pixel)",
                     .ylabel = "dB re total power per frequency",
                     .legend = 1,
                     .xmin = 0,
                     .xmax = 0.5,
                     .ymin = bottom - 2,
                     .ymax = top + 3};
  char base[4200];
  out_base(base, sizeof base, o, "spectra_radial_db");
  sr_status st = sr_plot_lines(base, &po, s, ns, err);
  if (!st)
    sr_report_add_figure(
        rep, "spectra_radial_db",
        "Azimuthal mean of the mean-removed power / its total, in dB (DC left out); dashed: white noise");
  return st;
}

sr_status sr_report_fig_spectra_db(sr_report *rep, const sr_report_opts *o, sr_err *err) {
  db_maps d;
  sr_status st = db_maps_make(rep, &d, err);
  if (!st && d.n && !d.same)
    sr_report_note(
        rep, "log-power maps and difference maps not drawn: the runs' perturbations have different sizes");
  if (!st && d.n && d.same) st = fig_db_maps(rep, o, &d, err);
  if (!st && d.n && d.same) st = fig_db_diff(rep, o, &d, err);
  db_maps_free(&d);
  if (!st) st = fig_radial_db(rep, o, err);
  return st;
}

static void add_ci(cJSON *j, const char *key, const sr_ci *c, const char *reference) {
  if (!c) {
    cJSON_AddNullToObject(j, key);
    return;
  }
  cJSON *o = cJSON_AddObjectToObject(j, key);
  cJSON_AddItemToObject(o, "estimate",
                        isfinite(c->estimate) ? cJSON_CreateNumber(c->estimate) : cJSON_CreateNull());
  cJSON_AddItemToObject(o, "ci_low", isfinite(c->lo) ? cJSON_CreateNumber(c->lo) : cJSON_CreateNull());
  cJSON_AddItemToObject(o, "ci_high", isfinite(c->hi) ? cJSON_CreateNumber(c->hi) : cJSON_CreateNull());
  if (reference) cJSON_AddStringToObject(o, "reference", reference);
}

void sr_report_spectrum_json(const sr_report *rep, int idx, struct cJSON *j) {
  const sr_run *r = &rep->runs[idx];
  const sr_spectrum *s = &r->spectrum;
  int ac = r->has_spectrum && s->has_ac;
  add_ci(j, "dc_share", r->has_spectrum ? &r->dc : NULL, NULL);
  add_ci(j, "hf_share_mean_removed", ac ? &r->hf_ac : NULL, NULL);
  add_ci(j, "hf_share_diff", rep->has_hf_diff[idx] ? &rep->hf_diff[idx] : NULL, rep->runs[0].name);
  add_ci(j, "hf_share_mean_removed_diff", rep->has_hf_ac_diff[idx] ? &rep->hf_ac_diff[idx] : NULL,
         rep->runs[0].name);
  cJSON_AddItemToObject(j, "radial_db_mean_removed", ac ? sr_radial_db_json(s) : cJSON_CreateNull());
}
