// Representational similarity analysis (docs/RSA.md): statistics between N x N similarity matrices over
// the same images, on the pairs i < j of the upper triangle: Pearson, Spearman (midranks), Kendall tau-b
// (Knight's O(M log M) algorithm), a bootstrap CI that resamples images, a Mantel permutation test (image
// labels permuted), and linear CKA between feature layers. Bootstrap and permutations never recompute a
// similarity: they are GEMMs and gathers over the standardized pair matrices.
// Lives in src/rsa (area sr_rsa). Deterministic: randomness only from explicit seeds.
#ifndef SIMREG_RSA_H
#define SIMREG_RSA_H

#include <stdint.h>

#include "simreg/core.h"
#include "simreg/data.h"
#include "simreg/model.h"

#ifdef __cplusplus
extern "C" {
#endif

// ---- values on the upper triangle -------------------------------------------------------------------------

// Pairs of an n x n matrix: M = n (n - 1) / 2, in row-major order of the upper triangle (i < j).
int64_t sr_rsa_pairs(int64_t n);

// Pearson correlation of the upper triangles of A and B (n x n), two-pass in double. NaN when a side is
// constant.
double sr_rsa_pearson(const float *A, const float *B, int64_t n);

// Ranks of the M upper-triangle values of one matrix.
typedef struct sr_rsa_ranks {
  int64_t m;           // pairs
  uint32_t *dense;     // (m) 0-based dense rank of each pair's value (equal floats share one), owned
  int64_t n_distinct;  // distinct values
  double *midrank;     // (n_distinct) average 1-based rank of each distinct value, owned
  uint32_t *mid2;  // (m) twice the midrank of each pair (an integer), owned: read in pair order, no lookup
  int64_t tied_pairs;  // pairs whose value another pair shares
  int64_t tie_sum;     // sum over tie groups of t (t - 1) / 2 (Kendall's n1 / n2)
} sr_rsa_ranks;

// Rank the upper triangle of S (n x n; finite values, -0 equals +0). LSD radix sort, O(M).
// SR_ERR_ARG for n < 2 or more than 2^31 - 2 pairs (n > 65536), SR_ERR_NUMERIC for a NaN/inf, SR_ERR_NOMEM.
sr_status sr_rsa_rank(const float *S, int64_t n, sr_rsa_ranks *r, sr_err *err);
void sr_rsa_ranks_free(sr_rsa_ranks *r);
// Spearman: Pearson of the midranks (ties share their average rank). NaN when a side is constant.
double sr_rsa_spearman(const sr_rsa_ranks *a, const sr_rsa_ranks *b);
// Kendall tau-b (tie-corrected), Knight's algorithm: counting sorts by (rank a, rank b), then a merge sort
// counting exchanges. O(M log M) time, O(M) memory. When one side has at most 64 distinct values (a
// thresholded target) the discordant pairs are counted in one pass in the other side's order instead, O(M):
// the same integer counts, so the same tau. NaN when a side is constant.
sr_status sr_rsa_kendall(const sr_rsa_ranks *a, const sr_rsa_ranks *b, double *tau, sr_err *err);

// Z (n x n): the upper-triangle values of S standardized over the M pairs (mean 0, population sd 1),
// mirrored, diagonal 0; then sum_{i<j} Za_ij Zb_ij / M is the Pearson r. A constant S gives SR_ERR_ARG.
sr_status sr_rsa_standardize(const float *S, int64_t n, float *Z, sr_err *err);
// The same for the midranks of r (Pearson of these = Spearman).
sr_status sr_rsa_standardize_ranks(const sr_rsa_ranks *r, int64_t n, float *Z, sr_err *err);

// ---- image bootstrap ------------------------------------------------------------------------------------

// B resamples of n images drawn with replacement. Resample r has counts c_i (how often image i was drawn);
// its pairs are all pairs of draws p < q of *different* images, so image pair (i, j) enters with weight
// c_i c_j and two draws of the same image (a diagonal entry) are left out. Weighted sums are quadratic forms
// c^T M c computed for all B resamples at once by one triangular matrix product (triu(M) C, strmm; C = the
// n x B count matrix).
typedef struct sr_rsa_boot {
  int64_t n, b;
  float *C;   // (n, b) counts, owned
  double *w;  // (b) sum_{i<j} c_i c_j: the number of pairs in each resample, owned
} sr_rsa_boot;

// Draw the resamples with sr_rng_seed(seed, stream 0x45a), image after image with sr_rng_below.
sr_status sr_rsa_boot_draw(int64_t n, int64_t b, uint64_t seed, sr_rsa_boot *bt, sr_err *err);
void sr_rsa_boot_free(sr_rsa_boot *bt);
// q[r] = sum_{i<j} c_i c_j M_ij for every resample (M symmetric n x n, diagonal ignored).
sr_status sr_rsa_boot_quad(const sr_rsa_boot *bt, const float *M, double *q, sr_err *err);
// The Pearson r of every resample from its weighted sums (M = the products named): sa = quad(Za),
// saa = quad(Za o Za), sb, sbb, sab = quad(Za o Zb) -> r[b]. NaN where a resample is constant.
void sr_rsa_boot_pearson(const sr_rsa_boot *bt, const double *sa, const double *saa, const double *sb,
                         const double *sbb, const double *sab, double *r);

// ---- Mantel permutation test ----------------------------------------------------------------------------

// Permutation p (0..b-1) is a Fisher-Yates shuffle of 0..n-1 with sr_rng_seed(seed, 0x3a47 + p). For each
// source s: out[s * b + p] = sum_{i<j} Z_s[i][j] T[pi_p(i)][pi_p(j)] (T's image labels permuted). Computed
// by blocks of ~4096 upper-triangle entries: per permutation (one OpenMP thread each) the permuted entries of
// T are gathered once per block and every source is dotted with them while they sit in L1. T and Z_s: n x n.
typedef struct sr_mantel {
  const float *T;         // n x n target
  const float *const *Z;  // ns sources, n x n
  int ns;
  int64_t n, b;  // images, permutations
  uint64_t seed;
} sr_mantel;
sr_status sr_rsa_mantel_sums(const sr_mantel *mt, double *out, sr_err *err);
// One-sided p-value (alternative: more similar than chance): (1 + #{perm >= obs}) / (b + 1).
double sr_rsa_mantel_p(const double *perm, int64_t b, double obs);

// ---- features, centred cosine, linear CKA ---------------------------------------------------------------

// Feature Gram of n images (n, c, hw) plain NCHW: each channel centred by its mean over the n images and
// hw positions (the regularizer's centring, with the N-image mean in place of the running mean), then
// G = U U^T (ssyrk, float, both triangles filled). G: n x n.
sr_status sr_rsa_feature_gram(const float *F, int64_t n, int c, int64_t hw, float *G, sr_err *err);
// The regularizer's centred cosine from a Gram: S_ij = G_ij / max(sqrt(G_ii G_jj), SR_REG_COS_EPS),
// clamped to [-1, 1], diagonal 1. S may alias G.
sr_status sr_rsa_gram_cosine(const float *G, int64_t n, float *S, sr_err *err);
// K <- H K H (double centring, H = I - 11^T/n) in place: the Gram of column-centred features.
sr_status sr_rsa_double_centre(float *K, int64_t n, sr_err *err);
// Linear CKA from double-centred Grams: <K, L>_F / (|K|_F |L|_F) (Kornblith et al. 2019). NaN if a side is 0.
double sr_rsa_cka(const float *Kc, const float *Lc, int64_t n);

// Features of a trained run (RUN/config.json, RUN/<which>.safetensors; which NULL = "best") on images
// idx[0..n) of ds, eval mode (running BatchNorm statistics), the run's preprocessing without augmentation,
// batches of 256. feats[l] (n, C_l, H_l, W_l) for the model's feature layers (names into names[l]), caller
// sr_free's each. gamma: softmax of the regularizer's layer weights reg.w from RUN/checkpoint.safetensors
// when present, else uniform (*gamma_from_ckpt = 0).
typedef struct sr_rsa_run_feats {
  int n_layers;
  char names[SR_MAX_FEATURES][32];
  int channels[SR_MAX_FEATURES];
  int64_t hw[SR_MAX_FEATURES];
  float *feats[SR_MAX_FEATURES];
  double gamma[SR_MAX_FEATURES];
  int gamma_from_ckpt;
} sr_rsa_run_feats;
sr_status sr_rsa_run_features(const char *run, const char *which, const sr_dataset *ds, const int64_t *idx,
                              int64_t n, sr_rsa_run_feats *out, sr_err *err);
void sr_rsa_run_feats_free(sr_rsa_run_feats *f);

// ---- other sources --------------------------------------------------------------------------------------

typedef struct sr_rsa_matrix {
  int64_t n;
  float *S;      // (n, n), owned
  int64_t *idx;  // (n) image indices from the indices file, or NULL when none was given; owned
} sr_rsa_matrix;

// A user's similarity matrix: .npy float32/float64, 2-D, square (N >= 3), every entry finite, symmetric
// within tol (the message gives the largest |S_ij - S_ji| and where); indices (NULL: none) a .npy or text
// file as sr_reg_read_indices reads, with exactly N entries. Any value range is accepted (RSA compares
// orders and linear trends). Errors name the file: SR_ERR_IO, SR_ERR_FORMAT.
sr_status sr_rsa_load_matrix(const char *npy, const char *indices, double tol, sr_rsa_matrix *out,
                             sr_err *err);
void sr_rsa_matrix_free(sr_rsa_matrix *m);
// Colour pixel cosine: each image's raw c*h*w values (no gray conversion), centred by the mean image,
// cosine of every pair (dsyrk in double); the gray version is sr_reg_pixel_similarity. S: n x n, diagonal 1.
sr_status sr_rsa_pixel_color(const uint8_t *images, int64_t n, int c, int h, int w, float *S, sr_err *err);

// ---- all pairs of sources -------------------------------------------------------------------------------

typedef struct sr_rsa_opts {
  int64_t boot_b;   // image-bootstrap resamples (0: none)
  int64_t perm_b;   // Mantel permutations (0: none)
  uint64_t seed;    // bootstrap and permutation seed
  double level;     // CI level, e.g. 0.95
  int all_pairs;    // 0: CI and p only for pairs with a target on one side; 1: for every pair
  int kendall_all;  // 0: Kendall only for pairs with a heavily tied side (> 50% of pairs tied); 1: every pair
  int no_rank_resampling;  // 1: Spearman gets no CI and no p (halves the bootstrap and Mantel work)
  // Called (may be NULL) when a phase ends: "bootstrap" or "mantel", its resamples and wall seconds.
  void (*on_phase)(void *ctx, const char *phase, int64_t resamples, double seconds);
  void *phase_ctx;
} sr_rsa_opts;

typedef struct sr_rsa_stat {
  double r;           // point estimate on all pairs
  double lo, hi;      // bootstrap percentile CI (NaN when not computed)
  double p;           // Mantel one-sided p (NaN when not computed)
  int64_t boot_used;  // resamples with a defined r
} sr_rsa_stat;

typedef struct sr_rsa_pair {
  int a, b;  // source indices, a < b
  sr_rsa_stat pearson, spearman;
  double kendall;  // tau-b, NaN when not computed
  int has_ci, has_p, has_kendall;
} sr_rsa_pair;

typedef struct sr_rsa_source_info {
  int64_t n_distinct, tied_pairs;
  double tie_fraction;  // tied_pairs / M
  double mean, sd;      // of the pair values
} sr_rsa_source_info;

typedef struct sr_rsa_timing {
  double rank;     // wall seconds: ranks and standardized matrices of every source
  double kendall;  // wall seconds: every point estimate (Pearson, Spearman, Kendall)
  double boot, mantel, total;
  double cpu_total;  // process CPU seconds (all threads) of the whole comparison
} sr_rsa_timing;

// Process CPU seconds so far (all threads): with other jobs on the machine, wall time alone misleads.
double sr_rsa_cpu_seconds(void);

// The k sources compared: S[s] (n x n, symmetric), is_target[s]: pixel/threshold/file targets.
typedef struct sr_rsa_sources {
  const float *const *S;
  const int *is_target;
  int k;
  int64_t n;
} sr_rsa_sources;
// Statistics for every pair a < b of the k sources S[s] into pairs[k (k - 1) / 2] (order:
// (0,1), (0,2), ..., (k-2,k-1)). is_target[s]: pixel/threshold/file targets (see opts.all_pairs).
// The Spearman CI resamples images with the ranks of the full sample fixed (Pearson of the standardized
// midrank matrices on the resampled pairs); its p-value is exact for Spearman (ranks do not change under a
// relabelling). Uses about 2 k n^2 floats of extra memory.
sr_status sr_rsa_compare(const sr_rsa_sources *src, const sr_rsa_opts *o, sr_rsa_pair *pairs,
                         sr_rsa_source_info *info, sr_rsa_timing *t, sr_err *err);

// The per-layer profile figure (BASE.png/.svg) from an rsa.json written by `simreg rsa`: Pearson r of every
// run layer (and mix) with every target, one line per (run, target), bootstrap CIs as error bars.
// Lives in src/report/report_rsa.c (area report), which `simreg report` also uses.
sr_status sr_rsa_plot_profile(const char *rsa_json, const char *base, sr_err *err);

#ifdef __cplusplus
}
#endif
#endif
