// The attack oracle's forward-only queries run the fused inference plan: on a trained cnn-small and 1000
// Fashion-MNIST test images, its predictions equal the training graph's eval-mode argmax (images whose
// top-two logits are closer than float rounding could tell apart are reported, not required), its logits
// agree within 1e-4, and calls of odd sizes (padded plans of 1, 2, 4, ... images) give the same answers.
#include <unistd.h>

#include "simreg/attack.h"
#include "small_model.h"

enum { NIMG = 1000 };

int main(void) {
  sr_err err = {0};
  char dir[] = "/tmp/sr_oracle_XXXXXX";
  CHECK(mkdtemp(dir) != NULL, "temp dir");
  sr_model m;
  sr_run_info info;
  sr_dataset ds;
  small_model(dir, &m, &info, &ds, &err);
  sr_amodel am;
  CHECK_OK(sr_amodel_init(
               &am, &m, (sr_pixel_map){.c = ds.c, .gray = info.gray, .mean = info.mean, .scale = info.scale},
               128, &err),
           &err);
  int64_t d = am.d, K = am.classes;
  float *x = sr_alloc(sizeof(float) * (size_t)(NIMG * d)), *xn = sr_alloc(sizeof(float) * (size_t)(NIMG * d));
  float *z = sr_alloc(sizeof(float) * (size_t)(NIMG * K)), *zt = sr_alloc(sizeof(float) * (size_t)(NIMG * K));
  int32_t *pred = sr_alloc(sizeof(int32_t) * NIMG), *pred2 = sr_alloc(sizeof(int32_t) * NIMG);
  for (int64_t i = 0; i < NIMG * d; i++) x[i] = ds.images[i] / 255.0f;
  // the training graph's eval forward on the same normalisation (gray: 1 channel, so the mean is the pixel)
  for (int64_t i = 0; i < NIMG * d; i++) xn[i] = (x[i] - am.mean) * am.scale;
  CHECK(!info.gray || ds.c == 1, "test data has one channel");
  for (int64_t i0 = 0; i0 < NIMG; i0 += 200)
    CHECK_OK(sr_model_forward(&m, xn + i0 * d, 200, 0, zt + i0 * K, &err), &err);

  CHECK_OK(sr_amodel_predict(&am, x, NIMG, pred, NULL, &err), &err);
  CHECK_OK(sr_amodel_logits(&am, x, NIMG, z, NULL, &err), &err);
  double md = 0, mz = 0;
  for (int64_t i = 0; i < NIMG * K; i++) {
    md = fabs(z[i] - zt[i]) > md ? fabs(z[i] - zt[i]) : md;
    mz = fabs(zt[i]) > mz ? fabs(zt[i]) : mz;
  }
  printf("oracle logits vs eval forward: max diff %.3g (max |logit| %.3g)\n", md, mz);
  CHECK(md <= 1e-4 * mz, "logits differ by %.3g", md);
  int same = 0, ties = 0, correct = 0;
  for (int64_t i = 0; i < NIMG; i++) {
    const float *r = zt + i * K;
    int a = 0, b = -1;
    for (int k = 1; k < K; k++)
      if (r[k] > r[a]) a = k;
    for (int k = 0; k < K; k++)
      if (k != a && (b < 0 || r[k] > r[b])) b = k;
    if (pred[i] == a)
      same++;
    else if (r[a] - r[b] <= 1e-5 * mz)
      ties++;  // a tie at float precision may go either way
    correct += pred[i] == ds.labels[i];
  }
  printf("predictions: %d of %d equal, %d near-ties, accuracy %.3f\n", same, NIMG, ties,
         (double)correct / NIMG);
  CHECK(same + ties == NIMG, "%d predictions changed", NIMG - same - ties);
  CHECK(correct > NIMG / 2, "the trained model classifies (accuracy %.3f)", (double)correct / NIMG);

  // odd call sizes run smaller plans (padding never counted): same predictions
  int64_t q0 = am.queries;
  for (int64_t i0 = 0, k = 1; i0 < NIMG; i0 += k, k = k % 37 + 2) {
    int64_t kk = NIMG - i0 < k ? NIMG - i0 : k;
    CHECK_OK(sr_amodel_predict(&am, x + i0 * d, kk, pred2 + i0, NULL, &err), &err);
  }
  int diff = 0;
  for (int64_t i = 0; i < NIMG; i++) diff += pred2[i] != pred[i];
  CHECK(diff == 0, "%d predictions depend on the call size", diff);
  CHECK(am.queries - q0 == NIMG, "queries counted %lld", (long long)(am.queries - q0));

  sr_free(x);
  sr_free(xn);
  sr_free(z);
  sr_free(zt);
  sr_free(pred);
  sr_free(pred2);
  sr_amodel_free(&am);
  sr_dataset_free(&ds);
  sr_model_free(&m);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0, "cleanup");
  return sr_test_done();
}
