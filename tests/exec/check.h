// Shared checks for layer/model tests: finite differences on the double reference path, and the
// oneDNN path against the reference.
#ifndef SR_TEST_CHECK_H
#define SR_TEST_CHECK_H

#include "simreg/model.h"
#include "sr_test.h"

// max|a-b| / max|b|: error relative to the reference tensor's scale (elementwise relative error is
// meaningless for entries near zero).
static double rel_err_d(const double *a, const double *b, int64_t n) {
  double md = 0, mb = 0;
  for (int64_t i = 0; i < n; i++) {
    double d = fabs(a[i] - b[i]);
    if (!(d <= md)) md = d;
    if (fabs(b[i]) > mb) mb = fabs(b[i]);
  }
  return md / (mb > 1e-30 ? mb : 1e-30);
}

static double rel_err_fd(const float *a, const double *b, int64_t n) {
  double md = 0, mb = 0;
  for (int64_t i = 0; i < n; i++) {
    double d = fabs((double)a[i] - b[i]);
    if (!(d <= md)) md = d;
    if (fabs(b[i]) > mb) mb = fabs(b[i]);
  }
  return md / (mb > 1e-30 ? mb : 1e-30);
}

static double ref_loss(sr_model *m, const double *p, const double *x, int64_t n, int training,
                       const double *r, int64_t nout) {
  sr_err err = {0};
  sr_ref_run *run = NULL;
  double *out = malloc(sizeof(double) * (size_t)nout);
  if (sr_ref_forward_params(m, &(sr_ref_input){.params = p, .x = x, .n = n, .training = training}, out, &run,
                            &err)) {
    fprintf(stderr, "ref forward failed: %s\n", err.msg);
    exit(1);
  }
  double l = 0;
  for (int64_t i = 0; i < nout; i++) l += out[i] * r[i];
  sr_ref_free(run);
  free(out);
  return l;
}

// Central differences of L = sum(out * r) w.r.t. every input element and every parameter, compared
// with the reference backward. Returns the worst relative error (per tensor scale).
__attribute__((unused)) static double fd_check(sr_model *m, const double *x, int64_t n, int training,
                                               const char *what) {
  sr_err err = {0};
  int64_t nin = n * m->cfg.in_c * m->cfg.in_h * m->cfg.in_w, nout = n * sr_model_out_size(m);
  double *r = malloc(sizeof(double) * (size_t)nout), *p = malloc(sizeof(double) * (size_t)(m->n_params + 1));
  double *dx = calloc((size_t)nin, sizeof(double)), *dp = calloc((size_t)m->n_params + 1, sizeof(double));
  double *xx = malloc(sizeof(double) * (size_t)nin), *fx = malloc(sizeof(double) * (size_t)nin);
  double *fp = malloc(sizeof(double) * (size_t)(m->n_params + 1));
  sr_rng rng;
  sr_rng_seed(&rng, 99, 0);
  for (int64_t i = 0; i < nout; i++) r[i] = sr_rng_normal(&rng);
  for (int64_t i = 0; i < m->n_params; i++) p[i] = m->params[i];
  sr_ref_run *run;
  if (sr_ref_forward_params(m, &(sr_ref_input){.params = p, .x = x, .n = n, .training = training}, NULL, &run,
                            &err) ||
      sr_ref_backward(run, r, dp, dx, &err)) {
    fprintf(stderr, "ref failed: %s\n", err.msg);
    exit(1);
  }
  sr_ref_free(run);
  const double h = 1e-6;
  memcpy(xx, x, sizeof(double) * (size_t)nin);
  for (int64_t i = 0; i < nin; i++) {
    double s = xx[i];
    xx[i] = s + h;
    double lp = ref_loss(m, p, xx, n, training, r, nout);
    xx[i] = s - h;
    double lm = ref_loss(m, p, xx, n, training, r, nout);
    xx[i] = s;
    fx[i] = (lp - lm) / (2 * h);
  }
  for (int64_t i = 0; i < m->n_params; i++) {
    double s = p[i];
    p[i] = s + h;
    double lp = ref_loss(m, p, x, n, training, r, nout);
    p[i] = s - h;
    double lm = ref_loss(m, p, x, n, training, r, nout);
    p[i] = s;
    fp[i] = (lp - lm) / (2 * h);
  }
  double ex = rel_err_d(dx, fx, nin), ep = m->n_params ? rel_err_d(dp, fp, m->n_params) : 0;
  printf("  %-34s finite differences: input %.2e  params %.2e\n", what, ex, ep);
  free(r), free(p), free(dx), free(dp), free(xx), free(fx), free(fp);
  return ex > ep ? ex : ep;
}

// oneDNN tape vs reference: forward output, input gradient, parameter gradients.
__attribute__((unused)) static double dnnl_vs_ref(sr_model *m, const double *x, int64_t n, int training,
                                                  const char *what) {
  sr_err err = {0};
  int64_t nin = n * m->cfg.in_c * m->cfg.in_h * m->cfg.in_w, nout = n * sr_model_out_size(m);
  float *xf = malloc(sizeof(float) * (size_t)nin), *of = malloc(sizeof(float) * (size_t)nout);
  float *rf = malloc(sizeof(float) * (size_t)nout), *dxf = malloc(sizeof(float) * (size_t)nin);
  double *od = malloc(sizeof(double) * (size_t)nout), *rd = malloc(sizeof(double) * (size_t)nout);
  double *dxd = calloc((size_t)nin, sizeof(double)), *dpd = calloc((size_t)m->n_params + 1, sizeof(double));
  sr_rng rng;
  sr_rng_seed(&rng, 7, 0);
  for (int64_t i = 0; i < nin; i++) xf[i] = (float)x[i];
  for (int64_t i = 0; i < nout; i++) rd[i] = rf[i] = (float)sr_rng_normal(&rng);
  double *xd = malloc(sizeof(double) * (size_t)nin);
  for (int64_t i = 0; i < nin; i++) xd[i] = xf[i];
  sr_ref_run *run;
  if (sr_ref_forward(m, xd, n, training, od, &run, &err) || sr_ref_backward(run, rd, dpd, dxd, &err)) {
    fprintf(stderr, "ref failed: %s\n", err.msg);
    exit(1);
  }
  sr_ref_free(run);
  sr_tape *t;
  sr_model_zero_grad(m);
  CHECK_OK(sr_model_tape(m, n, 0, &t, &err), &err);
  CHECK_OK(sr_tape_forward(t, xf, training, of, &err), &err);
  CHECK_OK(sr_tape_backward(t, rf, dxf, &err), &err);
  double eo = rel_err_fd(of, od, nout), ex = rel_err_fd(dxf, dxd, nin);
  double ep = m->n_params ? rel_err_fd(m->grads, dpd, m->n_params) : 0;
  printf("  %-34s oneDNN vs reference: out %.2e  dx %.2e  dparams %.2e\n", what, eo, ex, ep);
  free(xf), free(of), free(rf), free(dxf), free(od), free(rd), free(dxd), free(dpd), free(xd);
  double w = eo > ex ? eo : ex;
  return w > ep ? w : ep;
}

static void fill_normal(double *x, int64_t n, uint64_t seed) {
  sr_rng rng;
  sr_rng_seed(&rng, seed, 0);
  for (int64_t i = 0; i < n; i++) x[i] = sr_rng_normal(&rng);
}

#endif
