// --model onnx:PATH for the commands that open a run: the model becomes a run (simreg import's work), into
// --run-dir or a temporary directory, and the command opens that run like any other.
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int usage(const char *cmd, const char *msg, const char *a, const char *b) {
  fprintf(stderr, "simreg %s: ", cmd);
  fprintf(stderr, msg, a, b);
  fprintf(stderr, "\n");
  return SR_EXIT_USAGE;
}

// Whether file a and file b hold the same bytes (either unreadable: no).
static int same_bytes(const char *a, const char *b) {
  void *x = NULL, *y = NULL;
  size_t nx = 0, ny = 0;
  sr_err err = {0};
  int same = !sr_read_file(a, (size_t)2 << 30, &x, &nx, &err) &&
             !sr_read_file(b, (size_t)2 << 30, &y, &ny, &err) && nx == ny && !memcmp(x, y, nx);
  sr_free(x);
  sr_free(y);
  return same;
}

// DIR may receive the import: no config.json there, or one of an earlier import (no training: epochs 0, an
// "onnx" object) of a byte-identical model.onnx. A trained run is never overwritten.
static int dir_usable(const char *dir, const char *src) {
  char path[4200];
  snprintf(path, sizeof path, "%s/config.json", dir);
  if (access(path, F_OK)) return 1;
  void *buf;
  size_t n;
  sr_err err = {0};
  if (sr_read_file(path, 1 << 20, &buf, &n, &err)) return 0;
  cJSON *j = cJSON_ParseWithLength(buf, n);
  sr_free(buf);
  const cJSON *ep = cJSON_GetObjectItemCaseSensitive(j, "epochs");
  int import = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "onnx")) && cJSON_IsNumber(ep) &&
               ep->valuedouble == 0;
  cJSON_Delete(j);
  snprintf(path, sizeof path, "%s/model.onnx", dir);
  return import && same_bytes(path, src);
}

static int any_model_flag(const sr_opt *opts) {
  const char *names[] = {"run-dir", "input-mean", "input-scale", "gray", "color"};
  for (int k = 0; k < 5; k++)
    if (sr_cli_seen(opts, names[k])) return 1;
  return 0;
}

// A temporary run names the model by its absolute path (nothing copied).
static int import_temp(const char *cmd, sr_cli_model *mo, sr_cli_import *im) {
  const char *tmp = getenv("TMPDIR");
  snprintf(mo->dir, sizeof mo->dir, "%s/simreg-model-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(mo->dir)) {
    fprintf(stderr, "simreg %s: cannot create a temporary run under %s: %s\n", cmd,
            tmp && *tmp ? tmp : "/tmp", strerror(errno));
    return SR_EXIT_FAIL;
  }
  mo->temp = 1;
  char abs[PATH_MAX], arch[PATH_MAX + 8];
  if (!realpath(mo->model + 5, abs)) {
    sr_cli_model_done(mo);
    return usage(cmd, "--model: cannot open %s: %s", mo->model + 5, strerror(errno));
  }
  snprintf(arch, sizeof arch, "onnx:%s", abs);
  im->by_path = arch;
  im->out = mo->dir;
  int rc = sr_cli_import_run(cmd, im);
  if (rc) sr_cli_model_done(mo);
  return rc;
}

int sr_cli_model_open(const char *cmd, sr_cli_model *mo, const sr_opt *opts, const char *data,
                      const char *writes, const char **pos, int *npos) {
  if (!mo->model)
    return any_model_flag(opts) ? usage(cmd,
                                        "--run-dir, --input-mean, --input-scale, --gray and --color go with "
                                        "--model onnx:PATH%s%s",
                                        "", "")
                                : 0;
  if (strncmp(mo->model, "onnx:", 5) || !mo->model[5])
    return usage(cmd, "--model takes onnx:PATH (a trained run is given as RUN), not '%s'%s", mo->model, "");
  if (*npos) return usage(cmd, "give a RUN or --model %s, not both%s", mo->model, "");
  if (!data) return usage(cmd, "--model %s needs --data SPEC (the dataset it classifies)%s", mo->model, "");
  if (mo->gray && mo->color) return usage(cmd, "--gray and --color exclude each other%s%s", "", "");
  sr_cli_import im = {.src = mo->model + 5,
                      .data = data,
                      .gray_flag = mo->gray,
                      .color_flag = mo->color,
                      .mean = mo->mean,
                      .scale = mo->scale,
                      .quiet = 1};
  int rc;
  if (mo->run_dir) {
    if (!dir_usable(mo->run_dir, im.src))
      return usage(cmd, "--run-dir %s holds another run (not an import of %s): give a new directory",
                   mo->run_dir, im.src);
    snprintf(mo->dir, sizeof mo->dir, "%s", mo->run_dir);
    im.out = mo->dir;
    rc = sr_cli_import_run(cmd, &im);
  } else if (writes) {
    return usage(cmd, "--model %s: this writes %s; give --run-dir DIR for the imported run", mo->model,
                 writes);
  } else {
    rc = import_temp(cmd, mo, &im);
  }
  if (rc) return rc;
  pos[0] = mo->dir;
  *npos = 1;
  return 0;
}

void sr_cli_model_done(sr_cli_model *mo) {
  if (!mo->temp) return;
  const char *files[] = {"config.json", "best.safetensors", "last.safetensors"};
  char path[4200];
  for (int k = 0; k < 3; k++) {
    snprintf(path, sizeof path, "%s/%s", mo->dir, files[k]);
    unlink(path);
  }
  rmdir(mo->dir);
  mo->temp = 0;
}
