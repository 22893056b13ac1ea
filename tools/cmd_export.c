// simreg export: a run of an imported model (simreg import, or train --init / --model onnx:) back to ONNX,
// with its trained weights and BatchNorm statistics, for PyTorch or any ONNX runtime.
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "simreg/onnx.h"
#include "simreg/train.h"

int sr_cmd_export(int argc, char **argv) {
  const char *out = NULL, *which = "best";
  sr_opt opts[] = {
      {"o", SR_OPT_STRING, &out, "the .onnx file to write (required)", 0, 0, 0},
      {"checkpoint", SR_OPT_STRING, &which, "best | last (default best)", 0, 0, 0},
      {0},
  };
  const char *pos[1];
  int npos;
  int rc = sr_cli_parse("export", "RUN -o MODEL.onnx [options]", opts,
                        &(sr_cli_argv){.argc = argc, .argv = argv, .first = 2}, pos, 1, &npos);
  if (rc) return rc < 0 ? 0 : rc;
  if (npos != 1 || !out) {
    fprintf(stderr, "simreg export: give one run directory and -o FILE.onnx (see simreg export --help)\n");
    return SR_EXIT_USAGE;
  }
  if (strcmp(which, "best") && strcmp(which, "last")) {
    fprintf(stderr, "simreg export: --checkpoint must be best or last, not '%s'\n", which);
    return SR_EXIT_USAGE;
  }
  sr_err err = {0};
  sr_model m;
  sr_run_info info;
  if (sr_run_open(pos[0], which, &m, &info, &err)) return sr_cli_fail("export", &err);
  if (strncmp(m.cfg.arch, "onnx:", 5)) {
    fprintf(stderr, "simreg export: %s is a built-in %s model; export works on imported (ONNX) models\n",
            pos[0], m.cfg.arch);
    sr_model_free(&m);
    return SR_EXIT_USAGE;
  }
  sr_status s = sr_onnx_export(&m, m.cfg.arch + 5, out, &err);
  sr_model_free(&m);
  if (s) return sr_cli_fail("export", &err);
  printf("wrote %s\n", out);
  return 0;
}
