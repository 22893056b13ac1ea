// The model as a decision oracle: adversarial = the wrapper's prediction differs from the image's label.
#include "attack/internal.h"

static sr_status model_decide(void *ctx, const float *x, const int64_t *rows, int64_t m, int *adv,
                              sr_err *err) {
  sr_model_oracle_ctx *c = ctx;
  int64_t b = c->am->batch;
  for (int64_t j0 = 0; j0 < m; j0 += b) {
    int64_t k = m - j0 < b ? m - j0 : b;
    sr_status st = sr_amodel_predict(c->am, x + j0 * c->am->d, k, c->pred, NULL, err);
    if (st) return st;
    for (int64_t j = 0; j < k; j++) adv[j0 + j] = c->pred[j] != c->label[rows[j0 + j]];
  }
  return SR_OK;
}

sr_status sr_model_oracle(sr_amodel *am, const int32_t *label, sr_model_oracle_ctx *ctx, sr_oracle *o,
                          sr_err *err) {
  *ctx =
      (sr_model_oracle_ctx){.am = am, .label = label, .pred = sr_alloc((size_t)am->batch * sizeof(int32_t))};
  if (!ctx->pred) return sr_fail(err, SR_ERR_NOMEM, "oracle scratch");
  *o = (sr_oracle){.decide = model_decide, .ctx = ctx, .d = am->d, .batch = am->batch};
  return SR_OK;
}

void sr_model_oracle_free(sr_model_oracle_ctx *ctx) {
  sr_free(ctx->pred);
  ctx->pred = NULL;
}

sr_status sr_with_model_oracle(sr_amodel *am, const int32_t *label, sr_oracle_fn fn, void *ctx, sr_err *err) {
  sr_model_oracle_ctx mctx;
  sr_oracle orc;
  sr_status st = sr_model_oracle(am, label, &mctx, &orc, err);
  if (!st) st = fn(&orc, ctx, err);
  sr_model_oracle_free(&mctx);
  return st;
}

// The decision attacks (written against an oracle) on a model: the model is their oracle.
typedef struct decision_args {
  int hsj;  // 0: Boundary
  const sr_labeled *in;
  const void *opts;
  uint64_t seed;
  sr_attack_result *r;
} decision_args;

static sr_status decision_fn(const sr_oracle *orc, void *ctx, sr_err *err) {
  const decision_args *a = ctx;
  return a->hsj ? sr_hsj_oracle(orc, a->in->x, a->in->n, a->opts, a->seed, a->r, err)
                : sr_boundary_oracle(orc, a->in->x, a->in->n, a->opts, a->seed, a->r, err);
}

sr_status sr_boundary(sr_amodel *am, const sr_labeled *in, const sr_boundary_opts *o, uint64_t seed,
                      sr_attack_result *r, sr_err *err) {
  decision_args a = {.hsj = 0, .in = in, .opts = o, .seed = seed, .r = r};
  return sr_with_model_oracle(am, in->y, decision_fn, &a, err);
}

sr_status sr_hsj(sr_amodel *am, const sr_labeled *in, const sr_hsj_opts *o, uint64_t seed,
                 sr_attack_result *r, sr_err *err) {
  decision_args a = {.hsj = 1, .in = in, .opts = o, .seed = seed, .r = r};
  return sr_with_model_oracle(am, in->y, decision_fn, &a, err);
}

typedef struct recheck_args {
  const float *x;
  int64_t n;
  const sr_attack_ball *ball;
  sr_attack_result *r;
} recheck_args;

static sr_status recheck_on(const sr_oracle *orc, void *ctx, sr_err *err) {
  const recheck_args *a = ctx;
  return sr_attack_recheck(orc, a->x, a->n, a->ball, a->r, err);
}

sr_status sr_recheck_on_model(sr_amodel *am, const int32_t *label, const float *x, int64_t n,
                              const sr_attack_ball *ball, sr_attack_result *r, sr_err *err) {
  recheck_args a = {.x = x, .n = n, .ball = ball, .r = r};
  return sr_with_model_oracle(am, label, recheck_on, &a, err);
}
