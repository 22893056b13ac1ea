// Convergence traces of the minimal-perturbation attacks: the best distance of every image at the start and
// after each tenth of the steps, and the rule that calls a run converged (docs/ATTACKS.md).
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attack/internal.h"
#include "simreg/stats.h"

sr_status sr_trace_alloc(sr_attack_result *r, int64_t n, int64_t steps, sr_err *err) {
  r->trace = sr_alloc((size_t)n * SR_TRACE_POINTS * sizeof(double));
  if (!r->trace) return sr_fail(err, SR_ERR_NOMEM, "convergence trace for %lld images", (long long)n);
  for (size_t i = 0; i < (size_t)n * SR_TRACE_POINTS; i++) r->trace[i] = NAN;
  sr_trace_steps(steps, r->trace_at);
  return SR_OK;
}

void sr_trace_steps(int64_t steps, int64_t at[SR_TRACE_POINTS]) {
  for (int k = 0; k < SR_TRACE_POINTS; k++)
    at[k] = (int64_t)llround((double)k * (double)steps / (SR_TRACE_POINTS - 1));
}

// The distance a trace stores: ||delta||^2 / D from an L2 distance, the distance itself for L-inf.
static double trace_value(double dist, int l2, int64_t d) {
  if (!isfinite(dist)) return NAN;
  return l2 ? dist * dist / (double)d : dist;
}

void sr_trace_record(sr_tracer *t, int64_t step, const double *dist) {
  if (!t->r || !t->r->trace) return;
  while (t->next < SR_TRACE_POINTS && t->r->trace_at[t->next] <= step) {
    for (int64_t i = 0; i < t->k; i++)
      t->r->trace[(size_t)(t->first + i) * SR_TRACE_POINTS + (size_t)t->next] =
          trace_value(dist[i], t->l2, t->d);
    t->next++;
  }
}

void sr_trace_finish(sr_tracer *t, const double *dist) { sr_trace_record(t, INT64_MAX, dist); }

sr_status sr_convergence_summary(const double *trace, const int *use, int64_t n, const int64_t *at,
                                 double tol, sr_convergence *out, sr_err *err) {
  memset(out, 0, sizeof *out);
  out->tol = tol;
  out->last_drop = NAN;
  if (n < 0 || !(tol >= 0)) return sr_fail(err, SR_ERR_ARG, "convergence summary: bad settings");
  double *col = sr_alloc((size_t)(n > 0 ? n : 1) * sizeof(double));
  if (!col) return sr_fail(err, SR_ERR_NOMEM, "convergence summary");
  for (int k = 0; k < SR_TRACE_POINTS; k++) {
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) {
      double v = trace[(size_t)i * SR_TRACE_POINTS + (size_t)k];
      if ((!use || use[i]) && isfinite(v)) col[m++] = v;
    }
    qsort(col, (size_t)m, sizeof(double), sr_cmp_double);
    out->median[k] = m ? sr_quantile_sorted(col, m, 0.5) : NAN;
    out->at[k] = at[k];
    if (k == SR_TRACE_POINTS - 1) out->images = m;
  }
  sr_free(col);
  double m80 = out->median[SR_TRACE_POINTS - 3], m100 = out->median[SR_TRACE_POINTS - 1];
  if (isfinite(m80) && isfinite(m100) && m80 > 0) out->last_drop = (m80 - m100) / m80;
  out->converged = isfinite(out->last_drop) && out->last_drop <= tol;
  return SR_OK;
}
