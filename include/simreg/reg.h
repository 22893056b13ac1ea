// The similarity regularizer (docs/REGULARIZER.md): target similarity matrices over a regularization set
// of images (pixel, thresholded, pair subsets, or a user-supplied matrix), pair sampling, and the loss
// L = alpha * mean_pairs (g(S^CNN) - g(S^T))^2 with its gradients w.r.t. the feature maps and the layer
// weights w. The training loop owns the model and the tapes; this module only sees plain NCHW features.
#ifndef SIMREG_REG_H
#define SIMREG_REG_H

#include <stdint.h>

#include "simreg/core.h"
#include "simreg/data.h"
#include "simreg/model.h"

#ifdef __cplusplus
extern "C" {
#endif

// ---- targets ------------------------------------------------------------------------------------------

typedef enum sr_reg_kind {
  SR_REG_THRESHOLD,  // S^Th: +1 where S^pix > th, -1 where S^pix < -th, else 0; diagonal 1 (the default)
  SR_REG_PIXEL,      // S^pix = U U^T, U: gray, mean-image-centred, L2-normalized pixel rows
  SR_REG_HIGH,       // subset: pairs with |S^pix| > th
  SR_REG_LOW,        // subset: pairs with |S^pix| < th
  SR_REG_POSITIVE,   // subset: pairs with S^pix > th or |S^pix| < th
  SR_REG_NEGATIVE,   // subset: pairs with S^pix < -th or |S^pix| < th
  SR_REG_FILE        // a user-supplied matrix (sr_reg_target_from_file)
} sr_reg_kind;

// "threshold", "pixel", "high", "low", "positive", "negative", "file".
sr_status sr_reg_kind_parse(const char *name, sr_reg_kind *kind, sr_err *err);
const char *sr_reg_kind_name(sr_reg_kind kind);
int sr_reg_kind_is_subset(sr_reg_kind kind);

typedef struct sr_reg_target_opts {
  sr_reg_kind kind;
  double th;               // threshold in [0, 1) (threshold and subset kinds); default 0.8
  int subset_thresholded;  // subset kinds: 0 = the selected pairs keep S^pix values (default), 1 = S^Th
                           // values
} sr_reg_target_opts;

sr_reg_target_opts sr_reg_target_opts_default(void);  // threshold, th 0.8, subset values S^pix

typedef struct sr_reg_target {
  sr_reg_kind kind;
  double th;
  int subset_thresholded;
  int64_t n;
  float *S;      // (n, n) target values, symmetric, diagonal exactly 1 (owned)
  int64_t *idx;  // (n): the caller's image each row refers to; 0..n-1 for built targets (owned)
  // Pairs the loss may use: all i < j when mask is NULL; else the set bits of mask, row i, bit j (j > i).
  uint64_t *mask;      // (n, words) bit rows, NULL for non-subset kinds (owned)
  int64_t words;       // uint64 words per mask row
  int64_t *row_start;  // (n + 1) prefix counts of allowed pairs by row; NULL when mask is NULL (owned)
  int64_t n_pairs;     // allowed pairs i < j
  uint64_t key;        // cache key: 64-bit FNV-1a over (format version, kind, th, values, n, c, h, w, images)
  int from_cache;      // 1 when S (and mask) were read from the cache
  double seconds;      // wall time of the build (or of the cache read)
} sr_reg_target;

// Build a target over the images (n, c, h, w) uint8 CHW. cache_dir: when non-NULL, the result is looked up
// in / written to cache_dir/reg-<key>.npy (and reg-<key>-pairs.npy for subsets); an unreadable or
// inconsistent cache file is rebuilt and replaced. Errors: SR_ERR_ARG (n < 2, bad th, an empty subset,
// SR_REG_FILE), SR_ERR_IO for the cache directory, SR_ERR_NOMEM. *t is zeroed first (free it always).
sr_status sr_reg_target_build(const sr_reg_target_opts *o, const sr_u8_images *images, const char *cache_dir,
                              sr_reg_target *t, sr_err *err);

// A user-supplied N x N similarity matrix (.npy float32/float64) and the N image indices it refers to
// (.npy of int32/int64 with N elements, or a text file with N integers separated by white space), each in
// [0, n_images). Validated: 2-D square, N matching the indices, finite, symmetric within 1e-6, values in
// [-1, 1] (1e-6 slack, then clamped), diagonal within 1e-6 of 1 (then set to 1). Errors name the file and
// the fault: SR_ERR_IO (unreadable), SR_ERR_FORMAT (malformed .npy / text, wrong dtype, shape, values),
// SR_ERR_ARG (index out of range).
sr_status sr_reg_target_from_file(const char *npy, const char *indices, int64_t n_images, sr_reg_target *t,
                                  sr_err *err);
void sr_reg_target_free(sr_reg_target *t);
// Image indices from a .npy (1-D int32/int64) or a text file (integers separated by white space or commas),
// as sr_reg_target_from_file reads them; no range check. Caller sr_free's *out.
sr_status sr_reg_read_indices(const char *path, int64_t **out, int64_t *count, sr_err *err);

// S^pix of n images (n, c, h, w) into S (n, n) float32: gray = channel mean, rows centred by the mean image,
// L2-normalized (a row equal to the mean image stays zero), U U^T in double (blocked OpenBLAS dgemm),
// diagonal set to 1. Exposed for tests and benchmarks.
sr_status sr_reg_pixel_similarity(const uint8_t *images, int64_t n, int c, int h, int w, float *S,
                                  sr_err *err);

// 64-bit FNV-1a, continuing from h (start with SR_FNV1A_INIT).
#define SR_FNV1A_INIT 0xcbf29ce484222325ULL
uint64_t sr_fnv1a64(uint64_t h, const void *data, size_t n);

// ---- pairs ---------------------------------------------------------------------------------------------

// k pairs, independently and uniformly from the target's allowed pairs (all i < j, or the subset); writes
// row indices i[p] < j[p] into the target (map them to images with t->idx). One pair costs O(log n + words).
void sr_reg_sample_pairs(const sr_reg_target *t, int k, sr_rng *rng, int64_t *i, int64_t *j);
// Target values of the pairs: target[p] = S[i[p]][j[p]].
void sr_reg_pair_targets(const sr_reg_target *t, int k, const int64_t *i, const int64_t *j, float *target);

// ---- images --------------------------------------------------------------------------------------------

typedef enum sr_resize_mode { SR_RESIZE_AREA, SR_RESIZE_BILINEAR } sr_resize_mode;

// Resize the images src (n, c, h, w) to (n, oc, oh, ow): oc = 1 makes gray first (channel mean), else
// oc must equal c. AREA: every output pixel is the coverage-weighted mean of the input pixels under its
// footprint (box filter; exact for any scale, the choice for shrinking); BILINEAR: half-pixel centres
// (align_corners = False), edges clamped. Results are rounded to nearest and clamped to 0..255.
sr_status sr_reg_resize_images(const sr_u8_images *src, int oc, int oh, int ow, sr_resize_mode mode,
                               uint8_t *dst, sr_err *err);

// ---- the loss ------------------------------------------------------------------------------------------

#define SR_REG_BETA    0.9   // running-mean EMA: run = beta * run + (1 - beta) * batch_mean
#define SR_REG_G_EPS   1e-5  // g(x) = ln(1 + x + eps) - ln(1 - x + eps)
#define SR_REG_COS_EPS 1e-8  // cosine denominator max(|u||v|, eps), as torch.nn.functional.cosine_similarity

typedef struct sr_reg_state {
  int n_layers;
  int feat[SR_MAX_FEATURES];         // model feature index of each layer (-1 when set up from shapes)
  int channels[SR_MAX_FEATURES];     // C_l
  int64_t hw[SR_MAX_FEATURES];       // H_l * W_l
  int64_t chw[SR_MAX_FEATURES];      // C_l * H_l * W_l
  float *run_mean[SR_MAX_FEATURES];  // (C_l) running means mu_l, start at 0 (checkpointed state)
  double w[SR_MAX_FEATURES];         // layer weights (gamma = softmax(w)), init 0 (checkpointed state)
  double dw[SR_MAX_FEATURES];        // gradient of w: sr_reg_loss adds into it; sr_reg_zero_grad clears it
  double w_buf[SR_MAX_FEATURES];     // momentum buffer of sr_reg_step_w (checkpointed state)
  int w_has_buf;                     // PyTorch starts the momentum buffer at the first gradient
  int64_t updates;                   // running-mean updates so far
  double beta;                       // SR_REG_BETA
  // scratch, grown on the first call with a larger k (no allocation afterwards)
  int k_cap;
  double *s_layer;  // (k_cap, n_layers) per-layer cosines of the last call
  double *norm;     // (k_cap, n_layers, 2) |u|, |v|
  double *bmean;    // (max C_l) batch means
  float *mem;       // the run_mean storage
} sr_reg_state;

// layers: model feature indices (m->feat_name[]) to use, NULL = all n_feat of the model (n_layers ignored).
// Errors: SR_ERR_ARG for an index out of range, a repeated layer, or a model without feature layers.
sr_status sr_reg_state_init(sr_reg_state *s, const sr_model *m, const int *layers, int n_layers, sr_err *err);
// The same from explicit shapes (C_l, H_l*W_l) - for tests and models built elsewhere.
sr_status sr_reg_state_init_dims(sr_reg_state *s, int n_layers, const int *channels, const int64_t *hw,
                                 sr_err *err);
void sr_reg_state_free(sr_reg_state *s);
// Layer indices by name list "stem,layer2" (comma-separated feature names of the model) into layers[].
sr_status sr_reg_parse_layers(const sr_model *m, const char *names, int *layers, int *n_layers, sr_err *err);

// One regularization step (sr_reg_step). feats_a[l], feats_b[l]: (k, C_l, H_l, W_l) plain NCHW, the two
// halves (image i[p] in half A, j[p] in half B). target: (k). Steps:
//   1. mu_l = beta mu_l + (1 - beta) mean over both halves (k, H, W) of each channel (detached);
//   2. S^l_p = cos(a_p - mu_l, b_p - mu_l) over the flattened (C, H, W) vectors, S^CNN_p = sum_l gamma_l
//   S^l_p;
//   3. loss = alpha / k * sum_p (g(S^CNN_p) - g(target_p))^2, or (S^CNN_p - target_p)^2 when mse.
// Writes *loss, s_cnn[p] (may be NULL), overwrites grad_a[l], grad_b[l] (same shapes; both NULL: no
// feature gradients) with dloss/dfeature (mu is a constant shift), and adds dloss/dw into s->dw.
// Errors: SR_ERR_ARG (k < 1, a target outside [-1, 1]), SR_ERR_NUMERIC (non-finite features), SR_ERR_NOMEM.
typedef struct sr_reg_step {
  float *const *feats_a, *const *feats_b;  // per layer l: (k, C_l, H_l, W_l)
  int k;                                   // pairs
  const float *target;                     // (k)
  double alpha;
  int mse;
  double *loss;              // written
  float *s_cnn;              // (k) or NULL
  float **grad_a, **grad_b;  // overwritten, or both NULL
} sr_reg_step;
sr_status sr_reg_loss(sr_reg_state *s, const sr_reg_step *step, sr_err *err);
// Data-parallel form (src/train with MPI ranks): each rank holds k of the k_total pairs. sums: the
// per-channel sums over both halves of ALL k_total pairs, layer after layer (sum of C_l doubles; each rank
// computes its part with sr_reg_channel_sums and the parts are summed over ranks). The running means,
// similarities and feature gradients are then exactly those of sr_reg_loss on all pairs; *loss and the
// dw added are this rank's share (their sums over ranks are the whole batch's). With k == k_total and
// the rank's own sums it is sr_reg_loss.
void sr_reg_channel_sums(const sr_reg_state *s, float *const *feats_a, float *const *feats_b, int k,
                         double *sums);
int64_t sr_reg_channel_count(const sr_reg_state *s);  // sum of C_l: the length of sums
sr_status sr_reg_loss_shard(sr_reg_state *s, const sr_reg_step *step, int k_total, const double *sums,
                            sr_err *err);
// S^CNN only (no running-mean update, no gradients): for probes and logging.
sr_status sr_reg_similarity(sr_reg_state *s, float *const *feats_a, float *const *feats_b, int k,
                            float *s_cnn, sr_err *err);
// gamma = softmax(w) into gamma[n_layers].
void sr_reg_gamma(const sr_reg_state *s, double *gamma);
void sr_reg_zero_grad(sr_reg_state *s);
// SGD on w with PyTorch's rule (no weight decay): buf = dw (first step) or momentum*buf + dw; w -= lr*buf.
void sr_reg_step_w(sr_reg_state *s, double lr, double momentum);

// g(x) = ln(1 + x + eps) - ln(1 - x + eps) and its derivative.
double sr_reg_g(double x);
double sr_reg_dg(double x);

// ---- logging -------------------------------------------------------------------------------------------

// Pearson and Spearman (average ranks for ties) correlation of x and y (n values). NaN when undefined
// (n < 2 or a constant input). Allocates O(n) scratch; returns SR_ERR_NOMEM only.
sr_status sr_reg_correlations(const float *x, const float *y, int64_t n, double *pearson, double *spearman,
                              sr_err *err);

#ifdef __cplusplus
}
#endif
#endif
