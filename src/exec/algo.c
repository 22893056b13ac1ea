// Per-convolution algorithm choice: the model's policy, its table of choices keyed by (executor, shape,
// batch, threads, CPU ISA), and the timing helpers the conv op uses when a tape or plan measures
// (src/ops/conv2d.c). See docs/PERFORMANCE.md.
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "engine.h"

static const char *const algo_names[SR_CONV_ALGOS] = {"direct", "winograd", "dnnl-winograd"};

const char *sr_conv_algo_name(sr_conv_algo a) { return (unsigned)a < SR_CONV_ALGOS ? algo_names[a] : "?"; }

const char *sr_conv_source_name(sr_conv_source s) {
  static const char *const names[] = {"setting", "measured", "given", "run", "cache"};
  return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

int sr_conv_algo_parse(const char *s) {
  for (int a = 0; s && a < SR_CONV_ALGOS; a++)
    if (!strcmp(s, algo_names[a])) return a;
  return -1;
}

sr_status sr_model_set_conv_policy(sr_model *m, sr_conv_policy p, sr_err *err) {
  if (!m->exec) return sr_fail(err, SR_ERR_ARG, "model is not initialised");
  if (p != SR_CONV_RULE && p != SR_CONV_MEASURE && p != SR_CONV_DNNL_WINOGRAD_ALL)
    return sr_fail(err, SR_ERR_ARG, "unknown convolution policy %d", (int)p);
  if (p == m->exec->policy) return SR_OK;
  sr_model_free_tapes(m);  // tapes and plans choose when they are built
  sr_model_free_infers(m);
  m->exec->policy = p;
  return SR_OK;
}

sr_conv_policy sr_model_conv_policy(const sr_model *m) { return m->exec ? m->exec->policy : SR_CONV_RULE; }

int sr_model_conv_choices(const sr_model *m, const sr_conv_choice **out) {
  *out = m->exec ? m->exec->choices : NULL;
  return m->exec ? m->exec->n_choices : 0;
}

static int choice_index(const sr_model *m, const char *key) {
  for (int i = 0; m->exec && i < m->exec->n_choices; i++)
    if (!strcmp(m->exec->choices[i].key, key)) return i;
  return -1;
}

const sr_conv_choice *sr_conv_choice_find(const sr_model *m, const char *key) {
  int i = choice_index(m, key);
  return i < 0 ? NULL : &m->exec->choices[i];
}

const sr_conv_choice *sr_conv_choice_take(sr_model *m, const char *key) {
  int i = choice_index(m, key);
  if (i < 0) return NULL;
  m->exec->choice_used[i] = 1;
  return &m->exec->choices[i];
}

int sr_conv_choice_recorded(const sr_model *m, int i) {
  const struct sr_exec_cache *e = m->exec;
  return e && i >= 0 && i < e->n_choices && (e->choices[i].source != SR_CONV_SRC_CACHE || e->choice_used[i]);
}

static sr_status grow_choices(struct sr_exec_cache *e, sr_err *err) {
  if (e->n_choices < e->cap_choices) return SR_OK;
  int cap = e->cap_choices ? 2 * e->cap_choices : 16;
  sr_conv_choice *g = realloc(e->choices, sizeof *g * (size_t)cap);
  if (g) e->choices = g;
  unsigned char *u = g ? realloc(e->choice_used, (size_t)cap) : NULL;
  if (!u) return sr_fail(err, SR_ERR_NOMEM, "convolution choice table of %d entries", cap);
  e->choice_used = u;
  e->cap_choices = cap;
  return SR_OK;
}

// replace: an existing entry of c's key is overwritten (else kept, and c dropped).
static sr_status choice_add(sr_model *m, const sr_conv_choice *c, int replace, sr_err *err) {
  struct sr_exec_cache *e = m->exec;
  if ((unsigned)c->algo >= SR_CONV_ALGOS)
    return sr_fail(err, SR_ERR_ARG, "convolution choice '%s': algorithm %d out of range", c->key,
                   (int)c->algo);
  if (!memchr(c->key, 0, sizeof c->key)) return sr_fail(err, SR_ERR_ARG, "convolution choice key too long");
  int i = choice_index(m, c->key);
  if (i >= 0) {
    if (replace) e->choices[i] = *c;
    return SR_OK;
  }
  sr_status s = grow_choices(e, err);
  if (s) return s;
  e->choice_used[e->n_choices] = 0;
  e->choices[e->n_choices++] = *c;
  return SR_OK;
}

sr_status sr_conv_choice_put(sr_model *m, const sr_conv_choice *c, sr_err *err) {
  return choice_add(m, c, 1, err);
}

sr_status sr_conv_choice_add_new(sr_model *m, const sr_conv_choice *c, sr_err *err) {
  if (!m->exec) return sr_fail(err, SR_ERR_ARG, "model is not initialised");
  return choice_add(m, c, 0, err);
}

sr_status sr_model_add_conv_choices(sr_model *m, const sr_conv_choice *c, int n, sr_err *err) {
  if (!m->exec) return sr_fail(err, SR_ERR_ARG, "model is not initialised");
  for (int i = 0; i < n; i++) {
    sr_conv_choice g = c[i];
    g.source = SR_CONV_SRC_GIVEN;
    sr_status s = sr_conv_choice_put(m, &g, err);
    if (s) return s;
  }
  return SR_OK;
}

void sr_model_free_conv_choices(sr_model *m) {
  if (!m->exec) return;
  free(m->exec->choices);
  free(m->exec->choice_used);
  m->exec->choices = NULL;
  m->exec->choice_used = NULL;
  m->exec->n_choices = m->exec->cap_choices = 0;
}

void sr_conv_key(char *key, size_t n, const char *exec, const sr_node *nd, int64_t batch) {
  snprintf(key, n, "%s c%d o%d k%d s%d p%d,%d,%d,%d g%d d%d %dx%d n%lld t%d %s", exec, nd->ic, nd->c, nd->k,
           nd->stride, sr_conv_pad(nd, 0), sr_conv_pad(nd, 1), nd->pads[2], nd->pads[3], sr_conv_groups(nd),
           sr_conv_dil(nd), nd->ih, nd->iw, (long long)batch, omp_get_max_threads(), sr_cpu_isa_name());
}

void sr_conv_choice_clear(sr_conv_choice *c, const char *key) {
  memset(c, 0, sizeof *c);
  snprintf(c->key, sizeof c->key, "%s", key);
  for (int a = 0; a < SR_CONV_ALGOS; a++) c->ms[a] = -1;
  c->source = SR_CONV_SRC_SETTING;
}

int sr_conv_choice_best(sr_conv_choice *c) {
  int best = SR_CONV_DIRECT;
  for (int a = 0; a < SR_CONV_ALGOS; a++)
    if (c->ms[a] >= 0 && (c->ms[best] < 0 || c->ms[a] < c->ms[best])) best = a;
  c->algo = (sr_conv_algo)best;
  c->source = SR_CONV_SRC_MEASURED;
  return best;
}

void sr_conv_choice_fold(sr_conv_choice *c, const double *ms) {
  for (int a = 0; a < SR_CONV_ALGOS; a++) {
    // whole microseconds (sums of timings too), so that the JSON a run records reads back to the same number
    double v = round(ms[a] * 1e3) / 1e3;
    if (ms[a] >= 0 && (c->ms[a] < 0 || v < c->ms[a])) c->ms[a] = v;
  }
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

sr_status sr_time_median(sr_timed_fn fn, void *ctx, double *ms, sr_err *err) {
  double t[SR_ALGO_REPS];
  sr_status s = fn(ctx, err);  // warm-up: first touch, oneDNN's JIT
  for (int r = 0; r < SR_ALGO_REPS && !s; r++) {
    double t0 = sr_now();
    s = fn(ctx, err);
    t[r] = (sr_now() - t0) * 1e3;
  }
  if (s) return s;
  qsort(t, SR_ALGO_REPS, sizeof t[0], cmp_double);
  *ms = fmax(t[0], 1e-3);  // the fastest: on a shared machine the others carry other processes' time slices
  return SR_OK;
}

// A primitive with its own memories for every argument it takes (zeros: timing does not depend on values,
// and zeros hold no denormals).
typedef struct timed_prim {
  dnnl_primitive_t prim;
  dnnl_stream_t stream;
  dnnl_exec_arg_t args[12];
  int nargs;
} timed_prim;

static sr_status run_prim(void *ctx, sr_err *err) {
  timed_prim *t = ctx;
  DNNL_TRY(dnnl_primitive_execute(t->prim, t->stream, t->nargs, t->args), err);
  DNNL_TRY(dnnl_stream_wait(t->stream), err);
  return SR_OK;
}

static sr_status zeroed_mem(sr_dnn *c, const dnnl_memory_desc_t *md, dnnl_memory_t *mem, sr_err *err) {
  sr_status s = sr_mem_create(c, mem, md, NULL, err);
  if (s) return s;
  void *p;
  DNNL_TRY(dnnl_memory_get_data_handle(*mem, &p), err);
  memset(p, 0, dnnl_memory_desc_get_size(md));
  return SR_OK;
}

sr_status sr_time_pd(sr_dnn *c, const_dnnl_primitive_desc_t pd, double *ms, sr_err *err) {
  static const int kinds[] = {
      DNNL_ARG_SRC,      DNNL_ARG_WEIGHTS,      DNNL_ARG_BIAS,      DNNL_ARG_DST,       DNNL_ARG_DIFF_SRC,
      DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS, DNNL_ARG_DIFF_BIAS, DNNL_ARG_WORKSPACE, DNNL_ARG_SCRATCHPAD};
  timed_prim t = {.stream = c->e->stream};
  sr_status s = SR_OK;
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0] && !s; k++) {
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, kinds[k]);
    if (!md || md->ndims == 0 || dnnl_memory_desc_get_size(md) == 0) continue;
    t.args[t.nargs].arg = kinds[k];
    s = zeroed_mem(c, md, &t.args[t.nargs].memory, err);
    if (!s) t.nargs++;
  }
  if (!s && dnnl_primitive_create(&t.prim, pd) != dnnl_success)
    s = sr_fail(err, SR_ERR_BACKEND, "oneDNN: primitive creation failed while timing");
  if (!s) s = sr_time_median(run_prim, &t, ms, err);
  if (t.prim) dnnl_primitive_destroy(t.prim);
  for (int k = 0; k < t.nargs; k++) dnnl_memory_destroy(t.args[k].memory);
  return s;
}

sr_status sr_time_reorder(sr_dnn *c, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to, double *ms,
                          sr_err *err) {
  *ms = 0;
  if (dnnl_memory_desc_equal(from, to)) return SR_OK;
  dnnl_primitive_desc_t pd;
  DNNL_TRY(dnnl_reorder_primitive_desc_create(&pd, from, c->e->eng, to, c->e->eng, c->attr), err);
  sr_status s = sr_time_pd(c, pd, ms, err);
  dnnl_primitive_desc_destroy(pd);
  return s;
}

sr_status sr_model_set_conv_algo(sr_model *m, const char *name, sr_err *err) {
  sr_status s;
  if (!strcmp(name, "measure")) return sr_model_set_conv_policy(m, SR_CONV_MEASURE, err);
  if (!strcmp(name, "dnnl-winograd")) return sr_model_set_conv_policy(m, SR_CONV_DNNL_WINOGRAD_ALL, err);
  int on = !strcmp(name, "winograd") ? 1
           : !strcmp(name, "direct") ? 0
           : !strcmp(name, "rule")   ? sr_wino_native()
                                     : -1;
  if (on < 0)
    return sr_fail(err, SR_ERR_ARG,
                   "unknown convolution algorithm setting '%s' (measure, direct, winograd, rule, "
                   "dnnl-winograd)",
                   name);
  if ((s = sr_model_set_conv_policy(m, SR_CONV_RULE, err))) return s;
  return sr_model_set_winograd(m, on, err);
}

const char *sr_model_conv_algo(const sr_model *m) {
  switch (sr_model_conv_policy(m)) {
    case SR_CONV_MEASURE:
      return "measure";
    case SR_CONV_DNNL_WINOGRAD_ALL:
      return "dnnl-winograd";
    default:
      return sr_model_winograd(m) ? "winograd" : "direct";
  }
}
