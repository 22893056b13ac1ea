// The convergence rule of the minimal-perturbation attacks on synthetic traces: a run whose last 20% of
// steps still cut the median by more than 5% is not converged; NaN entries and the image mask are honoured.
#include "simreg/attack.h"
#include "sr_test.h"

#define NI 9

static void fill(double *tr, double tail_drop) {
  // image i starts at 1 + i and decays; the last two checkpoints (80% -> 100%) drop by tail_drop
  for (int i = 0; i < NI; i++)
    for (int k = 0; k < SR_TRACE_POINTS; k++) {
      double v = (1.0 + i) * pow(0.5, k < 8 ? k : 8);
      if (k >= 9) v *= 1 - tail_drop * (k - 8) / 2.0;
      tr[i * SR_TRACE_POINTS + k] = v;
    }
}

int main(void) {
  sr_err err = {0};
  double tr[NI * SR_TRACE_POINTS];
  int64_t at[SR_TRACE_POINTS];
  for (int k = 0; k < SR_TRACE_POINTS; k++) at[k] = 100 * k;
  sr_convergence c;

  fill(tr, 0.01);  // flat tail: converged
  CHECK_OK(sr_convergence_summary(tr, NULL, NI, at, 0.05, &c, &err), &err);
  CHECK(c.converged, "a 1%% tail drop converges (drop %g)", c.last_drop);
  CHECK(fabs(c.last_drop - 0.01) < 1e-12, "drop %g", c.last_drop);
  CHECK(fabs(c.median[0] - 5.0) < 1e-12 && c.images == NI, "median of 1..9 at the start: %g", c.median[0]);
  CHECK(c.at[10] == 1000, "checkpoint steps copied");

  fill(tr, 0.20);  // still falling: not converged
  CHECK_OK(sr_convergence_summary(tr, NULL, NI, at, 0.05, &c, &err), &err);
  CHECK(!c.converged && fabs(c.last_drop - 0.20) < 1e-12, "a 20%% tail drop is not converged (%g)",
        c.last_drop);

  // a mask and NaNs: only images 0..4 count, image 4 has no adversarial until the end
  int use[NI] = {1, 1, 1, 1, 1, 0, 0, 0, 0};
  fill(tr, 0.0);
  for (int k = 0; k < SR_TRACE_POINTS - 1; k++) tr[4 * SR_TRACE_POINTS + k] = NAN;
  CHECK_OK(sr_convergence_summary(tr, use, NI, at, 0.05, &c, &err), &err);
  CHECK(fabs(c.median[0] - 2.5) < 1e-12, "median over the 4 finite masked images: %g", c.median[0]);
  CHECK(c.images == 5, "5 images at the end (%lld)", (long long)c.images);

  // nothing known at the end: no drop, not converged
  for (int i = 0; i < NI * SR_TRACE_POINTS; i++) tr[i] = NAN;
  CHECK_OK(sr_convergence_summary(tr, NULL, NI, at, 0.05, &c, &err), &err);
  CHECK(isnan(c.last_drop) && !c.converged, "all-NaN traces are not converged");
  CHECK(sr_convergence_summary(tr, NULL, NI, at, -1, &c, &err) == SR_ERR_ARG, "negative tolerance rejected");
  return sr_test_done();
}
