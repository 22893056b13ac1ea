// The report's figures. Each is skipped (not an error) when no run has the data; file names are generated
// (noise_0, ...) so run-provided strings never reach a path.
#include <math.h>
#include <string.h>

#include "report_internal.h"
#include "simreg/plot.h"

// Buffers for one figure's series, freed together.
typedef struct {
  double *p[4 * SR_PLOT_MAX_SERIES + 8];
  int n;
} bag;

static double *bag_alloc(bag *b, int64_t n) {
  if (b->n >= (int)(sizeof b->p / sizeof b->p[0])) return NULL;
  double *v = sr_alloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  if (v) b->p[b->n++] = v;
  return v;
}

static void bag_free(bag *b) {
  for (int i = 0; i < b->n; i++) sr_free(b->p[i]);
  b->n = 0;
}

sr_plot_opts sr_report_axes(const char *title, const char *xlabel, const char *ylabel) {
  return (sr_plot_opts){.title = title, .xlabel = xlabel, .ylabel = ylabel, .legend = 1};
}

static void out_base(char *out, size_t cap, const sr_report_opts *o, const char *name) {
  snprintf(out, cap, "%s/%s", o->out_dir, name);
}

// Series of (x[i], y[i]) with the NaN entries of y dropped; n = 0 when nothing is left.
static sr_status finite_series(bag *b, const double *x, const double *y, int64_t n, int64_t stride,
                               sr_series *s, sr_err *err) {
  double *xs = bag_alloc(b, n), *ys = bag_alloc(b, n);
  if (!xs || !ys) return sr_fail(err, SR_ERR_NOMEM, "report: cannot allocate a series");
  int64_t k = 0;
  for (int64_t i = 0; i < n; i++)
    if (isfinite(y[i * stride]) && isfinite(x[i])) {
      xs[k] = x[i];
      ys[k++] = y[i * stride];
    }
  s->x = xs;
  s->y = ys;
  s->n = k;
  return SR_OK;
}

static sr_status fig_curves(sr_report *rep, const sr_report_opts *o, int transfer, sr_err *err) {
  sr_names names;
  sr_report_curve_names(rep, transfer, &names);
  for (int k = 0; k < names.n; k++) {
    sr_series s[SR_REPORT_MAX_RUNS];
    int ns = 0;
    for (int r = 0; r < rep->nruns; r++) {
      const sr_curve *c = sr_run_curve(&rep->runs[r], transfer, names.name[k]);
      if (!c) continue;
      s[ns++] = (sr_series){.label = rep->runs[r].name,
                            .x = c->levels,
                            .y = c->acc,
                            .lo = c->lo,
                            .hi = c->hi,
                            .n = c->n,
                            .color = r,
                            .style = r % 4,
                            .marker = 1};
    }
    char title[160], file[64], base[4200];
    snprintf(title, sizeof title, "%s: %s", transfer ? "Transferred attack" : "Noise", names.name[k]);
    snprintf(file, sizeof file, "%s_%d", transfer ? "transfer" : "noise", k);
    out_base(base, sizeof base, o, file);
    sr_plot_opts po = {.title = title,
                       .xlabel = transfer ? "epsilon" : "strength",
                       .ylabel = "accuracy",
                       .legend = 1,
                       .ymin = 0,
                       .ymax = 1};
    sr_status st = sr_plot_lines(base, &po, s, ns, err);
    if (st) return st;
    sr_report_add_figure(rep, file, title);
  }
  return SR_OK;
}

static sr_status fig_boundary(sr_report *rep, const sr_report_opts *o, sr_err *err) {
  const char *cats[SR_REPORT_MAX_RUNS], *ser[1] = {"median"};
  double v[SR_REPORT_MAX_RUNS], lo[SR_REPORT_MAX_RUNS], hi[SR_REPORT_MAX_RUNS];
  int n = 0, all_ci = 1;
  for (int r = 0; r < rep->nruns; r++) {
    const sr_run *run = &rep->runs[r];
    if (!run->has_boundary) continue;
    cats[n] = run->name;
    v[n] = run->boundary.estimate;
    lo[n] = run->boundary.lo;
    hi[n] = run->boundary.hi;
    all_ci &= isfinite(lo[n]) && isfinite(hi[n]);
    n++;
  }
  if (!n) return SR_OK;
  char base[4200];
  out_base(base, sizeof base, o, "boundary_median");
  char btitle[96];
  snprintf(btitle, sizeof btitle, "%s: median with 95%% CI", sr_report_minimal_label(rep->minimal));
  sr_plot_opts po = {.title = btitle, .ylabel = "median ||delta||^2 / D"};
  sr_bars bars = {.categories = cats, .ncat = n, .series = ser, .nser = 1, .value = v};
  if (all_ci) {
    bars.lo = lo;
    bars.hi = hi;
  }
  sr_status st = sr_plot_bars_ci(base, &po, &bars, err);
  if (st == SR_ERR_ARG) {  // e.g. every median is zero: nothing to draw, say so
    sr_report_note(rep, "boundary figure skipped: %s", err->msg);
    return SR_OK;
  }
  if (!st)
    sr_report_add_figure(rep, "boundary_median",
                         "Minimal perturbations: median ||delta||^2/D per run, 95% bootstrap CI");
  return st;
}

// The log-power figures of report_spectra.c first, then the linear ones.
static sr_status fig_spectra(sr_report *rep, const sr_report_opts *o, sr_err *err) {
  sr_status st0 = sr_report_fig_spectra_db(rep, o, err);
  if (st0) return st0;
  const double *maps[SR_REPORT_MAX_RUNS];
  const char *titles[SR_REPORT_MAX_RUNS];
  sr_series rad[SR_REPORT_MAX_RUNS], cum[SR_REPORT_MAX_RUNS];
  double edges[SR_SPEC_NBINS + 1], cums[SR_REPORT_MAX_RUNS][SR_SPEC_NBINS + 1];
  double rx[SR_REPORT_MAX_RUNS][SR_SPEC_NBINS], ry[SR_REPORT_MAX_RUNS][SR_SPEC_NBINS];
  int n = 0, same = 1;
  const sr_spectrum *first = NULL;
  for (int r = 0; r < rep->nruns; r++) {
    const sr_run *run = &rep->runs[r];
    if (!run->has_spectrum) continue;
    const sr_spectrum *s = &run->spectrum;
    if (!first) first = s;
    same &= s->h == first->h && s->w == first->w;
    maps[n] = s->map;
    titles[n] = run->name;
    memcpy(edges, s->bin_edges, sizeof edges);
    cums[n][0] = 0;
    memcpy(cums[n] + 1, s->cumulative, sizeof s->cumulative);
    int nb = sr_spectrum_radial_points(s, rx[n], ry[n]);
    rad[n] = (sr_series){
        .label = run->name, .x = rx[n], .y = ry[n], .n = nb, .color = r, .style = r % 4, .marker = 1};
    cum[n] = (sr_series){
        .label = run->name, .x = edges, .y = cums[n], .n = SR_SPEC_NBINS + 1, .color = r, .style = r % 4};
    n++;
  }
  if (!n) return SR_OK;
  char base[4200];
  sr_status st = SR_OK;
  if (same) {
    int64_t h = first->h, w = first->w;
    sr_map_opts m = {.vmin = 0,
                     .vmax = 1,
                     .x0 = -0.5 - 0.5 / w,
                     .x1 = 0.5 - 0.5 / w,
                     .y0 = -0.5 - 0.5 / h,
                     .y1 = 0.5 - 0.5 / h,
                     .cbar_label = "normalized power",
                     .cmap = SR_CMAP_SEQUENTIAL};
    if (w % 2) {
      m.x0 = -0.5;
      m.x1 = 0.5;
    }  // odd sizes: cells centred on (k - w/2)/w
    if (h % 2) {
      m.y0 = -0.5;
      m.y1 = 0.5;
    }
    sr_plot_opts po = {
        .title = "Power spectra of minimal perturbations", .xlabel = "fx (cycles/pixel)", .ylabel = "fy"};
    out_base(base, sizeof base, o, "spectra_2d");
    st = sr_plot_maps(base, &po, &m, &(sr_maps){.maps = maps, .titles = titles, .n = n, .h = h, .w = w}, err);
    if (!st)
      sr_report_add_figure(
          rep, "spectra_2d",
          "Mean power spectrum |fftshift(fft2(delta))|^2, each normalized to [0,1], one colour scale");
  } else {
    sr_report_note(rep, "2D spectra not drawn side by side: the runs' perturbations have different sizes");
  }
  sr_plot_opts pr = sr_spectrum_axes(0, 1);
  out_base(base, sizeof base, o, "spectra_radial");
  if (!st) st = sr_plot_lines(base, &pr, rad, n, err);
  if (!st)
    sr_report_add_figure(rep, "spectra_radial", "Azimuthal mean power in 25 radial bins, max-normalized");
  sr_plot_opts pc = sr_spectrum_axes(1, 1);
  out_base(base, sizeof base, o, "spectra_cumulative");
  if (!st) st = sr_plot_lines(base, &pc, cum, n, err);
  if (!st)
    sr_report_add_figure(rep, "spectra_cumulative",
                         "Share of total power inside each radius (corners beyond 0.5 make up the rest)");
  return st;
}

// A training figure: file, title, y label, and the nf curves get(run, f) named fname[f] (NULL: one unnamed).
typedef struct train_fig {
  const char *file, *title, *ylabel;
  int nf;
  double *const *(*get)(const sr_run *, int);
  const char *const *fname;
} train_fig;

// One training figure: for each run with metrics, the figure's fields, one line style each.
static sr_status fig_training(sr_report *rep, const sr_report_opts *o, const train_fig *fig, sr_err *err) {
  const char *file = fig->file, *title = fig->title, *ylabel = fig->ylabel;
  const int nf = fig->nf;
  double *const *(*get)(const sr_run *, int) = fig->get;
  const char *const *fname = fig->fname;
  sr_series s[SR_PLOT_MAX_SERIES];
  char labels[SR_PLOT_MAX_SERIES][256];
  bag b = {0};
  int ns = 0;
  sr_status st = SR_OK;
  for (int r = 0; r < rep->nruns && !st; r++) {
    const sr_run *run = &rep->runs[r];
    if (!run->has_metrics) continue;
    for (int f = 0; f < nf && ns < SR_PLOT_MAX_SERIES && !st; f++) {
      const double *y = *get(run, f);
      st = finite_series(&b, run->epoch, y, run->n_epochs, 1, &s[ns], err);
      if (st || s[ns].n == 0) continue;
      snprintf(labels[ns], sizeof labels[ns], "%s%s%s", run->name, nf > 1 ? " " : "", nf > 1 ? fname[f] : "");
      s[ns].label = labels[ns], s[ns].color = r, s[ns].style = f, s[ns].marker = 0,
      s[ns].lo = s[ns].hi = NULL;
      ns++;
    }
  }
  if (!st && ns) {
    char base[4200];
    out_base(base, sizeof base, o, file);
    sr_plot_opts po = {.title = title, .xlabel = "epoch", .ylabel = ylabel, .legend = 1};
    st = sr_plot_lines(base, &po, s, ns, err);
    if (!st) sr_report_add_figure(rep, file, title);
  }
  bag_free(&b);
  return st;
}

static double *const *get_loss(const sr_run *r, int f) { return f ? &r->val_loss : &r->train_loss; }
static double *const *get_acc(const sr_run *r, int f) {
  return f == 0 ? &r->train_acc : f == 1 ? &r->val_acc : &r->test_acc;
}
static double *const *get_reg(const sr_run *r, int f) {
  (void)f;
  return &r->reg_loss;
}

static sr_status fig_gamma(sr_report *rep, const sr_report_opts *o, sr_err *err) {
  sr_series s[SR_PLOT_MAX_SERIES];
  char labels[SR_PLOT_MAX_SERIES][256];
  bag b = {0};
  int ns = 0;
  sr_status st = SR_OK;
  for (int r = 0; r < rep->nruns && !st; r++) {
    const sr_run *run = &rep->runs[r];
    for (int l = 0; l < run->n_gamma && ns < SR_PLOT_MAX_SERIES && !st; l++) {
      st = finite_series(&b, run->epoch, run->gamma + l, run->n_epochs, run->n_gamma, &s[ns], err);
      if (st || s[ns].n == 0) continue;
      snprintf(labels[ns], sizeof labels[ns], "%s: layer %d", run->name, l);
      s[ns].label = labels[ns], s[ns].color = l, s[ns].style = r % 4, s[ns].marker = 0,
      s[ns].lo = s[ns].hi = NULL;
      ns++;
    }
  }
  if (!st && ns) {
    char base[4200];
    out_base(base, sizeof base, o, "train_gamma");
    sr_plot_opts po = {
        .title = "Layer weights gamma = softmax(w)", .xlabel = "epoch", .ylabel = "gamma", .legend = 1};
    st = sr_plot_lines(base, &po, s, ns, err);
    if (!st) sr_report_add_figure(rep, "train_gamma", "Similarity layer weights gamma per epoch");
  }
  bag_free(&b);
  return st;
}

static sr_status fig_similarity(sr_report *rep, const sr_report_opts *o, sr_err *err) {
  for (int r = 0; r < rep->nruns; r++) {
    const sr_run *run = &rep->runs[r];
    if (!run->has_similarity) continue;
    int64_t k = run->sim_k;
    const double *maps[2] = {run->sim_target, run->sim_model};
    const char *titles[2] = {"target", "model"};
    char file[64], base[4200], title[256], cap[256];
    snprintf(file, sizeof file, "similarity_%d", r);
    snprintf(title, sizeof title, "%s: similarity matrices", run->name);
    out_base(base, sizeof base, o, file);
    sr_map_opts m = {
        .vmin = -1, .vmax = 1, .cmap = SR_CMAP_DIVERGING, .cbar_label = "similarity", .origin_top = 1};
    sr_plot_opts po = {.title = title, .xlabel = "image j", .ylabel = "image i"};
    sr_status st =
        sr_plot_maps(base, &po, &m, &(sr_maps){.maps = maps, .titles = titles, .n = 2, .h = k, .w = k}, err);
    if (st) return st;
    snprintf(cap, sizeof cap, "%s: target vs model similarity", run->name);
    sr_report_add_figure(rep, file, cap);
    // Off-diagonal values only: the diagonal is 1 by construction.
    double *off[2];
    int64_t n = k * (k - 1), cnt[2] = {n, n};
    off[0] = sr_alloc(sizeof(double) * (size_t)n);
    off[1] = sr_alloc(sizeof(double) * (size_t)n);
    if (!off[0] || !off[1]) st = sr_fail(err, SR_ERR_NOMEM, "report: cannot allocate similarity values");
    for (int t = 0; t < 2 && !st; t++) {
      int64_t q = 0;
      for (int64_t i = 0; i < k; i++)
        for (int64_t j = 0; j < k; j++)
          if (i != j) off[t][q++] = maps[t][i * k + j];
    }
    snprintf(file, sizeof file, "simhist_%d", r);
    snprintf(title, sizeof title, "%s: off-diagonal similarity values", run->name);
    out_base(base, sizeof base, o, file);
    sr_plot_opts ph = {.title = title, .xlabel = "similarity", .ylabel = "fraction of pairs", .legend = 1};
    if (!st)
      st = sr_plot_hist(
          base, &ph,
          &(sr_hist){.data = (const double *const *)off, .n = cnt, .labels = titles, .nsets = 2, .nbins = 40},
          err);
    sr_free(off[0]);
    sr_free(off[1]);
    if (st) return st;
    snprintf(cap, sizeof cap, "%s: distribution of target and model similarities", run->name);
    sr_report_add_figure(rep, file, cap);
  }
  return SR_OK;
}

static sr_status fig_corruptions(sr_report *rep, const sr_report_opts *o, sr_err *err) {
  sr_names groups;
  sr_report_groups(rep, &groups);
  sr_series s[SR_PLOT_MAX_SERIES];
  char labels[SR_PLOT_MAX_SERIES][256];
  double ys[SR_PLOT_MAX_SERIES][SR_REPORT_MAX_SEV];
  int ns = 0;
  for (int r = 0; r < rep->nruns; r++) {
    const sr_run *run = &rep->runs[r];
    for (int g = 0; g < groups.n && ns < SR_PLOT_MAX_SERIES; g++) {
      int k = 0;
      for (int v = 0; v < run->n_sev; v++) ys[ns][k++] = sr_run_group_acc(run, groups.name[g], v);
      if (k == 0 || !isfinite(ys[ns][0])) continue;
      snprintf(labels[ns], sizeof labels[ns], "%s: %s", run->name, groups.name[g]);
      s[ns] = (sr_series){.label = labels[ns],
                          .x = run->severities,
                          .y = ys[ns],
                          .n = k,
                          .color = r,
                          .style = g % 4,
                          .marker = 1};
      ns++;
    }
  }
  if (!ns) return SR_OK;
  char base[4200];
  out_base(base, sizeof base, o, "corruptions");
  sr_plot_opts po = {.title = "Corruption accuracy by group",
                     .xlabel = "severity",
                     .ylabel = "accuracy (mean over group)",
                     .legend = 1,
                     .ymin = 0,
                     .ymax = 1};
  sr_status st = sr_plot_lines(base, &po, s, ns, err);
  if (!st)
    sr_report_add_figure(rep, "corruptions",
                         "Corruption accuracy, averaged over each frequency group, by severity");
  return st;
}

// Median distance of the minimal-perturbation attack after the start and each tenth of its steps, log y.
static sr_status fig_convergence(sr_report *rep, const sr_report_opts *o, sr_err *err) {
  sr_series s[SR_REPORT_MAX_RUNS];
  double x[SR_REPORT_MAX_RUNS][11], y[SR_REPORT_MAX_RUNS][11];
  int ns = 0;
  for (int r = 0; r < rep->nruns; r++) {
    const sr_run *run = &rep->runs[r];
    if (!run->has_convergence) continue;
    int64_t n = 0;
    for (int k = 0; k < 11; k++)
      if (isfinite(run->conv_median[k]) && run->conv_median[k] > 0) {
        x[ns][n] = (double)run->conv_steps[k];
        y[ns][n] = run->conv_median[k];
        n++;
      }
    if (n < 2) continue;
    s[ns] = (sr_series){.label = run->name, .x = x[ns], .y = y[ns], .n = n, .color = r, .marker = 1};
    ns++;
  }
  if (!ns) return SR_OK;
  char base[4200], title[160];
  int hsj = !strcmp(rep->minimal, "hsj_l2");
  snprintf(title, sizeof title, "%s: median ||delta||^2/D during the attack",
           sr_report_minimal_label(rep->minimal));
  out_base(base, sizeof base, o, "attack_convergence");
  sr_plot_opts po = sr_report_axes(title, hsj ? "iteration" : "step", "median ||delta||^2 / D");
  po.logy = 1;
  sr_status st = sr_plot_lines(base, &po, s, ns, err);
  if (!st)
    sr_report_add_figure(
        rep, "attack_convergence",
        "Convergence of the minimal perturbations: median over images after each tenth of the steps "
        "(converged: the last 20% cut it by at most 5%)");
  return st;
}

sr_status sr_report_figures(sr_report *rep, const sr_report_opts *o, sr_err *err) {
  static const char *const loss_f[2] = {"train", "val"}, *const acc_f[3] = {"train", "val", "test"};
  sr_status st = fig_curves(rep, o, 0, err);
  if (!st) st = fig_curves(rep, o, 1, err);
  if (!st) st = fig_boundary(rep, o, err);
  if (!st) st = fig_convergence(rep, o, err);
  if (!st) {
    char base[4200];
    out_base(base, sizeof base, o, "min_over_attacks");
    st = sr_report_fig_min_over(rep, base, err);
  }
  if (!st) st = fig_spectra(rep, o, err);
  if (!st) st = fig_corruptions(rep, o, err);
  const train_fig training[3] = {
      {"train_loss", "Training loss", "cross-entropy", 2, get_loss, loss_f},
      {"train_acc", "Accuracy during training", "accuracy", 3, get_acc, acc_f},
      {"train_reg", "Similarity regularization loss", "reg loss", 1, get_reg, NULL}};
  for (int f = 0; f < 3 && !st; f++) st = fig_training(rep, o, &training[f], err);
  if (!st) st = fig_gamma(rep, o, err);
  if (!st) st = fig_similarity(rep, o, err);
  if (!st) st = sr_report_rsa_figures(rep, o, err);
  return st ? sr_err_context(err, "report figures") : SR_OK;
}
