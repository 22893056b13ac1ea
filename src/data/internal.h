// Helpers shared by the data area's source files (not part of the public API).
#ifndef SIMREG_DATA_INTERNAL_H
#define SIMREG_DATA_INTERNAL_H

#include <stdint.h>

#include "simreg/data.h"

// ---- paths ----
int sr_data_is_dir(const char *path);
int sr_data_is_file(const char *path);
// snprintf into buf (size 4096); returns SR_ERR_ARG (with message) when the result does not fit.
sr_status sr_data_join(char *buf, size_t size, const char *a, const char *b, sr_err *err);

// ---- class names ----
void sr_data_numeric_class_names(sr_dataset *ds);
void sr_data_set_class_name(sr_dataset *ds, int k, const char *name);
// Read class names, one per non-empty line, from an optional text file: keeps defaults when the file is
// absent; SR_ERR_FORMAT when it has fewer than ds->num_classes names.
sr_status sr_data_read_class_names(sr_dataset *ds, const char *path, sr_err *err);

// ---- per-format loaders (out is zeroed by the caller) ----
// IDX image + label files; num_classes bounds the labels.
sr_status sr_data_load_idx(const char *images_path, const char *labels_path, int num_classes, sr_dataset *out,
                           sr_err *err);
// IDX files of a split found in dir (train-/t10k- names, plain or .gz).
sr_status sr_data_load_idx_dir(const char *dir, const char *split, sr_dataset *out, sr_err *err);
int sr_data_looks_idx_dir(const char *dir);
// Name "fashion-mnist" and its ten class names.
void sr_data_fashion_names(sr_dataset *ds);
// CIFAR binary: classes = 10 or 100. dir is, or contains, the standard directory.
sr_status sr_data_load_cifar(const char *dir, int classes, const char *split, sr_dataset *out, sr_err *err);
int sr_data_looks_cifar_dir(const char *dir, int classes);
sr_status sr_data_load_folder(const char *root, const char *split, sr_dataset *out, sr_err *err);

// ---- image files (PNG or JPEG, told apart by their signature) ----
typedef struct sr_data_img {
  int w, h, c;  // c: 1 (gray) or 3 (color)
} sr_data_img;
// Header only: size and channels.
sr_status sr_data_image_probe(const char *path, sr_data_img *info, sr_err *err);
// Decode into dst as (want->c, h, w) uint8; the file must be want->w x want->h; gray is replicated when
// want->c == 3, color is refused when want->c == 1.
sr_status sr_data_image_decode(const char *path, const sr_data_img *want, uint8_t *dst, sr_err *err);
sr_status sr_data_png_read(FILE *fp, const char *path, const sr_data_img *want, uint8_t *dst,
                           sr_data_img *info, sr_err *err);
sr_status sr_data_jpeg_read(FILE *fp, const char *path, const sr_data_img *want, uint8_t *dst,
                            sr_data_img *info, sr_err *err);
// Copy one interleaved row (w pixels of src_c channels) into row y of a (dst_c, h, w) image.
void sr_data_put_row(const uint8_t *row, int src_c, int w, int h, int y, int dst_c, uint8_t *dst);

// ---- determinism ----
// A 64-bit key that mixes (seed, epoch, purpose); purposes keep the shuffle and augmentation streams apart.
enum { SR_DATA_KEY_AUGMENT = 1, SR_DATA_KEY_SHUFFLE = 2, SR_DATA_KEY_HOLDOUT = 3 };
uint64_t sr_data_key(uint64_t seed, int64_t epoch, int purpose);

#endif
