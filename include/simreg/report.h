// Comparing training runs: read run directories (docs/FORMATS.md), compute spectra and statistics, draw the
// figures and write index.html, report.md and report.json (docs/REPORT.md).
#ifndef SIMREG_REPORT_H
#define SIMREG_REPORT_H

#include "simreg/core.h"
#include "simreg/spectral.h"
#include "simreg/stats.h"
#include "simreg/verdict.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SR_REPORT_MAX_RUNS    8   // runs compared in one report (one colour each, maps side by side)
#define SR_REPORT_MAX_CURVES  16  // noise or transfer types per run
#define SR_REPORT_MAX_CORR    64  // corruptions per run
#define SR_REPORT_MAX_SEV     8   // severities
#define SR_REPORT_MAX_NOTES   32
#define SR_REPORT_MAX_MIN_EPS 64  // points of the minimum-over-attacks curve
#define SR_REPORT_MAX_MASK    8   // gradient-masking flags
#define SR_REPORT_CLAIMS      5  // verdicts per run: clean cost, noise, transfer, decision distance, spectrum

typedef struct sr_curve {
  char name[64];
  int64_t n;
  double *levels, *acc;  // (n), owned
  double *lo, *hi;       // (n) or NULL, owned
  char source[256];      // transfer: the surrogate it was crafted on ("" when not given)
  uint8_t *correct;   // (n, n_correct) per level, 1 where an image (x draw) stayed correct; NULL when absent
  int64_t n_correct;  // images x draws per level (index r * images + i)
} sr_curve;

typedef struct sr_corruption {
  char name[64], group[32];
  double acc[SR_REPORT_MAX_SEV];
} sr_corruption;

typedef struct sr_run {
  char dir[1024];
  char name[128], model[64], dataset[64], reg[256];  // reg: "alpha=10, threshold=0.8, ..." or "none"
  int has_config, has_seed;
  int64_t seed;

  int has_metrics;
  int64_t n_epochs;
  int n_gamma;  // entries of gamma per epoch (0 when absent)
  // (n_epochs) each, owned; NaN where an epoch lacks the field. gamma: (n_epochs, n_gamma).
  double *epoch, *lr, *train_loss, *train_acc, *val_loss, *val_acc, *test_acc, *reg_loss, *seconds, *gamma;

  int has_robustness;
  double clean_acc;        // NaN when unknown
  uint8_t *clean_correct;  // (clean_n) 1 where the image was classified correctly (NULL when not given)
  int64_t clean_n;
  int n_noise, n_transfer;
  sr_curve noise[SR_REPORT_MAX_CURVES], transfer[SR_REPORT_MAX_CURVES];
  int has_boundary, boundary_median_given;  // given: robustness.json states a median
  double *norms;  // (n_norms) ||delta||^2 / D per image, owned (NULL when not given)
  int64_t n_norms;
  sr_ci boundary;            // median and CI (from the norms by bootstrap, else as given in the file)
  char perturbations[1024];  // resolved path of the perturbation .npy ("" when not given)
  char minimal[16];          // the attack the minimal perturbations above come from: "boundary" or "hsj_l2"
  int has_convergence;       // its convergence curve (absent in runs written before it was recorded)
  int64_t conv_steps[11];
  double conv_median[11], conv_drop;
  int converged;

  // robustness.json "minimal": the per-image minimum over attacks and its robust-accuracy curve
  struct {
    int has;
    char attacks[64];  // "boundary,fmn,..."
    int64_t attacked, not_found;
    double median;  // of ||delta||_2 over the images some attack broke
    int n_eps;
    double eps[SR_REPORT_MAX_MIN_EPS], acc[SR_REPORT_MAX_MIN_EPS];
  } min_over;
  // robustness.json "masking": the gradient-masking flags as measured
  struct {
    int has, n;
    struct {
      char name[40], numbers[200], rule[240];
      int measured, fired;
    } flag[SR_REPORT_MAX_MASK];
  } masking;

  int has_spectrum;
  sr_spectrum spectrum;
  sr_ci hf;     // bootstrap CI of the high-frequency share (resampling images)
  sr_ci dc;     // bootstrap CI of spectrum.dc_share (valid when has_spectrum)
  sr_ci hf_ac;  // bootstrap CI of spectrum.hf_share_ac, the mean-removed share (valid when spectrum.has_ac)

  int has_corruptions, n_corr, n_sev;
  double severities[SR_REPORT_MAX_SEV];
  sr_corruption corr[SR_REPORT_MAX_CORR];

  int has_similarity;
  int64_t sim_k;
  double *sim_target, *sim_model;  // (K,K) each, owned
} sr_run;

// Read RUN/config.json, metrics.jsonl, robustness.json, corruptions.json and similarity/{target,model}.npy.
// Missing files leave the corresponding has_* at 0. Malformed content: SR_ERR_FORMAT naming the file.
// The minimal perturbations come from the Boundary attack.
sr_status sr_run_load(const char *dir, sr_run *run, sr_err *err);
// The same with the minimal perturbations taken from `minimal`: "boundary" or "hsj" (HopSkipJump L2).
sr_status sr_run_load_minimal(const char *dir, const char *minimal, sr_run *run, sr_err *err);
void sr_run_free(sr_run *run);

typedef struct sr_report_opts {
  const char *out_dir;  // created if needed
  const char *title;    // NULL: "simreg report"
  int64_t bootstrap_b;  // resamples (default SR_BOOT_DEFAULT_B when 0)
  uint64_t seed;        // bootstrap RNG seed
  double r0;            // high-frequency cut-off (0: SR_SPEC_R0_DEFAULT)
  int severity;         // corruption severity for the table (0: mean over severities)
  const char *minimal;  // minimal perturbations from "boundary", "hsj", or "auto" / NULL (hsj when every run
                        // has it, else boundary)
  const char *verdict_noise;     // "KIND:LEVEL" for the noise verdict (NULL: "gaussian:0.2")
  const char *verdict_transfer;  // "KIND:LEVEL" (NULL: "fgsm" at the curve's largest level)
} sr_report_opts;

typedef struct sr_report {
  sr_run runs[SR_REPORT_MAX_RUNS];
  int nruns;
  sr_mwu mwu[SR_REPORT_MAX_RUNS];  // boundary norms of run i against run 0 (valid when has_mwu[i])
  int has_mwu[SR_REPORT_MAX_RUNS];
  sr_verdict verdicts[SR_REPORT_MAX_RUNS][SR_REPORT_CLAIMS];  // run i against run 0 (i >= 1)
  char minimal[16];                      // the attack the minimal perturbations of every run come from
  char notes[SR_REPORT_MAX_NOTES][512];  // non-fatal problems shown in the report
  int nnotes;
  // HF share of run i minus run 0's, images of each run resampled independently (valid when has_hf_diff[i]);
  // hf_ac_diff: the same for the mean-removed share.
  sr_ci hf_diff[SR_REPORT_MAX_RUNS], hf_ac_diff[SR_REPORT_MAX_RUNS];
  int has_hf_diff[SR_REPORT_MAX_RUNS], has_hf_ac_diff[SR_REPORT_MAX_RUNS];
  char figures[64][64];  // base names of the figures written (without extension)
  char captions[64][160];
  int nfigures;
  struct sr_fourier_report *fourier;  // runs' fourier_map.json, compared (src/report/report_fourier.c); owned
} sr_report;

// Load the runs, compute spectra (from each run's perturbations) and statistics, write the figures and
// OUT/index.html, OUT/report.md, OUT/report.json. `rep` is caller storage (large); free with sr_report_free.
sr_status sr_report_build(const char *const *dirs, int ndirs, const sr_report_opts *o, sr_report *rep,
                          sr_err *err);
void sr_report_free(sr_report *rep);

// The paper's selection rule: among regularized settings keep those whose clean accuracy is at least
// `ratio` (0.9) x the baseline's, then rank them by robustness at the highest distortion.
// metric: "noise:KIND" or "transfer:KIND" (accuracy at the curve's largest level; clean accuracy = the same
// curve's level-0 accuracy, so both come from the same images) or "boundary" (median ||delta||^2/D; clean
// accuracy = the run's clean accuracy). Higher score = more robust.
typedef struct sr_select_row {
  double clean;  // NaN when the run lacks it
  double score;  // NaN when the run lacks the metric
  int kept;      // clean >= ratio * baseline clean and score known
  int rank;      // 1 = most robust among the kept runs; 0 when not kept
} sr_select_row;
// The rule (metric, ratio) given, the baseline's clean accuracy and score filled by sr_select_rank.
typedef struct sr_selection {
  const char *metric;
  double ratio;
  double base_clean, base_score;
} sr_selection;
sr_status sr_select_rank(const sr_run *base, const sr_run *runs, int n, sr_selection *sel,
                         sr_select_row *rows, sr_err *err);

// Outputs of `simreg spectrum`: DIR/spectrum.json (profile, shares, hf CI, shape, DC share and mean-removed
// fields), DIR/spectrum_map.npy (the normalized (H,W) map, float64), DIR/spectrum_map_db.npy (the dB map of
// the mean-removed spectrum, NaN at DC; only when s->has_ac) and the figures spectrum_2d, spectrum_radial,
// spectrum_cumulative, spectrum_2d_db, spectrum_radial_db (the last two only when s->has_ac).
// dc, hf_ac: CIs of the DC share and the mean-removed HF share (NULL: written as null).
// label names the perturbation set in titles and JSON.
sr_status sr_spectrum_write_outputs(const sr_spectrum *s, const sr_ci *hf, const sr_ci *dc,
                                    const sr_ci *hf_ac, const char *label, const char *dir, sr_err *err);

// Escape text for HTML element content and attribute values (&, <, >, ", ').
void sr_html_escape(char *out, size_t cap, const char *s);

#ifdef __cplusplus
}
#endif
#endif
