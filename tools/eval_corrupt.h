// simreg eval --corruptions (tools/eval_corrupt.c).
#ifndef SIMREG_EVAL_CORRUPT_H
#define SIMREG_EVAL_CORRUPT_H
#include "simreg/train.h"
int sr_eval_corruptions(const char *run, sr_model *m, const sr_loader_opts *o, const char *dir, int json);
#endif
