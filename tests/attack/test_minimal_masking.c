// The per-image minimum over attacks (synthetic norms and a synthetic robustness.json patch: the smallest per
// image, which attack, repeats folded, the Foolbox-style curve) and the gradient-masking flags (each fires on
// a constructed case, stays off on a clean one, and is "not measured" without its numbers).
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "simreg/robustness.h"
#include "sr_test.h"

static void test_min_over(void) {
  enum { K = 3, N = 5 };
  const double I = INFINITY;
  double norms[K * N] = {
      1.0, 2.0, NAN, 4.0, I,    // attack 0
      0.5, 2.5, NAN, 4.0, I,    // attack 1
      0.7, 1.5, 3.0, NAN, NAN,  // attack 2
  };
  double min[N];
  int arg[N];
  sr_min_over_attacks(norms, K, N, min, arg);
  CHECK(min[0] == 0.5 && arg[0] == 1, "image 0: %g by %d", min[0], arg[0]);
  CHECK(min[1] == 1.5 && arg[1] == 2, "image 1: %g by %d", min[1], arg[1]);
  CHECK(min[2] == 3.0 && arg[2] == 2, "image 2: only attack 2 found it: %g by %d", min[2], arg[2]);
  CHECK(min[3] == 4.0 && arg[3] == 0, "image 3: a tie goes to the first attack: %g by %d", min[3], arg[3]);
  CHECK(isinf(min[4]) && arg[4] == -1, "image 4: none found");
  double eps[4] = {0, 1.0, 3.0, 10.0};
  double acc[4];
  sr_min_curve(min, N, 8, eps, 4, acc);  // 8 images looked at, 3 of them misclassified clean
  CHECK(acc[0] == 5.0 / 8 && acc[1] == 4.0 / 8 && acc[2] == 2.0 / 8 && acc[3] == 1.0 / 8,
        "curve %g %g %g %g (min <= eps breaks an image)", acc[0], acc[1], acc[2], acc[3]);
}

static cJSON *arr(const double *v, int n) {
  cJSON *a = cJSON_CreateArray();
  for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
  return a;
}

// An attack's result as the runners write it: per found row its image and ||delta||_2.
static void add_attack(cJSON *parent, const char *key, const double *img, const double *l2, int n,
                       int attacked) {
  cJSON *b = cJSON_AddObjectToObject(parent, key);
  cJSON_AddItemToObject(b, "image", arr(img, n));
  cJSON_AddItemToObject(b, "l2", arr(l2, n));
  cJSON_AddNumberToObject(b, "attacked", attacked);
  cJSON_AddNumberToObject(b, "images", 6);
}

static void test_minimal_patch(void) {
  cJSON *p = cJSON_CreateObject();
  // boundary: 2 repeats over images 0..3 (image 2 found only in repeat 1)
  double bi[7] = {0, 1, 3, 0, 1, 2, 3};
  double bl[7] = {1.0, 2.0, 0.9, 0.8, 2.2, 1.7, 1.1};
  add_attack(p, "boundary", bi, bl, 7, 4);
  cJSON *at = cJSON_AddObjectToObject(p, "attacks");
  double fi[3] = {0, 1, 2};
  double fl[3] = {0.9, 1.2, 1.8};
  add_attack(at, "fmn_l2", fi, fl, 3, 4);
  const char *names[2] = {"boundary", "fmn"};
  double eps[3] = {0, 1.0, 2.0};
  sr_err err = {0};
  CHECK_OK(sr_rob_minimal(names, 2, eps, 3, p, &err), &err);
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(p, "minimal");
  const cJSON *l2 = cJSON_GetObjectItemCaseSensitive(m, "l2");
  const cJSON *who = cJSON_GetObjectItemCaseSensitive(m, "attack");
  double want[4] = {0.8, 1.2, 1.7, 0.9};
  const char *wname[4] = {"boundary", "fmn", "boundary", "boundary"};
  int ok = cJSON_GetArraySize(l2) == 4;
  for (int i = 0; i < 4 && ok; i++) {
    ok &= fabs(cJSON_GetArrayItem(l2, i)->valuedouble - want[i]) < 1e-12;
    ok &= !strcmp(cJSON_GetArrayItem(who, i)->valuestring, wname[i]);
  }
  CHECK(ok, "per image the smallest over attacks and repeats, and who gave it");
  const cJSON *acc =
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "curve"), "robust_accuracy");
  CHECK(fabs(cJSON_GetArrayItem(acc, 0)->valuedouble - 4.0 / 6) < 1e-12 &&
            fabs(cJSON_GetArrayItem(acc, 1)->valuedouble - 2.0 / 6) < 1e-12 &&
            fabs(cJSON_GetArrayItem(acc, 2)->valuedouble - 0.0) < 1e-12,
        "curve over the 6 images looked at");
  const cJSON *by = cJSON_GetObjectItemCaseSensitive(m, "smallest_by");
  CHECK(cJSON_GetObjectItemCaseSensitive(by, "boundary")->valuedouble == 3 &&
            cJSON_GetObjectItemCaseSensitive(by, "fmn")->valuedouble == 1,
        "counts per attack");
  // not the same images: refused
  cJSON_SetNumberValue(
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(at, "fmn_l2"), "attacked"), 5);
  CHECK(sr_rob_minimal(names, 2, eps, 3, p, &err) == SR_ERR_ARG, "different image sets refused");
  const char *absent[1] = {"ddn"};
  CHECK(sr_rob_minimal(absent, 1, eps, 3, p, &err) == SR_ERR_ARG, "an attack without results refused");
  cJSON_Delete(p);
}

static int fired(const sr_masking_in *in, int k) {
  sr_masking_flag f[SR_MASK_COUNT];
  sr_masking_flags(in, f);
  return f[k].measured ? f[k].fired : -1;
}

static void test_masking(void) {
  enum { N = 20 };
  double bb[N];
  double wb[N];
  for (int i = 0; i < N; i++) {
    wb[i] = 1.0 + 0.01 * i;
    bb[i] = wb[i] * 1.05;  // the black box a little worse: clean
  }
  sr_masking_in clean = sr_masking_in_none();
  clean.bb_min = bb;
  clean.wb_min = wb;
  clean.n_min = N;
  clean.square_success = 0.50;
  clean.pgd_success = 0.60;
  clean.acc_large = 0.0;
  clean.eps_large = 1.0;
  clean.acc_default = 0.40;
  clean.acc_strong = 0.39;
  clean.eps_pgd = 0.1;
  clean.zero_grad = 0;
  clean.n_grad = 100;
  for (int k = 0; k < SR_MASK_COUNT; k++)
    CHECK(fired(&clean, k) == 0, "flag %d stays off on the clean case", k);
  sr_masking_in c = clean;
  double bb2[N];
  memcpy(bb2, bb, sizeof bb);
  for (int i = 0; i < 3; i++) bb2[i] = 0.5 * wb[i];  // 3 of 20 = 15% > 10%
  c.bb_min = bb2;
  CHECK(fired(&c, SR_MASK_BLACK_BOX) == 1, "(a) fires: black box much smaller on 15%% of the images");
  for (int i = 1; i < 3; i++) bb2[i] = bb[i];  // 1 of 20 = 5%
  CHECK(fired(&c, SR_MASK_BLACK_BOX) == 0, "(a) stays off at 5%%");
  c = clean;
  c.square_success = 0.70;
  CHECK(fired(&c, SR_MASK_BLACK_BOX) == 1, "(a) fires: Square beats PGD by 10 points");
  c = clean;
  c.acc_large = 0.2;
  CHECK(fired(&c, SR_MASK_LARGE_EPS) == 1, "(b) fires: 20%% accuracy at eps 1");
  c = clean;
  c.acc_strong = 0.30;
  CHECK(fired(&c, SR_MASK_STRONGER_PGD) == 1, "(c) fires: the stronger PGD takes 10 more points");
  c = clean;
  c.zero_grad = 7;
  CHECK(fired(&c, SR_MASK_ZERO_GRAD) == 1, "(d) fires: 7%% zero gradients");
  sr_masking_in none = sr_masking_in_none();
  for (int k = 0; k < SR_MASK_COUNT; k++)
    CHECK(fired(&none, k) == -1, "flag %d: not measured without numbers", k);
  // the JSON carries the rule and the numbers
  cJSON *o = cJSON_CreateObject();
  sr_masking_flag f[SR_MASK_COUNT];
  c = clean;
  c.zero_grad = 7;
  sr_masking_flags(&c, f);
  sr_masking_json(f, o);
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "masking");
  const cJSON *z = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m, "flags"), SR_MASK_ZERO_GRAD);
  CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "any_fired")) &&
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(z, "fired")) &&
            strstr(cJSON_GetObjectItemCaseSensitive(z, "numbers")->valuestring, "7 of 100") &&
            strlen(cJSON_GetObjectItemCaseSensitive(z, "rule")->valuestring) > 20,
        "masking JSON: fired flag with its numbers and rule");
  cJSON_Delete(o);
}

int main(void) {
  test_min_over();
  test_minimal_patch();
  test_masking();
  return sr_test_done();
}
