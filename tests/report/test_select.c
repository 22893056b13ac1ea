// The selection rule: runs below 0.9x the baseline's clean accuracy drop out, the rest rank by accuracy at
// the strongest level (or by the boundary median); clean accuracy comes from the same curve's level 0.
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "simreg/report.h"
#include "sr_test.h"

static void write_run(const char *root, const char *name, double clean, double strongest, double median) {
  char dir[600], path[700];
  snprintf(dir, sizeof dir, "%s/%s", root, name);
  mkdir(dir, 0755);
  snprintf(path, sizeof path, "%s/robustness.json", dir);
  FILE *f = fopen(path, "w");
  // clean_accuracy deliberately differs from the curve's level 0 (another command's image set).
  fprintf(f,
          "{\"clean_accuracy\": 0.5, \"noise\": {\"gaussian\": {\"levels\": [0, 0.3, 0.1], \"accuracy\": "
          "[%g, 0.01, %g]}},"
          " \"boundary\": {\"norms_sq_per_dim\": [%g, %g, %g]}}",
          clean, strongest, median * 0.5, median, median * 3);
  fclose(f);
}

int main(void) {
  char root[] = "/tmp/sr_select_XXXXXX";
  CHECK(mkdtemp(root) != NULL, "mkdtemp");
  write_run(root, "base", 0.90, 0.02, 1e-3);
  write_run(root, "a", 0.85, 0.02, 4e-3);  // kept (0.85 >= 0.81), strongest level 0.3 -> 0.01
  write_run(root, "b", 0.70, 0.02, 9e-3);  // dropped: below 0.9x
  write_run(root, "c", 0.88, 0.02, 2e-3);  // kept
  sr_run runs[4];
  const char *names[4] = {"base", "a", "b", "c"};
  sr_err err = {0};
  for (int i = 0; i < 4; i++) {
    char dir[600];
    snprintf(dir, sizeof dir, "%s/%s", root, names[i]);
    CHECK_OK(sr_run_load(dir, &runs[i], &err), &err);
  }
  sr_select_row rows[3];
  sr_selection sel = {.metric = "noise:gaussian", .ratio = 0.9};
  CHECK_OK(sr_select_rank(&runs[0], runs + 1, 3, &sel, rows, &err), &err);
  double bc = sel.base_clean, bs = sel.base_score;
  CHECK(bc == 0.90, "baseline clean from the curve's level 0: %g", bc);
  CHECK(bs == 0.01, "score at the largest level (0.3, listed second): %g", bs);
  CHECK(rows[0].kept && rows[2].kept && !rows[1].kept, "kept a, c; dropped b");
  CHECK(rows[0].rank == 1 && rows[2].rank == 2 && rows[1].rank == 0, "ties keep order: a=%d c=%d",
        rows[0].rank, rows[2].rank);

  sel.metric = "boundary";
  CHECK_OK(sr_select_rank(&runs[0], runs + 1, 3, &sel, rows, &err), &err);
  bc = sel.base_clean;
  CHECK(bc == 0.5, "boundary: clean accuracy is the run's clean_accuracy: %g", bc);
  // every run has clean_accuracy 0.5, so all are kept; medians 4e-3 > 2e-3 ... b has 9e-3.
  CHECK(rows[1].rank == 1 && rows[0].rank == 2 && rows[2].rank == 3, "ranked by median: %d %d %d",
        rows[0].rank, rows[1].rank, rows[2].rank);
  CHECK(fabs(rows[0].score - 4e-3) < 1e-15, "median of the norms: %g", rows[0].score);

  CHECK(sr_select_rank(&runs[0], runs + 1, 3, &(sr_selection){.metric = "noise:speckle", .ratio = 0.9}, rows,
                       &err) == SR_ERR_FORMAT,
        "baseline without that curve is an error");
  CHECK(sr_select_rank(&runs[0], runs + 1, 3, &(sr_selection){.metric = "loss", .ratio = 0.9}, rows, &err) ==
            SR_ERR_ARG,
        "unknown metric");
  CHECK(sr_select_rank(&runs[0], runs + 1, 3, &(sr_selection){.metric = "noise:gaussian", .ratio = 1.5}, rows,
                       &err) == SR_ERR_ARG,
        "ratio > 1");
  for (int i = 0; i < 4; i++) sr_run_free(&runs[i]);
  char cmd[700];
  snprintf(cmd, sizeof cmd, "rm -rf %s", root);
  CHECK(system(cmd) == 0, "cleanup");
  return sr_test_done();
}
