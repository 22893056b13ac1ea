// What `simreg attack`, `simreg robustness` and `simreg fourier-map` share on top of the library's
// robustness runners (simreg/robustness.h): the progress line and the one-line summaries they print.
#ifndef SIMREG_ATTACK_RUN_H
#define SIMREG_ATTACK_RUN_H

#include <cjson/cJSON.h>

#include "simreg/robustness.h"

// Progress on stderr: a redrawn bar on a terminal, a plain line every 20 s otherwise, nothing when quiet.
typedef struct atk_progress {
  const char *label;
  const sr_amodel *am;
  int64_t q0, total;  // total: work units (images x repeats)
  double t0, last;
  int tty, quiet, drawn;
} atk_progress;

void atk_progress_start(atk_progress *p, const char *label, const sr_amodel *am, int64_t total, int quiet);
void atk_progress_update(atk_progress *p, double done);  // done: units finished, fractional
void atk_progress_end(atk_progress *p);

// Route o's runner progress to a bar (p must outlive the runs).
void atk_progress_attach(atk_progress *p, sr_rob_opts *o, int quiet);

// One-line summaries of what a runner added to the patch `out` (stderr for sweeps, stdout for attacks).
void atk_print_noise(const sr_rob_opts *o, const cJSON *out);
void atk_print_gradient(const sr_rob_opts *o, int transfer, const cJSON *out);
// The convergence warning of Boundary / HopSkipJump is printed even when quiet.
void atk_print_minimal(const cJSON *out);
void atk_print_masking(const cJSON *out);
void atk_print_wbmin(const sr_rob_opts *o, const cJSON *out, int quiet);
void atk_print_minpert(const sr_rob_opts *o, const cJSON *out, int quiet);
void atk_print_square(const sr_rob_opts *o, const cJSON *out);

// autoattack and its attacks alone (tools/attack_aa.c): the names, the flag checks of `simreg attack` (exit
// code 2 naming the flag, 0 when fine; sets Square's budget to AutoAttack's 5000 unless --queries was given),
// the summary.
int atk_is_autoattack(const char *attack);
int atk_check_autoattack(sr_rob_opts *o, int eps_seen, int queries_seen);
void atk_print_autoattack(const sr_rob_opts *o, const cJSON *out);

#endif
