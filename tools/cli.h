// CLI plumbing shared by the subcommands: option parsing with clear errors, exit codes.
#ifndef SIMREG_CLI_H
#define SIMREG_CLI_H

#include <stdint.h>

#include "simreg/core.h"

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

// Parse argv[first..argc) against opts (terminated by {0}). Positional arguments go to pos[] (at most
// max_pos). "--help"/"-h" prints usage and returns -1 (caller exits 0). Errors print to stderr naming the
// flag and return 2. Returns 0 on success and sets *npos.
int sr_cli_parse(const char *cmd, const char *usage, sr_opt *opts, int argc, char **argv, int first,
                 const char **pos, int max_pos, int *npos);
void sr_cli_usage(const char *cmd, const char *usage, const sr_opt *opts);
// Whether the option named `name` appeared on the command line.
int sr_cli_seen(const sr_opt *opts, const char *name);
// Print "simreg CMD: <message>" and return the exit code for the status.
int sr_cli_fail(const char *cmd, const sr_err *err);
// SR_WINOGRAD: 0 every convolution direct, 1 Winograd where its rule picks it, unset: where native
// (cli_exec.c).
int sr_cli_winograd(void);

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
