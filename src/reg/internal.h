// Shared between the reg sources: target allocation and the subset pair mask.
#ifndef SR_REG_INTERNAL_H
#define SR_REG_INTERNAL_H

#include "simreg/reg.h"

// Allocate t->S (n x n) and t->idx (identity); t must be zeroed.
sr_status sr_reg_target_alloc(sr_reg_target *t, int64_t n, sr_err *err);
// Allocate an empty mask (words per row, row_start) for t->n rows.
sr_status sr_reg_mask_alloc(sr_reg_target *t, sr_err *err);
// Recount row_start and n_pairs from the mask bits; 0 if every set bit lies in j > i, j < n; -1 if not.
int sr_reg_mask_count(sr_reg_target *t);
// Whether S^pix value v selects the pair for a subset kind with threshold th.
int sr_reg_subset_keeps(sr_reg_kind kind, double th, float v);

#endif
