// sr_dataset_load: parse the spec, pick the loader, auto-detect bare paths; shared small helpers.
#include <ctype.h>
#include <string.h>
#include <sys/stat.h>

#include "data/internal.h"

#define SR_FASHION_DIR "/usr/share/datasets/fashion-mnist"

int sr_data_is_dir(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int sr_data_is_file(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

sr_status sr_data_join(char *buf, size_t size, const char *a, const char *b, sr_err *err) {
  int k = snprintf(buf, size, "%s/%s", a, b);
  if (k < 0 || (size_t)k >= size) return sr_fail(err, SR_ERR_ARG, "%s/%s: path too long", a, b);
  return SR_OK;
}

uint64_t sr_data_key(uint64_t seed, int64_t epoch, int purpose) {
  // splitmix64 finalizer over (purpose, epoch); xor-ed into the user's seed.
  uint64_t z = (uint64_t)epoch * 0x9e3779b97f4a7c15ULL + (uint64_t)purpose * 0xc2b2ae3d27d4eb4fULL + 1;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return seed ^ z ^ (z >> 31);
}

void sr_data_set_class_name(sr_dataset *ds, int k, const char *name) {
  snprintf(ds->class_names[k], sizeof ds->class_names[k], "%s", name);
}

void sr_data_numeric_class_names(sr_dataset *ds) {
  for (int k = 0; k < SR_DATASET_MAX_CLASSES; k++)
    snprintf(ds->class_names[k], sizeof ds->class_names[k], "%d", k);
}

sr_status sr_data_read_class_names(sr_dataset *ds, const char *path, sr_err *err) {
  if (!sr_data_is_file(path)) return SR_OK;  // optional: defaults stay
  void *data;
  size_t n;
  sr_status st = sr_read_file(path, 1 << 20, &data, &n, err);
  if (st) return st;
  char *text = data, *save = NULL;
  int k = 0;
  for (char *line = strtok_r(text, "\r\n", &save); line && k < ds->num_classes;
       line = strtok_r(NULL, "\r\n", &save)) {
    while (isspace((unsigned char)*line)) line++;
    size_t len = strlen(line);
    while (len && isspace((unsigned char)line[len - 1])) line[--len] = 0;
    if (len) sr_data_set_class_name(ds, k++, line);
  }
  sr_free(data);
  if (k < ds->num_classes) {
    sr_data_numeric_class_names(ds);
    return sr_fail(err, SR_ERR_FORMAT, "%s: %d class names, expected %d", path, k, ds->num_classes);
  }
  return SR_OK;
}

void sr_dataset_free(sr_dataset *ds) {
  if (!ds) return;
  sr_free(ds->images);
  sr_free(ds->labels);
  memset(ds, 0, sizeof *ds);
}

// "prefix:rest" -> rest when spec starts with prefix and a colon, else NULL.
static const char *after_prefix(const char *spec, const char *prefix) {
  size_t k = strlen(prefix);
  return strncmp(spec, prefix, k) == 0 && spec[k] == ':' ? spec + k + 1 : NULL;
}

static sr_status load_path(const char *path, const char *split, sr_dataset *out, sr_err *err) {
  if (!sr_data_is_dir(path))
    return sr_fail(err, SR_ERR_IO, "%s: no such dataset directory (and not a known dataset name)", path);
  if (sr_data_looks_cifar_dir(path, 10)) return sr_data_load_cifar(path, 10, split, out, err);
  if (sr_data_looks_cifar_dir(path, 100)) return sr_data_load_cifar(path, 100, split, out, err);
  if (sr_data_looks_idx_dir(path)) return sr_data_load_idx_dir(path, split, out, err);
  return sr_data_load_folder(path, split, out, err);
}

static sr_status dispatch(const char *spec, const char *split, sr_dataset *out, sr_err *err) {
  const char *rest;
  if (!spec || !*spec || strcmp(spec, "fashion-mnist") == 0) {
    sr_status st = sr_data_load_idx_dir(SR_FASHION_DIR, split, out, err);
    if (st == SR_ERR_IO) sr_err_context(err, "fashion-mnist (install the dataset-fashion-mnist package)");
    return st;
  }
  if ((rest = after_prefix(spec, "fashion-mnist")) || (rest = after_prefix(spec, "mnist")) ||
      (rest = after_prefix(spec, "idx")))
    return sr_data_load_idx_dir(rest, split, out, err);
  if ((rest = after_prefix(spec, "cifar10"))) return sr_data_load_cifar(rest, 10, split, out, err);
  if ((rest = after_prefix(spec, "cifar100"))) return sr_data_load_cifar(rest, 100, split, out, err);
  if ((rest = after_prefix(spec, "folder"))) return sr_data_load_folder(rest, split, out, err);
  return load_path(spec, split, out, err);
}

// An explicit IDX kind in the spec overrides the name the directory suggested.
static void set_name(const char *spec, sr_dataset *out) {
  if (!spec || !*spec || strncmp(spec, "fashion-mnist", 13) == 0) {
    sr_data_fashion_names(out);
  } else if (after_prefix(spec, "mnist")) {
    snprintf(out->name, sizeof out->name, "mnist");
    sr_data_numeric_class_names(out);
  }
}

sr_status sr_dataset_load(const char *spec, const char *split, sr_dataset *out, sr_err *err) {
  memset(out, 0, sizeof *out);
  if (!split) split = "train";
  if (strcmp(split, "train") != 0 && strcmp(split, "test") != 0)
    return sr_fail(err, SR_ERR_ARG, "split '%s': expected 'train' or 'test'", split);
  sr_status st = dispatch(spec, split, out, err);
  if (st) {
    sr_dataset_free(out);
    return st;
  }
  set_name(spec, out);
  return SR_OK;
}
