// simreg eval: accuracy, per-class accuracy and the confusion matrix of a trained run on any split.
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "eval_corrupt.h"
#include "simreg/npy.h"
#include "simreg/train.h"

static void print_text(const sr_dataset *ds, const sr_eval_result *r) {
  printf("%s: %lld images, accuracy %.4f, loss %.4f\n\nper class:\n", ds->name, (long long)r->n, r->accuracy,
         r->loss);
  for (int k = 0; k < ds->num_classes; k++) {
    int64_t tot = 0;
    for (int p = 0; p < r->classes; p++) tot += r->confusion[(int64_t)k * r->classes + p];
    printf("  %-16s %.4f (%lld)\n", ds->class_names[k],
           tot ? (double)r->confusion[(int64_t)k * r->classes + k] / tot : 0.0, (long long)tot);
  }
  printf("\nconfusion (rows: true, columns: predicted):\n");
  for (int k = 0; k < ds->num_classes; k++) {
    for (int p = 0; p < ds->num_classes; p++)
      printf("%6lld", (long long)r->confusion[(int64_t)k * r->classes + p]);
    printf("\n");
  }
}

static void print_json(const sr_dataset *ds, const sr_eval_result *r, sr_scores scores) {
  cJSON *j = cJSON_CreateObject(), *pc = cJSON_AddObjectToObject(j, "per_class"),
        *cm = cJSON_AddArrayToObject(j, "confusion");
  cJSON_AddStringToObject(j, "dataset", ds->name);
  cJSON_AddNumberToObject(j, "images", (double)r->n);
  cJSON_AddNumberToObject(j, "accuracy", r->accuracy);
  cJSON_AddNumberToObject(j, "loss", r->loss);
  cJSON_AddStringToObject(j, "scores", sr_scores_name(scores));
  for (int k = 0; k < ds->num_classes; k++) {
    int64_t tot = 0;
    cJSON *row = cJSON_CreateArray();
    for (int p = 0; p < r->classes; p++) {
      tot += r->confusion[(int64_t)k * r->classes + p];
      cJSON_AddItemToArray(row, cJSON_CreateNumber((double)r->confusion[(int64_t)k * r->classes + p]));
    }
    cJSON_AddItemToArray(cm, row);
    cJSON_AddNumberToObject(pc, ds->class_names[k],
                            tot ? (double)r->confusion[(int64_t)k * r->classes + k] / tot : 0.0);
  }
  char *s = cJSON_PrintUnformatted(j);
  printf("%s\n", s);
  free(s);
  cJSON_Delete(j);
}

// The model's scores (sr_model_scores: the probabilities of a graph that ends in Softmax, else the logits)
// of every image of ds, in order, as an (N, classes) float32 .npy.
static sr_status write_scores(sr_model *m, const sr_dataset *ds, const sr_loader_opts *o, const char *path,
                              sr_err *err) {
  const int64_t B = 256, K = m->cfg.classes, per = (int64_t)m->cfg.in_c * m->cfg.in_h * m->cfg.in_w;
  float *x = sr_alloc(sizeof(float) * (size_t)(B * per)),
        *out = sr_alloc(sizeof(float) * (size_t)(ds->n * K));
  int32_t *y = sr_alloc(sizeof(int32_t) * (size_t)B);
  int64_t *idx = sr_alloc(sizeof(int64_t) * (size_t)B);
  sr_status st = x && out && y && idx ? SR_OK : sr_fail(err, SR_ERR_NOMEM, "%s: scores buffers", path);
  for (int64_t s = 0; s < ds->n && !st; s += B) {
    int64_t nb = ds->n - s < B ? ds->n - s : B;
    for (int64_t i = 0; i < nb; i++) idx[i] = s + i;
    st = sr_make_batch(ds, &(sr_batch_rows){.idx = idx, .n = nb, .epoch = 0, .first_position = s}, o, x, y,
                       err);
    if (!st) st = sr_model_scores(m, x, nb, out + s * K, err);
  }
  int64_t shape[2] = {ds->n, K};
  if (!st) st = sr_npy_write(path, SR_F32, 2, shape, out, err);
  sr_free(x);
  sr_free(out);
  sr_free(y);
  sr_free(idx);
  return st;
}

int sr_cmd_eval(int argc, char **argv) {
  const char *data = NULL, *split = "test", *which = "best", *corruptions = NULL, *precision = "f32";
  const char *scores = NULL;
  int json = 0;
  sr_cli_model mo = SR_CLI_MODEL_INIT;
  sr_opt opts[] = {
      {"data", SR_OPT_STRING, &data, "dataset spec (default: the run's)", 0, 0, 0},
      {"split", SR_OPT_STRING, &split, "train | test (default test)", 0, 0, 0},
      {"checkpoint", SR_OPT_STRING, &which, "best | last (default best)", 0, 0, 0},
      {"corruptions", SR_OPT_STRING, &corruptions,
       "CIFAR-10-C style directory: accuracy per corruption, severity, group (writes RUN/corruptions.json)",
       0, 0, 0},
      {"json", SR_OPT_FLAG, &json, "JSON output", 0, 0, 0},
      {"scores", SR_OPT_STRING, &scores,
       "write the model's scores of every image, (N, classes) float32 .npy: probabilities where the model "
       "ends "
       "in Softmax, else logits",
       0, 0, 0},
      {"precision", SR_OPT_STRING, &precision,
       "f32 (default) or bf16 mixed precision (bf16 rounding; f32 speed on this engine)", 0, 0, 0},
      SR_CLI_MODEL_OPTS(mo),
      {0},
  };
  const char *pos[1];
  int npos;
  int rc = sr_cli_parse("eval", "RUN | --model onnx:PATH --data SPEC [options]", opts,
                        &(sr_cli_argv){.argc = argc, .argv = argv, .first = 2}, pos, 1, &npos);
  if (rc) return rc < 0 ? 0 : rc;
  if (strcmp(which, "best") && strcmp(which, "last")) {
    fprintf(stderr, "simreg eval: --checkpoint must be best or last, not '%s'\n", which);
    return SR_EXIT_USAGE;
  }
  sr_err err = {0};
  sr_precision prec;
  if (sr_precision_parse(precision, &prec, &err)) return sr_cli_fail("eval", &err);
  if ((rc = sr_cli_model_open("eval", &mo, opts, data, corruptions ? "RUN/corruptions.json" : NULL, pos,
                              &npos)))
    return rc;
  if (npos != 1) {
    fprintf(stderr, "simreg eval: give one run directory or --model onnx:PATH (see simreg eval --help)\n");
    return SR_EXIT_USAGE;
  }
  sr_model m;
  sr_run_info info;
  sr_status ost = sr_run_open(pos[0], which, &m, &info, &err);
  int temp_run = mo.temp;  // an import read from a temporary run: no cache file there
  sr_cli_model_done(&mo);  // a temporary run is read: the model is in memory
  if (ost) return sr_cli_fail("eval", &err);
  const char *algo = sr_cli_conv_algo();
  if (!algo) {
    sr_model_free(&m);
    return SR_EXIT_USAGE;
  }
  // the machine's cached choices for the keys the run lacks (sr_run_open loaded the run's own first)
  char cache_buf[4096];
  const char *cache = sr_cli_conv_cache("eval", algo, cache_buf, sizeof cache_buf);
  if (sr_model_set_precision(&m, prec, &err) || sr_model_set_conv_algo(&m, algo, &err) ||
      (cache && sr_conv_cache_load(cache, &m, &err))) {
    sr_model_free(&m);
    return sr_cli_fail("eval", &err);
  }
  // Under mpirun the test images are split over the ranks and rank 0 prints (docs/SCALING.md).
  sr_dist *d;
  if (sr_dist_init(&d, &err)) {
    sr_model_free(&m);
    return sr_cli_fail("eval", &err);
  }
  if (corruptions && sr_dist_rank(d) > 0) {  // the corruption sweep runs on rank 0 alone
    sr_model_free(&m);
    sr_dist_finalize(d);
    return 0;
  }
  if (corruptions) {
    sr_loader_opts o = sr_loader_opts_default();
    o.shuffle = 0;
    o.augment = 0;
    o.batch = 256;
    o.gray = info.gray;
    o.mean = (float)info.mean;
    o.scale = (float)info.scale;
    rc = sr_eval_corruptions(pos[0], &m, &o, corruptions, json);
    if (!rc) sr_cli_conv_cache_save("eval", cache, &m);
    sr_model_free(&m);
    sr_dist_finalize(d);
    return rc;
  }
  sr_dataset ds;
  sr_eval_result r = {0};
  sr_status st = sr_dataset_load(data ? data : info.data, split, &ds, &err);
  if (!st) {
    sr_loader_opts o = sr_loader_opts_default();
    o.shuffle = 0;
    o.augment = 0;
    o.batch = 256;
    o.gray = info.gray;
    o.mean = (float)info.mean;
    o.scale = (float)info.scale;
    if (sr_batch_channels(&ds, &o) != m.cfg.in_c || ds.h != m.cfg.in_h || ds.w != m.cfg.in_w)
      st = sr_fail(&err, SR_ERR_SHAPE, "%s images are %dx%dx%d, the model takes %dx%dx%d", ds.name,
                   sr_batch_channels(&ds, &o), ds.h, ds.w, m.cfg.in_c, m.cfg.in_h, m.cfg.in_w);
    if (!st) st = sr_evaluate_sharded(d, &m, &(sr_eval_set){.ds = &ds, .idx = NULL, .n = 0}, &o, 1, &r, &err);
    if (!st && scores && sr_dist_rank(d) == 0) st = write_scores(&m, &ds, &o, scores, &err);
  }
  if (!st && sr_dist_rank(d) == 0) json ? print_json(&ds, &r, m.scores) : print_text(&ds, &r);
  // the plans' convolution choices cached in the run for the next command (not in a temporary import)
  if (!st && sr_dist_rank(d) == 0 && !temp_run) st = sr_run_save_conv_choices(pos[0], &m, &err);
  if (!st && sr_dist_rank(d) == 0) sr_cli_conv_cache_save("eval", cache, &m);
  sr_eval_result_free(&r);
  sr_dataset_free(&ds);
  sr_model_free(&m);
  rc = st ? sr_cli_fail("eval", &err) : 0;
  if (st) sr_dist_abort(d, rc);  // a failed rank would leave the others waiting
  sr_dist_finalize(d);
  return rc;
}
