// Every pair of sources: point estimates on all pairs, image-bootstrap CIs and Mantel p-values for the
// pairs asked for, reusing the standardized pair matrices (no similarity is recomputed).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rsa_internal.h"
#include "simreg/stats.h"

typedef struct {
  int k;
  int64_t n;
  const sr_rsa_opts *o;
  sr_rsa_ranks *ranks;  // (k)
  float **zp, **zr;     // (k) standardized values / midranks, n x n each
  sr_rsa_pair *pairs;
  sr_rsa_timing *t;
} cmp_ctx;

static int64_t pair_index(int k, int a, int b) {  // (a, b), a < b, in the order (0,1), (0,2), ...
  return (int64_t)a * (2 * k - a - 1) / 2 + (b - a - 1);
}

static int wants_resampling(const cmp_ctx *c, const int *is_target, int a, int b) {
  return c->o->all_pairs || is_target[a] || is_target[b];
}

// Ranks, summary and both standardized matrices of source s (independent of every other source).
static sr_status prepare_one(cmp_ctx *c, const float *S, int s, sr_rsa_source_info *info, sr_err *err) {
  const size_t nn = (size_t)c->n * (size_t)c->n;
  const int64_t m = sr_rsa_pairs(c->n);
  sr_status st = sr_rsa_rank(S, c->n, &c->ranks[s], err);
  if (st) return st;
  c->zp[s] = sr_rsa_big_alloc(sizeof(float) * nn);
  c->zr[s] = sr_rsa_big_alloc(sizeof(float) * nn);
  if (!c->zp[s] || !c->zr[s])
    return sr_fail(err, SR_ERR_NOMEM, "out of memory for the standardized matrices");
  double mean = 0, ss = 0;
  for (int64_t i = 0; i < c->n; i++)
    for (int64_t j = i + 1; j < c->n; j++) mean += S[(size_t)i * (size_t)c->n + (size_t)j];
  mean /= (double)m;
  for (int64_t i = 0; i < c->n; i++)
    for (int64_t j = i + 1; j < c->n; j++) {
      double v = S[(size_t)i * (size_t)c->n + (size_t)j] - mean;
      ss += v * v;
    }
  *info = (sr_rsa_source_info){.n_distinct = c->ranks[s].n_distinct,
                               .tied_pairs = c->ranks[s].tied_pairs,
                               .tie_fraction = (double)c->ranks[s].tied_pairs / (double)m,
                               .mean = mean,
                               .sd = sqrt(ss / (double)m)};
  st = sr_rsa_standardize(S, c->n, c->zp[s], err);
  return st ? st : sr_rsa_standardize_ranks(&c->ranks[s], c->n, c->zr[s], err);
}

// First failure of a parallel loop (lowest index) into err.
static sr_status first_failure(const sr_status *st, const sr_err *errs, int n, const char *what,
                               sr_err *err) {
  for (int q = 0; q < n; q++)
    if (st[q]) {
      if (err) *err = errs[q];
      return sr_err_context(err, "%s %d", what, q + 1);
    }
  return SR_OK;
}

// Sources are independent: two at a time (OpenMP), each single-threaded.
static sr_status prepare_sources(cmp_ctx *c, const float *const *S, sr_rsa_source_info *info, sr_err *err) {
  sr_status *st = calloc((size_t)c->k, sizeof *st);
  sr_err *errs = calloc((size_t)c->k, sizeof *errs);
  if (!st || !errs) return free(st), free(errs), sr_fail(err, SR_ERR_NOMEM, "source status");
  const double t0 = sr_now();
#pragma omp parallel for schedule(dynamic, 1)
  for (int s = 0; s < c->k; s++) st[s] = prepare_one(c, S[s], s, &info[s], &errs[s]);
  c->t->rank = sr_now() - t0;  // ranks and standardized matrices together
  sr_status r = first_failure(st, errs, c->k, "source", err);
  free(st);
  free(errs);
  return r;
}

static int wants_kendall(const cmp_ctx *c, const sr_rsa_source_info *info, int a, int b) {
  return c->o->kendall_all || info[a].tie_fraction > 0.5 || info[b].tie_fraction > 0.5;
}

// Pearson, Spearman and (where asked) Kendall of every pair; pairs are independent (OpenMP over pairs).
static sr_status point_estimates(cmp_ctx *c, const float *const *S, const sr_rsa_source_info *info,
                                 sr_err *err) {
  const int np = c->k * (c->k - 1) / 2;
  sr_status *st = calloc((size_t)np, sizeof *st);
  sr_err *errs = calloc((size_t)np, sizeof *errs);
  if (!st || !errs) return free(st), free(errs), sr_fail(err, SR_ERR_NOMEM, "pair status");
  for (int a = 0; a < c->k; a++)
    for (int b = a + 1; b < c->k; b++)
      c->pairs[pair_index(c->k, a, b)] = (sr_rsa_pair){.a = a, .b = b};  // flags 0
  const double t0 = sr_now();
#pragma omp parallel for schedule(dynamic, 1)
  for (int q = 0; q < np; q++) {
    sr_rsa_pair *p = &c->pairs[q];
    const int a = p->a, b = p->b;
    p->pearson = (sr_rsa_stat){.r = sr_rsa_pearson(S[a], S[b], c->n), .lo = NAN, .hi = NAN, .p = NAN};
    p->spearman =
        (sr_rsa_stat){.r = sr_rsa_spearman(&c->ranks[a], &c->ranks[b]), .lo = NAN, .hi = NAN, .p = NAN};
    p->kendall = NAN;
    if (wants_kendall(c, info, a, b)) {
      st[q] = sr_rsa_kendall(&c->ranks[a], &c->ranks[b], &p->kendall, &errs[q]);
      p->has_kendall = st[q] == SR_OK;
    }
  }
  c->t->kendall = sr_now() - t0;  // all point estimates, Kendall's included
  sr_status r = first_failure(st, errs, np, "pair", err);
  free(st);
  free(errs);
  return r;
}

// Percentile CI of the finite values of r[0..b) into st.
static void percentile_ci(double *r, int64_t b, double level, sr_rsa_stat *st) {
  int64_t m = 0;
  for (int64_t q = 0; q < b; q++)
    if (isfinite(r[q])) r[m++] = r[q];
  st->boot_used = m;
  if (m < 2) return;
  qsort(r, (size_t)m, sizeof *r, sr_cmp_double);
  st->lo = sr_quantile_sorted(r, m, (1 - level) / 2);
  st->hi = sr_quantile_sorted(r, m, (1 + level) / 2);
}

// Bootstrap for one family (values or midranks): self quadratic forms per source, one product per pair.
static sr_status boot_family(cmp_ctx *c, const sr_rsa_boot *bt, float **z, const int *is_target, int ranks,
                             sr_err *err) {
  const size_t nn = (size_t)c->n * (size_t)c->n, B = (size_t)bt->b;
  double *s1 = sr_calloc((size_t)c->k * B, sizeof(double)), *s2 = sr_calloc((size_t)c->k * B, sizeof(double));
  double *sab = sr_alloc(sizeof(double) * B), *r = sr_alloc(sizeof(double) * B);
  float *prod = sr_rsa_big_alloc(sizeof(float) * nn);
  int *used = calloc((size_t)c->k, sizeof(int));
  sr_status st =
      s1 && s2 && sab && r && prod && used ? SR_OK : sr_fail(err, SR_ERR_NOMEM, "bootstrap buffers");
  for (int a = 0; a < c->k && !st; a++)
    for (int b = a + 1; b < c->k; b++) {
      used[a] |= wants_resampling(c, is_target, a, b);
      used[b] |= wants_resampling(c, is_target, a, b);
    }
  for (int s = 0; s < c->k && !st; s++) {
    if (!used[s]) continue;
    for (size_t q = 0; q < nn; q++) prod[q] = z[s][q] * z[s][q];
    st = sr_rsa_boot_quad(bt, z[s], s1 + (size_t)s * B, err);
    if (!st) st = sr_rsa_boot_quad(bt, prod, s2 + (size_t)s * B, err);
  }
  for (int a = 0; a < c->k && !st; a++)
    for (int b = a + 1; b < c->k && !st; b++) {
      if (!wants_resampling(c, is_target, a, b)) continue;
      for (size_t q = 0; q < nn; q++) prod[q] = z[a][q] * z[b][q];
      if ((st = sr_rsa_boot_quad(bt, prod, sab, err))) break;
      sr_rsa_boot_pearson(bt, s1 + (size_t)a * B, s2 + (size_t)a * B, s1 + (size_t)b * B, s2 + (size_t)b * B,
                          sab, r);
      sr_rsa_pair *p = &c->pairs[pair_index(c->k, a, b)];
      percentile_ci(r, bt->b, c->o->level, ranks ? &p->spearman : &p->pearson);
      p->has_ci = 1;
    }
  sr_free(s1);
  sr_free(s2);
  sr_free(sab);
  sr_free(r);
  sr_free(prod);
  free(used);
  return st;
}

// sum_{i<j} Za Zb in double: the observed statistic on the permutation scale.
static double z_dot(const float *za, const float *zb, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = i + 1; j < n; j++)
      s += (double)za[(size_t)i * (size_t)n + (size_t)j] * zb[(size_t)i * (size_t)n + (size_t)j];
  return s;
}

// Mantel for one family: each source u whose pairs need p-values has its labels permuted against all its
// partners at once (a target when the pair has one, else the first of the pair).
static sr_status mantel_family(cmp_ctx *c, float **z, const int *is_target, int ranks, sr_err *err) {
  const int64_t B = c->o->perm_b;
  const float **part = malloc(sizeof(float *) * (size_t)c->k);
  int *who = malloc(sizeof(int) * (size_t)c->k);
  double *out = sr_alloc(sizeof(double) * (size_t)c->k * (size_t)B);
  sr_status st = part && who && out ? SR_OK : sr_fail(err, SR_ERR_NOMEM, "Mantel buffers");
  for (int u = 0; u < c->k && !st; u++) {
    int np = 0;
    for (int v = 0; v < c->k; v++) {
      if (v == u || !wants_resampling(c, is_target, u, v)) continue;
      int a = u < v ? u : v, b = u < v ? v : u;
      int permuted = is_target[a] ? a : is_target[b] ? b : a;
      if (permuted == u) {
        who[np] = v;
        part[np++] = z[v];
      }
    }
    if (!np) continue;
    if ((st = sr_rsa_mantel_sums(
             &(sr_mantel){.T = z[u], .Z = part, .ns = np, .n = c->n, .b = B, .seed = c->o->seed}, out, err)))
      break;
    for (int q = 0; q < np; q++) {
      int v = who[q], a = u < v ? u : v, b = u < v ? v : u;
      sr_rsa_pair *p = &c->pairs[pair_index(c->k, a, b)];
      (ranks ? &p->spearman : &p->pearson)->p =
          sr_rsa_mantel_p(out + (size_t)q * (size_t)B, B, z_dot(z[u], z[v], c->n));
      p->has_p = 1;
    }
  }
  free(part);
  free(who);
  sr_free(out);
  return st;
}

static sr_status resampling(cmp_ctx *c, const int *is_target, sr_err *err) {
  sr_status st = SR_OK;
  if (c->o->boot_b > 0) {
    double t0 = sr_now();
    sr_rsa_boot bt;
    st = sr_rsa_boot_draw(c->n, c->o->boot_b, c->o->seed, &bt, err);
    if (!st) st = boot_family(c, &bt, c->zp, is_target, 0, err);
    if (!st && !c->o->no_rank_resampling) st = boot_family(c, &bt, c->zr, is_target, 1, err);
    sr_rsa_boot_free(&bt);
    c->t->boot = sr_now() - t0;
    if (c->o->on_phase) c->o->on_phase(c->o->phase_ctx, "bootstrap", c->o->boot_b, c->t->boot);
  }
  if (!st && c->o->perm_b > 0) {
    double t0 = sr_now();
    st = mantel_family(c, c->zp, is_target, 0, err);
    if (!st && !c->o->no_rank_resampling) st = mantel_family(c, c->zr, is_target, 1, err);
    c->t->mantel = sr_now() - t0;
    if (c->o->on_phase) c->o->on_phase(c->o->phase_ctx, "mantel", c->o->perm_b, c->t->mantel);
  }
  return st;
}

double sr_rsa_cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

sr_status sr_rsa_compare(const sr_rsa_sources *src, const sr_rsa_opts *o, sr_rsa_pair *pairs,
                         sr_rsa_source_info *info, sr_rsa_timing *t, sr_err *err) {
  const float *const *S = src->S;
  const int *is_target = src->is_target;
  const int k = src->k;
  const int64_t n = src->n;
  memset(t, 0, sizeof *t);
  if (k < 2 || n < 3)
    return sr_fail(err, SR_ERR_ARG, "RSA needs at least 2 sources over 3 images (got %d, %lld)", k,
                   (long long)n);
  if ((o->boot_b || o->perm_b) && !(o->level > 0 && o->level < 1))
    return sr_fail(err, SR_ERR_ARG, "CI level %g is outside (0, 1)", o->level);
  const double t0 = sr_now(), c0 = sr_rsa_cpu_seconds();
  cmp_ctx c = {.k = k, .n = n, .o = o, .pairs = pairs, .t = t};
  c.ranks = calloc((size_t)k, sizeof *c.ranks);
  c.zp = calloc((size_t)k, sizeof *c.zp);
  c.zr = calloc((size_t)k, sizeof *c.zr);
  sr_status st = c.ranks && c.zp && c.zr ? SR_OK : sr_fail(err, SR_ERR_NOMEM, "RSA source tables");
  if (!st) st = prepare_sources(&c, S, info, err);
  if (!st) st = point_estimates(&c, S, info, err);
  if (!st) st = resampling(&c, is_target, err);
  for (int s = 0; s < k && c.ranks; s++) sr_rsa_ranks_free(&c.ranks[s]);
  for (int s = 0; s < k && c.zp && c.zr; s++) {
    sr_free(c.zp[s]);
    sr_free(c.zr[s]);
  }
  free(c.ranks);
  free(c.zp);
  free(c.zr);
  t->total = sr_now() - t0;
  t->cpu_total = sr_rsa_cpu_seconds() - c0;
  return st;
}
