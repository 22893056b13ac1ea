// CLI plumbing shared by the subcommands: option parsing with clear errors, exit codes.
#ifndef SIMREG_CLI_H
#define SIMREG_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "simreg/core.h"
#include "simreg/model.h"

// Exit codes: 0 ok, 1 runtime failure, 2 bad user input (flag, file), 130/143 interrupted.
enum { SR_EXIT_OK = 0, SR_EXIT_FAIL = 1, SR_EXIT_USAGE = 2 };

typedef enum { SR_OPT_FLAG, SR_OPT_INT, SR_OPT_I64, SR_OPT_DOUBLE, SR_OPT_STRING } sr_opt_type;

typedef struct sr_opt {
  const char *name;  // long name without dashes, e.g. "epochs"
  sr_opt_type type;
  void *dst;  // int* for FLAG/INT, int64_t*, double*, const char** for STRING
  const char *help;
  double min, max;  // range for INT/I64/DOUBLE when min < max
  int seen;         // set by the parser
} sr_opt;

// The command line of a subcommand: argv[first..argc) are its arguments.
typedef struct sr_cli_argv {
  int argc;
  char **argv;
  int first;
} sr_cli_argv;
// Parse the arguments against opts (terminated by {0}). Positional arguments go to pos[] (at most
// max_pos). "--help"/"-h" prints usage and returns -1 (caller exits 0). Errors print to stderr naming the
// flag and return 2. Returns 0 on success and sets *npos.
int sr_cli_parse(const char *cmd, const char *usage, sr_opt *opts, const sr_cli_argv *args, const char **pos,
                 int max_pos, int *npos);
void sr_cli_usage(const char *cmd, const char *usage, const sr_opt *opts);
// Whether the option named `name` appeared on the command line.
int sr_cli_seen(const sr_opt *opts, const char *name);
// Print "simreg CMD: <message>" and return the exit code for the status.
int sr_cli_fail(const char *cmd, const sr_err *err);
// SR_WINOGRAD: 0 every convolution direct, 1 Winograd where its rule picks it, unset: where native
// (cli_exec.c).
int sr_cli_winograd(void);
// SR_CONV_ALGO: measure (the default) | direct | winograd | rule | dnnl-winograd (sr_model_set_conv_algo);
// unset with SR_WINOGRAD=0 or 1 set: direct or winograd. NULL (after a message naming SR_CONV_ALGO) when it
// names none of them: the command exits 2.
const char *sr_cli_conv_algo(void);
// The machine-wide convolution choice cache for a command measuring under algo (sr_conv_cache_load; NULL
// unless algo is "measure"): SR_CONV_CACHE=PATH, =off (none), unset: $XDG_CACHE_HOME/simreg/conv_algo.json,
// else $HOME/.cache/simreg/conv_algo.json, else none. Its directory is created (mkdir -p, 0755); where that
// fails or it is not writable, a one-line warning on stderr and NULL. The path is written into buf.
const char *sr_cli_conv_cache(const char *cmd, const char *algo, char *buf, size_t n);
// What m measured merged into the cache at path (sr_conv_cache_merge; NULL: nothing); a failure is a
// one-line warning on stderr.
void sr_cli_conv_cache_save(const char *cmd, const char *path, const sr_model *m);

// simreg import's work (cmd_import.c): MODEL.onnx -> a run directory; also behind --model onnx:PATH.
typedef struct sr_cli_import {
  const char *src, *data, *out, *features;
  int channels, size, gray_flag, color_flag;
  double mean, scale;
  const char *by_path;  // config.json's "model" ("onnx:/abs/src.onnx": no copy in out), or NULL: a copy
  int quiet;            // print nothing on success
} sr_cli_import;
// Exit code (0: the run was written); errors are printed as "simreg CMD: ...".
int sr_cli_import_run(const char *cmd, const sr_cli_import *a);

// --model onnx:PATH instead of RUN for the commands that open a run (cli_model.c): the model is imported as
// simreg import does (with --data and the pixel-scaling flags) into --run-dir DIR, or into a temporary run
// (removed by sr_cli_model_done) where the command writes nothing into the run.
typedef struct sr_cli_model {
  const char *model;    // --model onnx:PATH (NULL: the command's RUN argument)
  const char *run_dir;  // --run-dir DIR
  double mean, scale;   // --input-mean, --input-scale
  int gray, color;      // --gray, --color
  char dir[4096];       // the run the command opens
  int temp;             // dir is temporary
} sr_cli_model;
#define SR_CLI_MODEL_INIT \
  { .mean = 0.0, .scale = 1.0 }
// The option rows (spliced into a command's sr_opt table).
// clang-format off
#define SR_CLI_MODEL_OPTS(mo)                                                                               \
  {"model", SR_OPT_STRING, &(mo).model, "onnx:PATH: an ONNX model instead of RUN (with --data)", 0, 0, 0},  \
  {"run-dir", SR_OPT_STRING, &(mo).run_dir,                                                                 \
   "with --model: the run directory it is imported into (kept; needed where results go into the run)",      \
   0, 0, 0},                                                                                                \
  {"input-mean", SR_OPT_DOUBLE, &(mo).mean, "with --model: x' = (x - mean) * scale, x in [0,1] (default 0)", \
   0, 0, 0},                                                                                                \
  {"input-scale", SR_OPT_DOUBLE, &(mo).scale, "with --model: (default 1)", 0, 0, 0},                        \
  {"gray", SR_OPT_FLAG, &(mo).gray, "with --model: feed gray images (channel mean)", 0, 0, 0},              \
  {"color", SR_OPT_FLAG, &(mo).color, "with --model: feed the dataset's channels as they are", 0, 0, 0}
// clang-format on
// After parsing: without --model, checks that no --model flag was given and returns 0. With it: no RUN may be
// given (*npos == 0), data is required, writes (what the command writes into the run, e.g.
// "RUN/robustness.json"; NULL: nothing) requires --run-dir; then imports and sets pos[0] = mo->dir, *npos =
// 1. Returns an exit code (0: go on).
int sr_cli_model_open(const char *cmd, sr_cli_model *mo, const sr_opt *opts, const char *data,
                      const char *writes, const char **pos, int *npos);
// Remove a temporary run (nothing else); safe to call twice.
void sr_cli_model_done(sr_cli_model *mo);

typedef int (*sr_cmd_fn)(int argc, char **argv);
// One line per subcommand, defined in cmd_<name>.c and listed in simreg.c's COMMANDS table.
int sr_cmd_corrupt(int argc, char **argv);
int sr_cmd_spectrum(int argc, char **argv);
int sr_cmd_fourier_map(int argc, char **argv);
int sr_cmd_report(int argc, char **argv);
int sr_cmd_select(int argc, char **argv);

int sr_cmd_train(int argc, char **argv);
int sr_cmd_info(int argc, char **argv);
int sr_cmd_eval(int argc, char **argv);
int sr_cmd_similarity(int argc, char **argv);
int sr_cmd_rsa(int argc, char **argv);
int sr_cmd_attack(int argc, char **argv);
int sr_cmd_robustness(int argc, char **argv);
int sr_cmd_import(int argc, char **argv);
int sr_cmd_export(int argc, char **argv);

#endif
