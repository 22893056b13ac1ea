// SGD, step for step what torch.optim.SGD does (single-tensor path, float32 arithmetic).
#include <string.h>

#include "simreg/optim.h"

sr_status sr_sgd_init(sr_sgd *o, int64_t n, double momentum, double weight_decay, int nesterov, sr_err *err) {
  memset(o, 0, sizeof *o);
  if (momentum < 0 || weight_decay < 0)
    return sr_fail(err, SR_ERR_ARG, "momentum and weight decay must be >= 0");
  if (nesterov && momentum <= 0) return sr_fail(err, SR_ERR_ARG, "Nesterov momentum requires momentum > 0");
  o->momentum = momentum;
  o->weight_decay = weight_decay;
  o->nesterov = nesterov;
  o->n = n;
  if (momentum > 0 && !(o->buf = sr_calloc((size_t)n + 1, sizeof(float))))
    return sr_fail(err, SR_ERR_NOMEM, "cannot allocate the momentum buffer (%lld floats)", (long long)n);
  return SR_OK;
}

// The update's constants for one step (PyTorch's SGD: weight decay, dampened momentum, Nesterov).
typedef struct sgd_coef {
  float wd, mom, damp, nlr;
  int first, nest, use_mom;
} sgd_coef;

static sgd_coef coef_of(const sr_sgd *o, double lr) {
  return (sgd_coef){.wd = (float)o->weight_decay,
                    .mom = (float)o->momentum,
                    .damp = (float)(1.0 - o->dampening),
                    .nlr = (float)-lr,
                    .first = !o->has_buf,
                    .nest = o->nesterov,
                    .use_mom = o->momentum > 0};
}

// Parameter i's update (buf is touched only with momentum): the one definition both loops inline.
static inline float sgd_one(const sgd_coef *c, float p, float g, float *buf, int64_t i) {
  float d = c->wd != 0 ? g + c->wd * p : g;
  if (c->use_mom) {
    float b = c->first ? d : buf[i] * c->mom + c->damp * d;
    buf[i] = b;
    d = c->nest ? d + c->mom * b : b;
  }
  return p + c->nlr * d;
}

void sr_sgd_step(sr_sgd *o, float *p, const float *g, double lr) {
  const sgd_coef c = coef_of(o, lr);
  float *buf = o->buf;
#pragma omp parallel for simd schedule(static) if (o->n > 65536)
  for (int64_t i = 0; i < o->n; i++) p[i] = sgd_one(&c, p[i], g[i], buf, i);
  o->has_buf = c.use_mom;
}

// sr_sgd_step's loop with a finiteness sum riding along (tests/optim compares the two bit for bit).
int sr_sgd_step_checked(sr_sgd *o, float *p, const float *g, double lr) {
  const sgd_coef c = coef_of(o, lr);
  float *buf = o->buf;
  float acc = 0;  // 0 * x is NaN exactly when x is Inf or NaN: the sum stays 0 while all are finite
#pragma omp parallel for simd reduction(+ : acc) schedule(static) if (o->n > 65536)
  for (int64_t i = 0; i < o->n; i++) {
    p[i] = sgd_one(&c, p[i], g[i], buf, i);
    acc += 0.0f * g[i] + 0.0f * p[i];
  }
  o->has_buf = c.use_mom;
  return acc == 0.0f;
}

void sr_sgd_free(sr_sgd *o) {
  sr_free(o->buf);
  memset(o, 0, sizeof *o);
}
