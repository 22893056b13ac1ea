// The gradient-masking checks of the robustness protocol (sr_rob_masking): the measurements behind the flags
// of masking.c, on the first correctly classified images, sharded over MPI ranks like the other runners.
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "attack/rob_internal.h"

// This rank's rows (in: m images from row lo of the correctly classified ones xc, lab) and their buffers.
typedef struct mk_buf {
  sr_labeled in;
  int64_t lo;
  float *xc, *g, *adv;
  int32_t *lab, *pred;
  uint8_t *robust;
} mk_buf;

// Images (of b->in) a PGD run leaves correctly classified (adversarials in b->adv, predictions in b->pred);
// robust (b->in.n, may be NULL) is and-ed with the outcome.
static sr_status pgd_correct(sr_amodel *am, mk_buf *b, const sr_pgd_opts *o, uint64_t seed, uint8_t *robust,
                             int64_t *correct, sr_err *err) {
  const int32_t *y = b->in.y;
  const int64_t m = b->in.n;
  float *adv = b->adv;
  int32_t *pred = b->pred;
  sr_status st = m > 0 ? sr_pgd(am, &b->in, o, seed, adv, NULL, err) : SR_OK;
  if (!st && m > 0) st = sr_amodel_predict(am, adv, m, pred, NULL, err);
  *correct = 0;
  for (int64_t i = 0; i < m && !st; i++) {
    if (robust) robust[i] &= pred[i] == y[i];
    *correct += pred[i] == y[i];
  }
  return st;
}

// Rows whose cross-entropy input gradient is all zero or has a non-finite value.
static sr_status zero_gradients(sr_amodel *am, const sr_labeled *in, float *g, int64_t *zero, sr_err *err) {
  const int64_t m = in->n;
  *zero = 0;
  sr_status st = m > 0 ? sr_amodel_grad_ce(am, in, &(sr_grad_out){.g = g}, err) : SR_OK;
  for (int64_t i = 0; i < m && !st; i++) {
    int bad = 1;
    const float *gi = g + i * am->d;
    for (int64_t p = 0; p < am->d; p++) {
      if (!isfinite(gi[p])) {
        bad = 1;
        break;
      }
      if (gi[p] != 0) bad = 0;
    }
    *zero += bad;
  }
  return st;
}

// (a) from results already in the patch: Square L-inf and white-box PGD L-inf at the same eps.
static void square_vs_pgd(const cJSON *out, sr_masking_in *in) {
  const cJSON *sq =
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(out, "attacks"), "square_linf");
  const cJSON *pgd =
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(out, "white_box"), "pgd");
  const cJSON *clean = cJSON_GetObjectItemCaseSensitive(out, "clean_accuracy");
  if (!sq || !pgd || !cJSON_IsNumber(clean) || clean->valuedouble <= 0) return;
  const cJSON *eps = cJSON_GetObjectItemCaseSensitive(sq, "eps");
  const cJSON *rate = cJSON_GetObjectItemCaseSensitive(sq, "success_rate");
  const cJSON *lv = cJSON_GetObjectItemCaseSensitive(pgd, "levels");
  const cJSON *acc = cJSON_GetObjectItemCaseSensitive(pgd, "accuracy");
  if (!cJSON_IsNumber(eps) || !cJSON_IsNumber(rate)) return;
  for (int l = 0; l < cJSON_GetArraySize(lv); l++) {
    const cJSON *e = cJSON_GetArrayItem(lv, l);
    const cJSON *a = cJSON_GetArrayItem(acc, l);
    if (!cJSON_IsNumber(e) || !cJSON_IsNumber(a) || fabs(e->valuedouble - eps->valuedouble) > 1e-9) continue;
    in->square_success = rate->valuedouble;
    in->pgd_success = 1 - a->valuedouble / clean->valuedouble;  // of the correctly classified, as Square's
  }
}

static void mk_free(mk_buf *b) {
  sr_free(b->xc);
  sr_free(b->g);
  sr_free(b->adv);
  sr_free(b->lab);
  sr_free(b->pred);
  sr_free(b->robust);
}

// The three measurements on this rank's rows: counts[0] zero gradients, [1] correct at the large eps,
// [2] correct under the default PGD, [3] under the stronger one (robust to every restart).
static sr_status measure(const sr_rob_opts *a, sr_amodel *am, mk_buf *b, double eps, sr_rob_tick *p,
                         int64_t counts[4], sr_err *err) {
  const int64_t lo = b->lo, m = b->in.n;
  sr_status st = zero_gradients(am, &b->in, b->g, &counts[0], err);
  sr_rob_tick_update(p, 0.05 * (double)m);
  sr_pgd_opts big = sr_pgd_opts_default(SR_NORM_LINF, 1.0);
  big.steps = 10;
  big.step = 2.5 / big.steps;
  big.first_index = lo;
  if (!st) st = pgd_correct(am, b, &big, a->seed, NULL, &counts[1], err);
  sr_rob_tick_update(p, 0.1 * (double)m);
  sr_pgd_opts def = sr_pgd_opts_default(SR_NORM_LINF, eps);
  def.first_index = lo;
  if (!st) st = pgd_correct(am, b, &def, a->seed, NULL, &counts[2], err);
  sr_rob_tick_update(p, 0.3 * (double)m);
  // stronger: twice the steps (same relative step), two restarts with other seeds
  sr_pgd_opts strong = def;
  strong.steps = 2 * def.steps;
  strong.step = 2.5 * eps / strong.steps;
  memset(b->robust, 1, (size_t)(m > 0 ? m : 1));
  for (int r = 0; r < 2 && !st; r++) {
    int64_t c = 0;
    st = pgd_correct(am, b, &strong, a->seed + 1000 + (uint64_t)r, b->robust, &c, err);
    sr_rob_tick_update(p, (0.3 + 0.35 * (r + 1)) * (double)m);
  }
  counts[3] = 0;
  for (int64_t i = 0; i < m; i++) counts[3] += b->robust[i];
  return st;
}

sr_status sr_rob_masking(const sr_rob_opts *o, sr_rob_run *r, int64_t images, cJSON *out, sr_err *err) {
  sr_rob_opts a = *o;
  a.first_correct = 1;
  mk_buf b = {0};
  int64_t nc = 0;
  sr_rob_picked pk = {0};
  sr_status st = sr_rob_correct_images(&a, r, images, &pk, err);
  b.xc = pk.x;
  b.lab = pk.y;
  nc = pk.n;
  int64_t lo = 0;
  int64_t hi = 0;
  if (!st) sr_rob_shard(&a, nc, r->t.am.batch, &lo, &hi);
  int64_t m = hi - lo;
  size_t rows = (size_t)(m > 0 ? m : 1);
  if (!st) {
    b.g = sr_alloc(rows * (size_t)r->d * sizeof(float));
    b.adv = sr_alloc(rows * (size_t)r->d * sizeof(float));
    b.pred = sr_alloc(rows * sizeof(int32_t));
    b.robust = sr_alloc(rows);
    if (!b.g || !b.adv || !b.pred || !b.robust) st = sr_fail(err, SR_ERR_NOMEM, "masking checks");
  }
  double eps = a.eps > 0 ? a.eps : r->ds.c == 1 ? 0.1 : 8.0 / 255;
  int64_t counts[4] = {0, 0, 0, 0};
  sr_rob_tick p;
  sr_rob_tick_start(&p, &a, "masking", &r->t.am, m);
  if (!st) {
    b.in = (sr_labeled){.x = b.xc + lo * r->t.am.d, .y = b.lab + lo, .n = m};
    b.lo = lo;
    st = measure(&a, &r->t.am, &b, eps, &p, counts, err);
  }
  sr_rob_tick_end(&p);
  if (!st) st = sr_dist_allreduce_i64(a.dist, counts, 4, err);
  mk_free(&b);
  if (st || !sr_rob_root(&a)) return st;
  sr_masking_in in = sr_masking_in_none();
  double dn = nc > 0 ? (double)nc : NAN;
  in.zero_grad = counts[0];
  in.n_grad = nc;
  in.acc_large = (double)counts[1] / dn;
  in.eps_large = 1.0;
  in.acc_default = (double)counts[2] / dn;
  in.acc_strong = (double)counts[3] / dn;
  in.eps_pgd = eps;
  double *bb = NULL;
  double *wb = NULL;
  st = sr_rob_minimal_groups(out, &bb, &wb, &in.n_min, err);
  in.bb_min = bb;
  in.wb_min = wb;
  square_vs_pgd(out, &in);
  sr_masking_flag f[SR_MASK_COUNT];
  sr_masking_flags(&in, f);
  if (!st) {
    sr_masking_json(f, out);
    cJSON *mk = cJSON_GetObjectItemCaseSensitive(out, "masking");
    cJSON_AddNumberToObject(mk, "images", (double)nc);
    cJSON_AddStringToObject(mk, "pgd",
                            "L-inf; large eps 1 with 10 steps; default 40 steps, step 2.5 eps / steps, "
                            "random start; stronger 80 steps x 2 restarts (other seeds)");
  }
  sr_free(bb);
  sr_free(wb);
  return st;
}
