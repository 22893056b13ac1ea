// The JSON inputs a user can hand us. The first byte picks the reader, the rest is the file:
//   0: RUN/config.json through sr_train_config_load (train --resume)
//   1: RUN/config.json through sr_run_open (eval/attack: rebuilds the model; no weights file, so it must
//      fail cleanly after the model is built)
//   2: RUN/config.json, 3: RUN/metrics.jsonl, 4: RUN/robustness.json, 5: RUN/corruptions.json through
//      sr_run_load (report)
//   6: RUN/robustness.json as the existing file sr_robustness_merge merges into
#include <cjson/cJSON.h>

#include "fuzz_util.h"
#include "simreg/attack.h"
#include "simreg/report.h"
#include "simreg/train.h"

static const char *const FILES[] = {"config.json",     "config.json",      "config.json",    "metrics.jsonl",
                                    "robustness.json", "corruptions.json", "robustness.json"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  int which = data[0] % 7;
  fz_reset();
  char path[1024];
  fz_write(FILES[which], data + 1, size - 1, path, sizeof path);
  sr_err err = {0};
  sr_status st;
  if (which == 0) {
    sr_train_config c = sr_train_config_default();
    st = sr_train_config_load(fz_dir(), &c, &err);
  } else if (which == 1) {
    sr_model m;
    sr_run_info info;
    st = sr_run_open(fz_dir(), "best", &m, &info, &err);
    if (!st) abort();  // there is no best.safetensors
  } else if (which <= 5) {
    sr_run r;
    st = sr_run_load(fz_dir(), &r, &err);
    if (!st) sr_run_free(&r);
  } else {
    cJSON *patch = cJSON_CreateObject();
    cJSON_AddNumberToObject(patch, "clean_accuracy", 0.5);
    st = sr_robustness_merge(fz_dir(), patch, &err);
  }
  fz_check_err(st, &err);
  return 0;
}
