// The convolution choices of a run as files (src/train/convcache.c): RUN/conv_algo.json written atomically
// (no temp file left) and read back equal; config.json's "conv_algo" read too; a corrupt cache file is an
// error that names it; a missing one is no error.
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "simreg/train.h"
#include "sr_test.h"

static void make_model(sr_model *m) {
  sr_model_config cfg = {.arch = "cnn-small", .in_c = 1, .in_h = 28, .in_w = 28, .classes = 10, .width = 1};
  sr_rng rng;
  sr_rng_seed(&rng, 1, 0);
  sr_err err = {0};
  CHECK_OK(sr_model_create(m, &cfg, &rng, &err), &err);
}

static int files_in(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
  if (d) closedir(d);
  return n;
}

static void write_text(const char *path, const char *s) {
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(s, f);
    fclose(f);
  }
}

int main(void) {
  char dir[] = "/tmp/sr_conv_cache_XXXXXX", path[256];
  CHECK(mkdtemp(dir) != NULL, "temp dir");
  sr_model a, b;
  sr_err err = {0};
  make_model(&a);
  make_model(&b);
  CHECK_OK(sr_model_set_conv_algo(&a, "measure", &err), &err);
  float x[8 * 28 * 28] = {0}, y[8 * 10];
  CHECK_OK(sr_model_infer(&a, x, 8, y, &err), &err);  // times its convolutions
  const sr_conv_choice *ca, *cb;
  int na = sr_model_conv_choices(&a, &ca);
  CHECK(na >= 1, "a measured plan recorded %d choices", na);
  CHECK_OK(sr_run_load_conv_choices(dir, &b, &err), &err);  // nothing there yet: no error, nothing added
  CHECK(sr_model_conv_choices(&b, &cb) == 0, "an empty run gives no choices");
  CHECK_OK(sr_run_save_conv_choices(dir, &a, &err), &err);
  CHECK(files_in(dir) == 1, "one file written, no temp file left (%d entries)", files_in(dir));
  CHECK_OK(sr_run_load_conv_choices(dir, &b, &err), &err);
  int nb = sr_model_conv_choices(&b, &cb);
  CHECK(nb == na, "read back %d of %d choices", nb, na);
  for (int i = 0; i < na && i < nb; i++) {
    CHECK(!strcmp(ca[i].key, cb[i].key) && ca[i].algo == cb[i].algo, "choice %d: %s %d", i, cb[i].key,
          cb[i].algo);
    for (int k = 0; k < SR_CONV_ALGOS; k++)
      CHECK((ca[i].ms[k] < 0 && cb[i].ms[k] < 0) || ca[i].ms[k] == cb[i].ms[k], "choice %d time %d: %g vs %g",
            i, k, ca[i].ms[k], cb[i].ms[k]);
  }
  // config.json's "conv_algo" member: read as well (with another algorithm it replaces the entry)
  snprintf(path, sizeof path, "%s/config.json", dir);
  char cfg[512];
  snprintf(cfg, sizeof cfg,
           "{\"model\": \"cnn-small\", \"conv_algo\": {\"setting\": \"measure\", \"choices\": "
           "[{\"key\": \"plan test-key\", \"algo\": \"dnnl-winograd\", \"ms\": {\"direct\": 2.5}}]}}");
  write_text(path, cfg);
  CHECK_OK(sr_run_load_conv_choices(dir, &b, &err), &err);
  nb = sr_model_conv_choices(&b, &cb);
  CHECK(nb == na + 1 && !strcmp(cb[na].key, "plan test-key") && cb[na].algo == SR_CONV_DNNL_WINOGRAD &&
            cb[na].ms[SR_CONV_DIRECT] == 2.5 && cb[na].ms[SR_CONV_WINOGRAD] < 0,
        "config.json's choice read (%d entries)", nb);
  unlink(path);
  // corrupt cache files: errors naming the file
  snprintf(path, sizeof path, "%s/%s", dir, SR_CONV_CACHE_FILE);
  const char *bad[] = {"{\"choices\": [{\"key\": \"k\", \"alg", "[1, 2]", "{\"choices\": 3}",
                       "{\"choices\": [{\"key\": \"k\", \"algo\": \"fft\"}]}"};
  for (int k = 0; k < 4; k++) {
    write_text(path, bad[k]);
    sr_err e2 = {0};
    CHECK(sr_run_load_conv_choices(dir, &b, &e2) == SR_ERR_FORMAT && strstr(e2.msg, path),
          "corrupt cache %d: SR_ERR_FORMAT naming the file: %s", k, e2.msg);
  }
  unlink(path);
  rmdir(dir);
  sr_model_free(&a);
  sr_model_free(&b);
  return sr_test_done();
}
