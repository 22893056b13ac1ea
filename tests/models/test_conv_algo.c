// Per-convolution algorithm choice (src/exec/algo.c, src/ops/conv2d.c): every setting (direct, winograd,
// dnnl-winograd, measure) is honoured by plans and tapes, and each gives the double reference's logits and
// gradients within float tolerance; a measured choice is cached in the model (a second plan does not time
// again); given choices are taken as they are, and the same choices give bit-identical results.
#include <string.h>

#include "../exec/check.h"
#include "kernels/winograd.h"
#include "simreg/model.h"

enum { N = 4, S = 16 };

static void make_model(sr_model *m) {
  sr_model_config cfg = {.arch = "resnet18", .in_c = 1, .in_h = S, .in_w = S, .classes = 10, .width = 0.25};
  sr_rng rng;
  sr_rng_seed(&rng, 5, 0);
  sr_err err = {0};
  CHECK_OK(sr_model_create(m, &cfg, &rng, &err), &err);
}

static void inputs(float *x, double *xd, int64_t n) {
  fill_normal(xd, n, 77);
  for (int64_t i = 0; i < n; i++) {
    x[i] = (float)xd[i];
    xd[i] = x[i];
  }
}

// Does the choice of each convolution follow the setting? measure: the fastest of the timed candidates.
static void check_choices(sr_model *m, const char *algo, const char *where, int tape, sr_infer *p,
                          sr_tape *t) {
  int convs = 0, dnnl = 0;
  for (int i = 1; i < m->n_nodes; i++) {
    sr_conv_choice c;
    int a = tape ? sr_tape_conv_choice(t, i, &c) : sr_infer_conv_choice(p, i, &c);
    if (m->nodes[i].op != SR_OP_CONV) continue;
    CHECK(a >= 0, "%s %s: node %d has a choice", algo, where, i);
    if (a < 0) continue;
    convs++;
    dnnl += a == SR_CONV_DNNL_WINOGRAD;
    int elig = sr_wino_eligible(&m->nodes[i], N);
    if (!strcmp(algo, "direct")) CHECK(a == SR_CONV_DIRECT, "%s %s node %d: %d", algo, where, i, a);
    if (!strcmp(algo, "winograd") && !tape)  // (a tape takes it only where oneDNN's layout is nChw8c)
      CHECK(a == (elig ? SR_CONV_WINOGRAD : SR_CONV_DIRECT), "%s %s node %d: %d (eligible %d)", algo, where,
            i, a, elig);
    if (!strcmp(algo, "dnnl-winograd")) CHECK(a != SR_CONV_WINOGRAD, "%s %s node %d: %d", algo, where, i, a);
    if (!strcmp(algo, "measure")) {
      CHECK(c.ms[SR_CONV_DIRECT] > 0, "%s %s node %d: direct timed (%g ms)", algo, where, i, c.ms[0]);
      for (int k = 0; k < SR_CONV_ALGOS; k++)
        CHECK(c.ms[k] < 0 || c.ms[a] <= c.ms[k], "%s %s node %d: %s (%g ms) is not slower than %s (%g ms)",
              algo, where, i, sr_conv_algo_name(a), c.ms[a], sr_conv_algo_name(k), c.ms[k]);
      CHECK(!strncmp(c.key, tape ? "train " : "plan", tape ? 6 : 4), "key '%s'", c.key);
    }
  }
  CHECK(convs == 20, "%s %s: 20 convolutions with a choice (%d)", algo, where, convs);
  // oneDNN 2.6 has f32 Winograd kernels for AVX-512 only
  if (!strcmp(algo, "dnnl-winograd") && !strncmp(sr_cpu_isa_name(), "avx512", 6))
    CHECK(dnnl > 0, "%s %s: %d convolutions run as oneDNN's Winograd", algo, where, dnnl);
}

static void check_setting(const char *algo) {
  sr_model m;
  sr_err err = {0};
  make_model(&m);
  CHECK_OK(sr_model_set_conv_algo(&m, algo, &err), &err);
  CHECK(!strcmp(sr_model_conv_algo(&m), algo), "setting %s reads back as %s", algo, sr_model_conv_algo(&m));
  int64_t nin = (int64_t)N * S * S, nout = N * 10;
  float x[N * S * S], out[N * 10], dout[N * 10];
  double xd[N * S * S], ref[N * 10], doutd[N * 10];
  inputs(x, xd, nin);
  // inference plan vs the double reference in eval mode
  sr_infer *p = NULL;
  CHECK_OK(sr_infer_create(&m, N, &p, &err), &err);
  if (!p) return;
  CHECK_OK(sr_infer_forward(p, x, out, &err), &err);
  sr_ref_run *run = NULL;
  CHECK_OK(sr_ref_forward(&m, xd, N, 0, ref, &run, &err), &err);
  sr_ref_free(run);
  double e = rel_err_fd(out, ref, nout);
  CHECK(e < 2e-4, "%s: plan vs double reference rel err %.3g", algo, e);
  check_choices(&m, algo, "plan", 0, p, NULL);
  sr_infer_free(p);
  // training tape: forward (batch statistics) and backward vs the reference
  sr_tape *t = NULL;
  CHECK_OK(sr_model_tape(&m, N, 0, &t, &err), &err);
  if (!t) return;
  for (int i = 0; i < N * 10; i++) {
    dout[i] = (float)(0.1 * ((i * 7) % 11) - 0.5);
    doutd[i] = dout[i];
  }
  CHECK_OK(sr_tape_forward(t, x, 1, out, &err), &err);
  sr_model_zero_grad(&m);
  CHECK_OK(sr_tape_backward(t, dout, NULL, &err), &err);
  double *dg = calloc((size_t)m.n_params, sizeof *dg);
  CHECK_OK(sr_ref_forward(&m, xd, N, 1, ref, &run, &err), &err);
  CHECK_OK(sr_ref_backward(run, doutd, dg, NULL, &err), &err);
  sr_ref_free(run);
  e = rel_err_fd(out, ref, nout);
  CHECK(e < 2e-4, "%s: tape training forward vs reference rel err %.3g", algo, e);
  e = rel_err_fd(m.grads, dg, m.n_params);
  CHECK(e < 2e-3, "%s: tape parameter gradients vs reference rel err %.3g", algo, e);
  check_choices(&m, algo, "tape", 1, NULL, t);
  free(dg);
  sr_model_free(&m);
}

// Measured once per key: a second plan reuses the choice (same times, no new entries); choices given to
// another model are taken without timing and give bit-identical logits.
static void check_cache(void) {
  sr_model a, b;
  sr_err err = {0};
  make_model(&a);
  make_model(&b);
  CHECK_OK(sr_model_set_conv_algo(&a, "measure", &err), &err);
  CHECK_OK(sr_model_set_conv_algo(&b, "measure", &err), &err);
  float x[N * S * S], ya[N * 10], yb[N * 10];
  double xd[N * S * S];
  inputs(x, xd, (int64_t)N * S * S);
  CHECK_OK(sr_model_infer(&a, x, N, ya, &err), &err);
  const sr_conv_choice *ca;
  int na = sr_model_conv_choices(&a, &ca);
  CHECK(na >= 4 && na < 20, "one choice per distinct shape, not per convolution: %d", na);
  sr_conv_choice *first = malloc(sizeof *first * (size_t)na);
  memcpy(first, ca, sizeof *first * (size_t)na);
  sr_model_free_infers(&a);
  CHECK_OK(sr_model_infer(&a, x, N, yb, &err), &err);
  int na2 = sr_model_conv_choices(&a, &ca);
  CHECK(na2 == na && !memcmp(first, ca, sizeof *first * (size_t)na),
        "a second plan of the same batch reuses the choices: %d -> %d entries", na, na2);
  CHECK(!memcmp(ya, yb, sizeof ya), "the same choices: bit-identical logits");
  // b takes a's choices: nothing timed, the same algorithms, bit-identical logits
  CHECK_OK(sr_model_add_conv_choices(&b, first, na, &err), &err);
  sr_infer *p = NULL;
  CHECK_OK(sr_infer_create(&b, N, &p, &err), &err);
  if (p) {
    CHECK_OK(sr_infer_forward(p, x, yb, &err), &err);
    CHECK(!memcmp(ya, yb, sizeof ya), "another model with the same choices: bit-identical logits");
    const sr_conv_choice *cb;
    CHECK(sr_model_conv_choices(&b, &cb) == na, "no new choice timed");
    sr_infer_free(p);
  }
  // choices given with other algorithms (and no times) are honoured
  for (int k = 0; k < na; k++) {
    first[k].algo = SR_CONV_DIRECT;
    for (int c = 0; c < SR_CONV_ALGOS; c++) first[k].ms[c] = -1;
  }
  CHECK_OK(sr_model_add_conv_choices(&b, first, na, &err), &err);
  CHECK_OK(sr_infer_create(&b, N, &p, &err), &err);
  for (int i = 1; p && i < b.n_nodes; i++) {
    sr_conv_choice c;
    int alg = sr_infer_conv_choice(p, i, &c);
    if (alg >= 0)
      CHECK(alg == SR_CONV_DIRECT && c.ms[0] < 0, "node %d: the given choice (direct, untimed)", i);
  }
  sr_infer_free(p);
  first[0].algo = (sr_conv_algo)7;
  CHECK(sr_model_add_conv_choices(&b, first, 1, &err) == SR_ERR_ARG, "an algorithm out of range is refused");
  CHECK(sr_model_set_conv_algo(&b, "fastest", &err) == SR_ERR_ARG && strstr(err.msg, "fastest"),
        "an unknown setting is refused by name: %s", err.msg);
  free(first);
  sr_model_free(&a);
  sr_model_free(&b);
}

int main(void) {
  const char *algos[] = {"direct", "winograd", "dnnl-winograd", "measure"};
  for (int k = 0; k < 4; k++) check_setting(algos[k]);
  check_cache();
  return sr_test_done();
}
