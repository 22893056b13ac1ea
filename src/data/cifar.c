// CIFAR-10 / CIFAR-100 binary batches: 1 (or 2) label bytes then 1024 R, 1024 G, 1024 B bytes per record.
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "data/internal.h"

#define CIFAR_PIXELS 3072

static const char *const CIFAR10_NAMES[10] = {"airplane", "automobile", "bird",  "cat",  "deer",
                                              "dog",      "frog",       "horse", "ship", "truck"};

typedef struct cifar_kind {
  int classes;
  const char *subdir;    // standard directory name inside the download
  const char *meta;      // optional class-name file
  int label_bytes;       // 1 (CIFAR-10) or 2 (CIFAR-100: coarse, fine)
  const char *train[6];  // NULL-terminated file lists
  const char *test[2];
} cifar_kind;

static const cifar_kind CIFAR10 = {10,
                                   "cifar-10-batches-bin",
                                   "batches.meta.txt",
                                   1,
                                   {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                    "data_batch_4.bin", "data_batch_5.bin", NULL},
                                   {"test_batch.bin", NULL}};
static const cifar_kind CIFAR100 = {100,
                                    "cifar-100-binary",
                                    "fine_label_names.txt",
                                    2,
                                    {"train.bin", NULL, NULL, NULL, NULL, NULL},
                                    {"test.bin", NULL}};

// dir itself, or dir/<standard subdir> when that exists.
static void resolve_dir(const char *dir, const cifar_kind *k, char *buf, size_t size) {
  int n = snprintf(buf, size, "%s/%s", dir, k->subdir);
  if (n < 0 || (size_t)n >= size || !sr_data_is_dir(buf)) snprintf(buf, size, "%s", dir);
}

int sr_data_looks_cifar_dir(const char *dir, int classes) {
  const cifar_kind *k = classes == 100 ? &CIFAR100 : &CIFAR10;
  char base[4096], path[4096];
  resolve_dir(dir, k, base, sizeof base);
  int n = snprintf(path, sizeof path, "%s/%s", base, k->test[0]);
  if (n > 0 && (size_t)n < sizeof path && sr_data_is_file(path)) return 1;
  n = snprintf(path, sizeof path, "%s/%s", base, k->train[0]);
  return n > 0 && (size_t)n < sizeof path && sr_data_is_file(path);
}

// Size of one batch file in records, after checking it is a whole number of them.
static sr_status count_records(const char *path, size_t rec, int64_t *n, sr_err *err) {
  struct stat sb;
  if (stat(path, &sb) != 0) return sr_fail(err, SR_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  if (!S_ISREG(sb.st_mode)) return sr_fail(err, SR_ERR_IO, "%s: not a regular file", path);
  if (sb.st_size == 0 || (uint64_t)sb.st_size % rec != 0)
    return sr_fail(err, SR_ERR_FORMAT, "%s: size %lld is not a positive multiple of the %zu-byte record",
                   path, (long long)sb.st_size, rec);
  *n = (int64_t)((uint64_t)sb.st_size / rec);
  return SR_OK;
}

// Read n records of one file into the dataset starting at item `at`.
static sr_status read_records(const char *path, const cifar_kind *k, int64_t n, int64_t at, sr_dataset *ds,
                              sr_err *err) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return sr_fail(err, SR_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  unsigned char lab[2];
  sr_status st = SR_OK;
  for (int64_t i = 0; i < n && !st; i++) {
    uint8_t *img = ds->images + (size_t)(at + i) * CIFAR_PIXELS;
    if (fread(lab, 1, (size_t)k->label_bytes, fp) != (size_t)k->label_bytes ||
        fread(img, 1, CIFAR_PIXELS, fp) != CIFAR_PIXELS) {
      st = sr_fail(err, SR_ERR_IO, "%s: short read at record %lld", path, (long long)i);
      break;
    }
    int fine = lab[k->label_bytes - 1];
    if (k->label_bytes == 2 && lab[0] >= 20)
      st = sr_fail(err, SR_ERR_FORMAT, "%s: coarse label %d of record %lld is out of range (20 classes)",
                   path, lab[0], (long long)i);
    else if (fine >= k->classes)
      st = sr_fail(err, SR_ERR_FORMAT, "%s: label %d of record %lld is out of range (%d classes)", path, fine,
                   (long long)i, k->classes);
    ds->labels[at + i] = fine;
  }
  fclose(fp);
  return st;
}

sr_status sr_data_load_cifar(const char *dir, int classes, const char *split, sr_dataset *out, sr_err *err) {
  const cifar_kind *k = classes == 100 ? &CIFAR100 : &CIFAR10;
  if (!sr_data_is_dir(dir)) return sr_fail(err, SR_ERR_IO, "%s: no such directory", dir);
  char base[4096], path[4096];
  resolve_dir(dir, k, base, sizeof base);
  const char *const *files = strcmp(split, "test") == 0 ? k->test : k->train;
  size_t rec = (size_t)k->label_bytes + CIFAR_PIXELS;
  int64_t counts[6], total = 0;
  sr_status st;
  for (int f = 0; files[f]; f++) {
    if ((st = sr_data_join(path, sizeof path, base, files[f], err))) return st;
    if ((st = count_records(path, rec, &counts[f], err))) return st;
    total += counts[f];
  }
  out->images = sr_alloc((size_t)total * CIFAR_PIXELS);
  out->labels = sr_alloc(sizeof(int32_t) * (size_t)total);
  if (!out->images || !out->labels)
    return sr_fail(err, SR_ERR_NOMEM, "%s: cannot allocate %lld images", base, (long long)total);
  int64_t at = 0;
  for (int f = 0; files[f]; f++) {
    sr_data_join(path, sizeof path, base, files[f], err);
    if ((st = read_records(path, k, counts[f], at, out, err))) return st;
    at += counts[f];
  }
  out->n = total;
  out->c = 3;
  out->h = out->w = 32;
  out->num_classes = k->classes;
  snprintf(out->name, sizeof out->name, "%s", classes == 100 ? "cifar100" : "cifar10");
  sr_data_numeric_class_names(out);
  if (classes == 10)
    for (int c = 0; c < 10; c++) sr_data_set_class_name(out, c, CIFAR10_NAMES[c]);
  if ((st = sr_data_join(path, sizeof path, base, k->meta, err))) return st;
  return sr_data_read_class_names(out, path, err);
}
