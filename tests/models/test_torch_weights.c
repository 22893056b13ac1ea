// Weights files: sr_model_save -> sr_model_load is bit-exact (parameters, running stats,
// num_batches_tracked, and the file itself), and loading a file that does not fit fails with
// SR_ERR_SHAPE/SR_ERR_FORMAT, a message naming the file and the tensor, and an untouched model.
#include <stdlib.h>

#include "torch_fixture.h"

static sr_model make(const char *arch, int c, int hw, double width, uint64_t seed) {
  sr_model m;
  sr_err err = {0};
  sr_rng rng;
  sr_rng_seed(&rng, seed, 0);
  sr_model_config cfg = {.in_c = c, .in_h = hw, .in_w = hw, .classes = 10, .width = width};
  snprintf(cfg.arch, sizeof cfg.arch, "%s", arch);
  if (sr_model_create(&m, &cfg, &rng, &err)) {
    fprintf(stderr, "create %s: %s\n", arch, err.msg);
    exit(1);
  }
  return m;
}

static int same_model(const sr_model *a, const sr_model *b) {
  return a->n_params == b->n_params && a->n_state == b->n_state && a->n_bn == b->n_bn &&
         !memcmp(a->params, b->params, sizeof(float) * (size_t)a->n_params) &&
         !memcmp(a->state, b->state, sizeof(float) * (size_t)a->n_state) &&
         !memcmp(a->bn_tracked, b->bn_tracked, sizeof(int64_t) * (size_t)a->n_bn);
}

static void roundtrip(void) {
  sr_err err = {0};
  sr_model a = make("resnet18", 3, 16, 0.125, 1), b = make("resnet18", 3, 16, 0.125, 2);
  // Non-trivial running statistics and counters: one training forward.
  float x[2 * 3 * 16 * 16], out[20];
  sr_rng rng;
  sr_rng_seed(&rng, 3, 0);
  for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = (float)sr_rng_normal(&rng);
  CHECK_OK(sr_model_forward(&a, x, 2, 1, out, &err), &err);
  CHECK(!same_model(&a, &b), "models with different seeds already equal");
  const char *p1 = fx_tmp("weights_rt1.safetensors"), *p2 = fx_tmp("weights_rt2.safetensors");
  CHECK_OK(sr_model_save(&a, p1, &err), &err);
  CHECK_OK(sr_model_load(&b, p1, &err), &err);
  CHECK(same_model(&a, &b), "save/load round trip is not bit-exact");
  CHECK(b.bn_tracked[0] == 1, "num_batches_tracked %lld after load", (long long)b.bn_tracked[0]);
  // Same model -> same bytes.
  CHECK_OK(sr_model_save(&b, p2, &err), &err);
  void *d1 = NULL, *d2 = NULL;
  size_t n1 = 0, n2 = 0;
  CHECK_OK(sr_read_file(p1, 1 << 24, &d1, &n1, &err), &err);
  CHECK_OK(sr_read_file(p2, 1 << 24, &d2, &n2, &err), &err);
  CHECK(n1 == n2 && d1 && d2 && !memcmp(d1, d2, n1), "re-saved file differs (%zu vs %zu bytes)", n1, n2);
  // The loaded model computes the same thing.
  float out_b[20];
  CHECK_OK(sr_model_forward(&a, x, 2, 0, out, &err), &err);
  CHECK_OK(sr_model_forward(&b, x, 2, 0, out_b, &err), &err);
  CHECK(!memcmp(out, out_b, sizeof out), "eval logits differ after load");
  // The file is readable as plain safetensors with PyTorch names and metadata.
  sr_st_file f;
  CHECK_OK(sr_st_read(p1, &f, &err), &err);
  if (!err.code) {
    const sr_st_tensor *t = sr_st_find(&f, "layer2.0.downsample.0.weight");
    CHECK(
        t && t->dtype == SR_F32 && t->ndim == 4 && t->shape[0] == 16 && t->shape[1] == 8 && t->shape[2] == 1,
        "layer2.0.downsample.0.weight missing or misshaped");
    t = sr_st_find(&f, "bn1.num_batches_tracked");
    CHECK(t && t->dtype == SR_I64 && t->ndim == 0 && *(const int64_t *)t->data == 1,
          "bn1.num_batches_tracked");
    CHECK(sr_st_meta(&f, "arch") && !strcmp(sr_st_meta(&f, "arch"), "resnet18"), "arch metadata");
    CHECK(f.n == a.n_tensors, "%d tensors in the file, model has %d", f.n, a.n_tensors);
    sr_st_free(&f);
  }
  sr_free(d1);
  sr_free(d2);
  remove(p1);
  remove(p2);
  sr_model_free(&a);
  sr_model_free(&b);
}

// Load `path` into m; expect `code`, a message naming the file and containing `needle`, m unchanged.
static void expect_fail(sr_model *m, const char *path, sr_status code, const char *needle, const char *what) {
  sr_err err = {0};
  float *p0 = malloc(sizeof(float) * (size_t)m->n_params);
  memcpy(p0, m->params, sizeof(float) * (size_t)m->n_params);
  sr_status st = sr_model_load(m, path, &err);
  printf("  %-34s -> %s: %s\n", what, sr_status_name(st), err.msg);
  CHECK(st == code, "%s: got %s, expected %s", what, sr_status_name(st), sr_status_name(code));
  CHECK(strstr(err.msg, path) != NULL, "%s: message does not name the file: %s", what, err.msg);
  CHECK(!needle || strstr(err.msg, needle) != NULL, "%s: message does not name '%s': %s", what, needle,
        err.msg);
  CHECK(!memcmp(p0, m->params, sizeof(float) * (size_t)m->n_params), "%s: failed load changed the model",
        what);
  free(p0);
}

// Write the model's tensors, optionally dropping one or changing one's dtype, without metadata.
static void write_variant(const sr_model *m, const char *path, const char *drop, const char *as_f32) {
  sr_err err = {0};
  sr_st_entry *e = calloc((size_t)m->n_tensors, sizeof *e);
  float zero[1] = {0};
  int n = 0;
  for (int i = 0; i < m->n_tensors; i++) {
    const sr_tensor_info *ti = &m->tensors[i];
    if (drop && !strcmp(ti->name, drop)) continue;
    void *d = fx_tensor_ptr((sr_model *)m, ti);
    sr_dtype dt = ti->where == 2 ? SR_I64 : SR_F32;
    if (as_f32 && !strcmp(ti->name, as_f32)) {
      dt = SR_F32;
      d = zero;
    }
    e[n++] = (sr_st_entry){ti->name, dt, ti->ndim, ti->shape, d};
  }
  CHECK_OK(sr_st_write(path, e, n, NULL, &err), &err);
  free(e);
}

// Rewrite `path` with bytes [0, keep) and, if pat is found in the header, its first occurrence replaced.
static void mangle(const char *src, const char *dst, size_t cut, const char *pat, const char *rep) {
  sr_err err = {0};
  unsigned char *d = NULL;
  size_t n = 0;
  CHECK_OK(sr_read_file(src, 1 << 26, (void **)&d, &n, &err), &err);
  if (!d) return;
  if (pat) {
    size_t hl = (size_t)d[0] | (size_t)d[1] << 8 | (size_t)d[2] << 16;
    for (size_t i = 8; i + strlen(pat) <= 8 + hl; i++)
      if (!memcmp(d + i, pat, strlen(pat))) {
        memcpy(d + i, rep, strlen(rep));
        break;
      }
  }
  CHECK_OK(sr_write_file_atomic(dst, d, n - cut, &err), &err);
  sr_free(d);
}

static void failures(void) {
  sr_err err = {0};
  sr_model m = make("resnet18", 3, 16, 0.125, 1);
  char good[4096], bad[4096];
  snprintf(good, sizeof good, "%s", fx_tmp("weights_good.safetensors"));
  snprintf(bad, sizeof bad, "%s", fx_tmp("weights_bad.safetensors"));
  CHECK_OK(sr_model_save(&m, good, &err), &err);
  sr_model target = make("resnet18", 3, 16, 0.125, 9);

  // Another architecture: with simreg's metadata, and as a bare PyTorch state_dict.
  sr_model cnn = make("cnn-small", 3, 16, 1.0, 1);
  CHECK_OK(sr_model_save(&cnn, bad, &err), &err);
  expect_fail(&target, bad, SR_ERR_SHAPE, "cnn-small", "cnn-small file (metadata)");
  write_variant(&cnn, bad, NULL, NULL);
  expect_fail(&target, bad, SR_ERR_SHAPE, "conv1.weight", "cnn-small state_dict (no metadata)");
  sr_model_free(&cnn);

  // Same architecture, other width: conv1.weight has 8 output channels, the model 16.
  sr_model wide = make("resnet18", 3, 16, 0.25, 1);
  expect_fail(&wide, good, SR_ERR_SHAPE, "conv1.weight", "width 0.125 file into width 0.25");
  sr_model_free(&wide);
  // Other number of classes / input channels (metadata check).
  sr_model c1 = make("resnet18", 1, 16, 0.125, 1);
  expect_fail(&c1, good, SR_ERR_SHAPE, "in_channels", "3-channel file into 1-channel model");
  sr_model_free(&c1);

  // Missing tensor, unexpected dtype, extra tensor.
  write_variant(&m, bad, "layer3.1.bn2.running_var", NULL);
  expect_fail(&target, bad, SR_ERR_SHAPE, "layer3.1.bn2.running_var", "missing running_var");
  write_variant(&m, bad, NULL, "layer2.0.bn1.num_batches_tracked");
  expect_fail(&target, bad, SR_ERR_FORMAT, "layer2.0.bn1.num_batches_tracked", "num_batches_tracked as F32");
  {
    sr_model r34 = make("resnet34", 3, 16, 0.125, 1);
    write_variant(&r34, bad, NULL, NULL);  // resnet34 has layer1.2, which resnet18 lacks
    expect_fail(&target, bad, SR_ERR_SHAPE, "layer1.2.", "resnet34 state_dict into resnet18");
    sr_model_free(&r34);
  }

  // Truncated: the last tensor (fc.bias) no longer fits.
  mangle(good, bad, 5, NULL, NULL);
  expect_fail(&target, bad, SR_ERR_FORMAT, "fc.bias", "truncated by 5 bytes");
  mangle(good, bad, 0, NULL, NULL);
  {
    // Truncated inside the header.
    void *d = NULL;
    size_t n = 0;
    CHECK_OK(sr_read_file(good, 1 << 26, &d, &n, &err), &err);
    CHECK_OK(sr_write_file_atomic(bad, d, 100, &err), &err);
    sr_free(d);
    expect_fail(&target, bad, SR_ERR_FORMAT, "header length", "truncated inside the header");
  }
  // Corrupted header: broken JSON, unknown dtype, wrong shape claim.
  mangle(good, bad, 0, "\"shape\"", "\"shape'");
  expect_fail(&target, bad, SR_ERR_FORMAT, "JSON", "header with a broken string");
  mangle(good, bad, 0, "\"F32\"", "\"F16\"");
  expect_fail(&target, bad, SR_ERR_FORMAT, "conv1.weight", "unknown dtype F16");
  mangle(good, bad, 0, "[8,3,7,7]", "[8,3,7,6]");
  expect_fail(&target, bad, SR_ERR_FORMAT, "conv1.weight", "shape inconsistent with offsets");
  // A file that is not there.
  expect_fail(&target, fx_tmp("weights_absent.safetensors"), SR_ERR_IO, NULL, "missing file");

  // After all that, the good file still loads.
  CHECK_OK(sr_model_load(&target, good, &err), &err);
  CHECK(same_model(&m, &target), "good file after failures");
  remove(good);
  remove(bad);
  sr_model_free(&m);
  sr_model_free(&target);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  roundtrip();
  failures();
  return sr_test_done();
}
