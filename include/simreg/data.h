// simreg data: dataset loaders (IDX, CIFAR binary, image folders), the paper's preprocessing and
// augmentation into float batches, a fixed validation hold-out, and a prefetching batch loader.
//
// Determinism rule: the augmentation of a sample depends only on (seed, epoch, position of the sample in
// the epoch order); the epoch order depends only on (seed, epoch). Nothing depends on threads, timing, or
// on where a run was resumed (sr_loader_start can begin mid-epoch and gives the same batches).
#ifndef SIMREG_DATA_H
#define SIMREG_DATA_H

#include <stdint.h>

#include "simreg/core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SR_DATASET_MAX_CLASSES 256

// n uint8 images (n, c, h, w), CHW like sr_dataset.
typedef struct sr_u8_images {
  const uint8_t *px;
  int64_t n;
  int c, h, w;
} sr_u8_images;

// A whole split in memory. Images: n x c x h x w uint8 (CHW per image, 0..255), labels in [0, num_classes).
typedef struct sr_dataset {
  int64_t n;
  int c, h, w;
  int num_classes;
  uint8_t *images;  // owned; sr_free'd by sr_dataset_free
  int32_t *labels;  // owned
  char name[64];    // "fashion-mnist", "mnist", "idx", "cifar10", "cifar100", "folder"
  char class_names[SR_DATASET_MAX_CLASSES][48];  // known names where available, else "0", "1", ...
} sr_dataset;

// Load one split ("train" or "test"; NULL means "train") of a dataset into *out (zeroed first, so
// sr_dataset_free(out) is safe after a failure). spec:
//   NULL, "" or "fashion-mnist"  Debian's /usr/share/datasets/fashion-mnist (dataset-fashion-mnist package)
//   "fashion-mnist:DIR", "mnist:DIR", "idx:DIR"
//                        IDX files in DIR: {train,t10k}-{images-idx3,labels-idx1}-ubyte, gzipped (.gz) or
//                        plain; also the "train-images.idx3-ubyte" spelling. 10 classes.
//   "cifar10:DIR"        DIR is or contains cifar-10-batches-bin/ (data_batch_1..5.bin, test_batch.bin,
//                        optional batches.meta.txt for class names)
//   "cifar100:DIR"       DIR is or contains cifar-100-binary/ (train.bin, test.bin; fine labels used;
//                        optional fine_label_names.txt)
//   "folder:ROOT"        ROOT/<class>/*.{jpg,jpeg,png} (case-insensitive extensions); classes are the sorted
//                        union of class directories of ROOT/train and ROOT/test when those exist (then
//                        split picks one), else of ROOT itself (the same images for either split).
//                        Images are gray or RGB (alpha dropped); c = 3 if any image is in color (gray ones
//                        are replicated), else 1. All images must have the same size.
//   any other path       auto-detected: CIFAR-10 / CIFAR-100 / IDX layouts by their file names, else folder.
// Errors: SR_ERR_IO for missing or unreadable files/directories, SR_ERR_FORMAT for malformed content
// (bad magic, dims, truncated or oversized files, count mismatch, label out of range, corrupt images,
// inconsistent image sizes), SR_ERR_ARG for an unknown spec or split; the message names the file.
sr_status sr_dataset_load(const char *spec, const char *split, sr_dataset *out, sr_err *err);
void sr_dataset_free(sr_dataset *ds);

// ---- preprocessing / augmentation options ------------------------------------------------------------
typedef struct sr_loader_opts {
  int batch;          // samples per batch (> 0)
  int shuffle;        // 1: epoch order is a Fisher-Yates shuffle of the index list seeded by (seed, epoch)
  int augment;        // 0 disables all augmentation (crop and flip)
  int crop_pad;       // random crop back to HxW after reflect padding by this many pixels (0 = no crop);
                      // must be < min(h, w)
  int flip;           // horizontal flip with p = 0.5
  int gray;           // 1: output one channel, the mean of the input channels; 0: keep the dataset's channels
  float mean, scale;  // x' = (x/255 - mean) * scale
  uint64_t seed;
  int drop_last;  // 1: drop a final partial batch
  // Data-parallel ranks (shard_size > 1): the loader yields only rows [nb*r/R, (r+1)*nb/R) of every batch
  // of nb rows (r = shard_rank, R = shard_size), with the same order and augmentation as the whole batch.
  int shard_rank, shard_size;
} sr_loader_opts;

// The paper's training defaults: batch 64, shuffle, augment, crop_pad 4, flip, gray, mean 0.5, scale 5,
// seed 0, drop_last 0. For evaluation set shuffle = augment = 0.
sr_loader_opts sr_loader_opts_default(void);
// Check opts against a dataset (batch > 0, crop_pad in [0, min(h,w)), finite mean/scale).
sr_status sr_loader_opts_check(const sr_dataset *ds, const sr_loader_opts *o, sr_err *err);
// Channels of the batches these options produce: 1 if o->gray, else ds->c. Batches are (N, C, ds->h, ds->w).
int sr_batch_channels(const sr_dataset *ds, const sr_loader_opts *o);

// Synchronous batch maker (what the loader thread runs). rows->idx: the n dataset indices of this batch, in
// epoch order; first_position: epoch position of idx[0] (sample i uses position first_position + i for its
// augmentation RNG). x: (n, C, h, w) floats, y: n labels. Returns SR_ERR_ARG (with message) on bad opts or
// an index out of [0, ds->n). No allocation.
typedef struct sr_batch_rows {
  const int64_t *idx;  // n dataset indices
  int64_t n;
  int epoch;
  int64_t first_position;
} sr_batch_rows;
sr_status sr_make_batch(const sr_dataset *ds, const sr_batch_rows *rows, const sr_loader_opts *o, float *x,
                        int32_t *y, sr_err *err);

// The epoch order the loader uses: idx copied into order (n entries), then, if o->shuffle, Fisher-Yates
// shuffled with an RNG keyed by (o->seed, epoch). Batch b of the epoch is order[b*batch ...].
void sr_epoch_order(const int64_t *idx, int64_t n, const sr_loader_opts *o, int epoch, int64_t *order);

// Crop-with-reflect-padding and flip of one image, with explicit offsets (g: dy, dx in [0, 2*pad]):
// out(ch, y, x) = padded(ch, y + dy, x + dx) where padded is the image reflect-padded by `pad`
// (edge pixel not repeated, like numpy/torch "reflect"), then mirrored left-right if flip.
// src, dst: (c, h, w) uint8. This is the geometric part of sr_make_batch, exposed for tests and tools.
typedef struct sr_crop_flip {
  int pad, dy, dx, flip;
} sr_crop_flip;
void sr_augment_image(const uint8_t *src, int c, int h, int w, const sr_crop_flip *g, uint8_t *dst);

// ---- validation hold-out -----------------------------------------------------------------------------
// Split 0..n-1 into a fixed random validation set of round(fraction * n) indices (at least 1 when
// fraction > 0, at most n - 1) and the rest, both sorted ascending. The same (n, fraction, seed) always
// gives the same split. Caller sr_free's both lists.
typedef struct sr_holdout_spec {  // the split of 0..n-1: validation share and seed
  int64_t n;
  double fraction;
  uint64_t seed;
} sr_holdout_spec;
sr_status sr_split_holdout(const sr_holdout_spec *sp, int64_t **train_idx, int64_t *n_train,
                           int64_t **val_idx, int64_t *n_val, sr_err *err);

// ---- prefetching loader ------------------------------------------------------------------------------
// A background thread fills a ring of 3 preallocated batch buffers ahead of the consumer.
typedef struct sr_loader sr_loader;

// ds must outlive the loader; idx (n entries, each in [0, ds->n)) is copied.
sr_status sr_loader_create(const sr_dataset *ds, const int64_t *idx, int64_t n, const sr_loader_opts *o,
                           sr_loader **out, sr_err *err);
// Begin (or restart) epoch `epoch` at batch index first_batch (0 for a fresh epoch; k to resume after k
// batches). Stops any epoch in progress first.
sr_status sr_loader_start(sr_loader *l, int epoch, int64_t first_batch, sr_err *err);
// Next batch of the current epoch: 1 and *x (nb, C, h, w), *y (nb), *nb set; 0 when the epoch is done or
// no epoch was started. The buffers stay valid until the next call to sr_loader_next/start/destroy.
int sr_loader_next(sr_loader *l, const float **x, const int32_t **y, int64_t *nb);
int64_t sr_loader_batches(const sr_loader *l);  // batches per epoch
int sr_loader_channels(const sr_loader *l);     // C of the batches
// Total seconds sr_loader_next spent blocked waiting for the producer, over the loader's life.
double sr_loader_wait_seconds(const sr_loader *l);
// Stops the producer (even mid-epoch) and frees everything. NULL is allowed.
void sr_loader_destroy(sr_loader *l);

#ifdef __cplusplus
}
#endif
#endif
