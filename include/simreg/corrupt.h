// simreg corrupt: the 15 CIFAR-10-C common corruptions x 5 severities (Hendrycks & Dietterich 2019),
// generated locally for any dataset, written/read in the CIFAR-10-C directory layout, and grouped into
// low/mid/high frequency by measuring the power spectrum of (corrupted - clean).
// See docs/CORRUPTIONS.md for every difference from the reference generator.
#ifndef SIMREG_CORRUPT_H
#define SIMREG_CORRUPT_H

#include <stdint.h>

#include "simreg/core.h"
#include "simreg/data.h"

#ifdef __cplusplus
extern "C" {
#endif

// In the CIFAR-10-C order; the names (sr_corruption_name) are the CIFAR-10-C file names.
typedef enum sr_corruption {
  SR_GAUSSIAN_NOISE,
  SR_SHOT_NOISE,
  SR_IMPULSE_NOISE,
  SR_DEFOCUS_BLUR,
  SR_GLASS_BLUR,
  SR_MOTION_BLUR,
  SR_ZOOM_BLUR,
  SR_SNOW,
  SR_FROST,
  SR_FOG,
  SR_BRIGHTNESS,
  SR_CONTRAST,
  SR_ELASTIC_TRANSFORM,
  SR_PIXELATE,
  SR_JPEG_COMPRESSION,
  SR_NUM_CORRUPTIONS
} sr_corruption;

#define SR_NUM_SEVERITIES 5

const char *sr_corruption_name(sr_corruption kind);  // "gaussian_noise", ...; "?" when out of range
// Parse a CIFAR-10-C name; SR_ERR_ARG naming the bad name and listing the valid ones.
sr_status sr_corruption_parse(const char *name, sr_corruption *out, sr_err *err);
// Parse a comma-separated list ("gaussian_noise,fog"; "all" or NULL/"" means all 15, in order).
// kinds must hold SR_NUM_CORRUPTIONS entries; duplicates are an error.
sr_status sr_corruption_parse_list(const char *list, sr_corruption *kinds, int *n, sr_err *err);

// Corrupt one image. img: one image (img->n is 1); img->px, out: (c, h, w) uint8, CHW like sr_dataset (out
// may not alias img). c is 1 or 3; h, w >= 8. severity 1..5. Randomness comes only from rng.
// Gray (c == 1) images get the gray equivalent of colour operations (see docs/CORRUPTIONS.md).
// Allocates a small workspace per call; use sr_corrupt_batch for many images.
sr_status sr_corrupt_apply(const sr_u8_images *img, sr_corruption kind, int severity, sr_rng *rng,
                           uint8_t *out, sr_err *err);

// The rng of image `index` in a batch: a function of (seed, kind, severity, index) only.
void sr_corrupt_image_rng(sr_rng *rng, uint64_t seed, sr_corruption kind, int severity, int64_t index);

// One corruption of a batch: kind and severity (1..5); image i of the batch draws from
// sr_corrupt_image_rng(seed, kind, severity, first_index + i).
typedef struct sr_corrupt_spec {
  sr_corruption kind;
  int severity;
  uint64_t seed;
  int64_t first_index;
} sr_corrupt_spec;

// Corrupt the images in parallel (OpenMP) into out (same shape). By the rng of each image, the bytes do not
// depend on the thread count or on how a dataset is cut into batches.
sr_status sr_corrupt_batch(const sr_u8_images *imgs, const sr_corrupt_spec *cs, uint8_t *out, sr_err *err);

// ---- frequency groups ---------------------------------------------------------------------------------
typedef enum sr_freq_group { SR_FREQ_LOW, SR_FREQ_MID, SR_FREQ_HIGH } sr_freq_group;
const char *sr_freq_group_name(sr_freq_group g);  // "low", "mid", "high"

#define SR_CORRUPT_HF_RADIUS 0.25  // normalized radius (cycles/pixel) above which power counts as "high"

// Share of the power spectrum of (b - a) at normalized radius r > SR_CORRUPT_HF_RADIUS, averaged over the
// n image pairs (channels' power summed per image; pairs with b == a are skipped). a, b: (n, c, h, w)
// uint8 (b: a's shape). *used gets the number of pairs averaged (0 -> *share = 0). FFTW3 (single precision)
// inside; call it from one thread at a time (FFTW's planner is not thread-safe).
sr_status sr_corrupt_hf_share(const sr_u8_images *a, const uint8_t *b, double *share, int64_t *used,
                              sr_err *err);

// Assign groups by terciles of the per-corruption mean shares: the lowest round(n/3) shares are "low",
// the highest round(n/3) "high", the rest "mid" (ties broken by corruption order).
void sr_corrupt_groups(const double *share, int n, sr_freq_group *group);

// Measured shares of one dataset: share[k][s] for corruption kinds[k], severity s+1, measured on
// the first min(n_images, ds->n) images with `seed`. mean[k] is the mean over severities; group[k] from
// sr_corrupt_groups over mean[]. Arrays have n_kinds entries.
typedef struct sr_corrupt_freq {
  int n_kinds;
  sr_corruption kinds[SR_NUM_CORRUPTIONS];
  double share[SR_NUM_CORRUPTIONS][SR_NUM_SEVERITIES];
  double mean[SR_NUM_CORRUPTIONS];
  sr_freq_group group[SR_NUM_CORRUPTIONS];
  int64_t images;
} sr_corrupt_freq;

sr_status sr_corrupt_measure_freq(const sr_dataset *ds, const sr_corruption *kinds, int n_kinds,
                                  int64_t n_images, uint64_t seed, sr_corrupt_freq *out, sr_err *err);

// ---- CIFAR-10-C directory layout ----------------------------------------------------------------------
// DIR/<name>.npy: uint8 (5*N, H, W, C) -- severity 1's N images, then severity 2's, ... (HWC, as
// CIFAR-10-C and RobustBench have it); DIR/labels.npy: uint8 (5*N), the N labels repeated 5 times.
// DIR/frequency.csv: the measured table (corruption, share_s1..share_s5, mean, group).

// Generate and write the corruptions o->kinds of ds (its first o->limit images; limit <= 0 means all) into
// dir (created if needed). Each file is written atomically. Labels must be < 256 (CIFAR-10-C stores uint8).
// o->freq_images > 0 also measures frequency shares on that many images and writes DIR/frequency.csv (and
// *freq when freq is not NULL). o->progress (may be NULL) is called after each corruption with its name and
// seconds taken.
typedef void (*sr_corrupt_progress_fn)(void *ctx, const char *name, double seconds);
typedef struct sr_corrupt_dir_opts {
  const sr_corruption *kinds;
  int n_kinds;
  int64_t limit;
  uint64_t seed;
  int64_t freq_images;
  sr_corrupt_progress_fn progress;
  void *ctx;  // progress's
} sr_corrupt_dir_opts;
sr_status sr_corrupt_write_dir(const sr_dataset *ds, const char *dir, const sr_corrupt_dir_opts *o,
                               sr_corrupt_freq *freq, sr_err *err);

// Load one corruption at one severity (1..5) from such a directory as a dataset: images (N, C, H, W)
// uint8 CHW, labels int32. Validates that <name>.npy is uint8 4-D (or 3-D = gray) with a first dimension
// divisible by 5 and equal to the length of labels.npy (uint8, int32 or int64 accepted, values >= 0).
// num_classes = max label + 1 unless num_classes_hint > 0 (then labels must be below it).
// out is zeroed first, so sr_dataset_free(out) is safe after a failure.
sr_status sr_corrupt_load(const char *dir, const char *name, int severity, int num_classes_hint,
                          sr_dataset *out, sr_err *err);

// Read DIR/frequency.csv (as written above) back; SR_ERR_IO if missing, SR_ERR_FORMAT if malformed.
sr_status sr_corrupt_read_freq(const char *dir, sr_corrupt_freq *out, sr_err *err);
// Write the table as CSV to path (atomically).
sr_status sr_corrupt_write_freq(const char *path, const sr_corrupt_freq *f, sr_err *err);

#ifdef __cplusplus
}
#endif
#endif
