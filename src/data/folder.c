// Image-folder datasets: ROOT/<class>/*.{png,jpg,jpeg}, optionally split into ROOT/train and ROOT/test.
// Two passes: read every header (size and channels must agree before anything big is allocated), decode.
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "data/internal.h"

// Bound on one image's pixel count, checked from the headers before the dataset is allocated.
#define SR_FOLDER_MAX_PIXELS (1 << 26)

typedef struct name_list {
  char **v;
  int64_t n, cap;
} name_list;

static void list_free(name_list *l) {
  for (int64_t i = 0; i < l->n; i++) free(l->v[i]);
  free(l->v);
  memset(l, 0, sizeof *l);
}

static int list_push(name_list *l, const char *s) {
  if (l->n == l->cap) {
    int64_t cap = l->cap ? 2 * l->cap : 64;
    char **v = realloc(l->v, sizeof(char *) * (size_t)cap);
    if (!v) return -1;
    l->v = v;
    l->cap = cap;
  }
  if (!(l->v[l->n] = strdup(s))) return -1;
  l->n++;
  return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int has_image_ext(const char *name) {
  const char *dot = strrchr(name, '.');
  return dot && (!strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"));
}

// Entries of dir (not hidden): subdirectories when want_dirs, else image files. Sorted by name.
static sr_status list_dir(const char *dir, int want_dirs, name_list *out, sr_err *err) {
  DIR *d = opendir(dir);
  if (!d) return sr_fail(err, SR_ERR_IO, "%s: cannot open directory: %s", dir, strerror(errno));
  struct dirent *e;
  char path[4096];
  sr_status st = SR_OK;
  while (!st && (e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    if ((st = sr_data_join(path, sizeof path, dir, e->d_name, err))) break;
    int keep = want_dirs ? sr_data_is_dir(path) : sr_data_is_file(path) && has_image_ext(e->d_name);
    if (keep && list_push(out, e->d_name)) st = sr_fail(err, SR_ERR_NOMEM, "%s: out of memory listing", dir);
  }
  closedir(d);
  if (!st && out->n > 1) qsort(out->v, (size_t)out->n, sizeof(char *), cmp_str);
  return st;
}

// Sorted union of the class directories of the given roots (those that exist).
static sr_status class_union(const char *const *roots, int nroots, name_list *classes, sr_err *err) {
  for (int r = 0; r < nroots; r++) {
    if (!sr_data_is_dir(roots[r])) continue;
    name_list sub = {0};
    sr_status st = list_dir(roots[r], 1, &sub, err);
    for (int64_t i = 0; !st && i < sub.n; i++) {
      int seen = 0;
      for (int64_t j = 0; j < classes->n && !seen; j++) seen = !strcmp(classes->v[j], sub.v[i]);
      if (!seen && list_push(classes, sub.v[i])) st = sr_fail(err, SR_ERR_NOMEM, "out of memory");
    }
    list_free(&sub);
    if (st) return st;
  }
  if (classes->n > 1) qsort(classes->v, (size_t)classes->n, sizeof(char *), cmp_str);
  return SR_OK;
}

typedef struct folder_scan {
  name_list classes;
  name_list files;  // full paths
  int32_t *labels;
  int64_t labels_cap;
} folder_scan;

static sr_status scan_images(const char *dir, folder_scan *s, sr_err *err) {
  char cdir[4096], path[4096];
  for (int64_t k = 0; k < s->classes.n; k++) {
    sr_status st = sr_data_join(cdir, sizeof cdir, dir, s->classes.v[k], err);
    if (st) return st;
    if (!sr_data_is_dir(cdir)) continue;  // a class may be absent from one split
    name_list files = {0};
    st = list_dir(cdir, 0, &files, err);
    for (int64_t i = 0; !st && i < files.n; i++) {
      if ((st = sr_data_join(path, sizeof path, cdir, files.v[i], err))) break;
      if (list_push(&s->files, path)) st = sr_fail(err, SR_ERR_NOMEM, "%s: out of memory", cdir);
      if (!st && s->files.n > s->labels_cap) {
        int64_t cap = s->files.cap;
        int32_t *l = realloc(s->labels, sizeof(int32_t) * (size_t)cap);
        if (!l)
          st = sr_fail(err, SR_ERR_NOMEM, "%s: out of memory", cdir);
        else {
          s->labels = l;
          s->labels_cap = cap;
        }
      }
      if (!st) s->labels[s->files.n - 1] = (int32_t)k;
    }
    list_free(&files);
    if (st) return st;
  }
  if (s->files.n == 0)
    return sr_fail(err, SR_ERR_FORMAT, "%s: no .png/.jpg/.jpeg images in its class folders", dir);
  return SR_OK;
}

// Pass 1: every image has the first one's size; channels = 3 if any image is in color.
static sr_status probe_all(const folder_scan *s, sr_data_img *shape, sr_err *err) {
  for (int64_t i = 0; i < s->files.n; i++) {
    sr_data_img info;
    sr_status st = sr_data_image_probe(s->files.v[i], &info, err);
    if (st) return st;
    if (i == 0) {
      if ((int64_t)info.w * info.h > SR_FOLDER_MAX_PIXELS)
        return sr_fail(err, SR_ERR_FORMAT, "%s: %dx%d image is larger than the %d pixels supported",
                       s->files.v[i], info.w, info.h, SR_FOLDER_MAX_PIXELS);
      *shape = info;
    } else if (info.w != shape->w || info.h != shape->h) {
      return sr_fail(err, SR_ERR_FORMAT,
                     "%s is %dx%d (WxH) but %s is %dx%d: all images must have the same size", s->files.v[i],
                     info.w, info.h, s->files.v[0], shape->w, shape->h);
    }
    if (info.c > shape->c) shape->c = info.c;
  }
  return SR_OK;
}

static sr_status load_scanned(const char *dir, folder_scan *s, sr_dataset *out, sr_err *err) {
  sr_status st = scan_images(dir, s, err);
  sr_data_img shape = {0, 0, 0};
  if (!st) st = probe_all(s, &shape, err);
  if (st) return st;
  size_t per = (size_t)shape.c * (size_t)shape.h * (size_t)shape.w, bytes;
  if (sr_mul_overflow(per, (size_t)s->files.n, &bytes))
    return sr_fail(err, SR_ERR_FORMAT, "%s: images too large", dir);
  out->images = sr_alloc(bytes);
  out->labels = sr_alloc(sizeof(int32_t) * (size_t)s->files.n);
  if (!out->images || !out->labels)
    return sr_fail(err, SR_ERR_NOMEM, "%s: cannot allocate %zu bytes", dir, bytes);
  for (int64_t i = 0; i < s->files.n; i++) {
    if ((st = sr_data_image_decode(s->files.v[i], &shape, out->images + (size_t)i * per, err))) return st;
    out->labels[i] = s->labels[i];
  }
  out->n = s->files.n;
  out->c = shape.c;
  out->h = shape.h;
  out->w = shape.w;
  return SR_OK;
}

sr_status sr_data_load_folder(const char *root, const char *split, sr_dataset *out, sr_err *err) {
  if (!sr_data_is_dir(root)) return sr_fail(err, SR_ERR_IO, "%s: no such directory", root);
  char train[4096], test[4096], dir[4096];
  sr_status st = sr_data_join(train, sizeof train, root, "train", err);
  if (!st) st = sr_data_join(test, sizeof test, root, "test", err);
  if (st) return st;
  int split_dirs = sr_data_is_dir(train) || sr_data_is_dir(test);
  snprintf(dir, sizeof dir, "%s", !split_dirs ? root : strcmp(split, "test") == 0 ? test : train);
  if (!sr_data_is_dir(dir)) return sr_fail(err, SR_ERR_IO, "%s: no such directory (no %s split)", dir, split);
  folder_scan s;
  memset(&s, 0, sizeof s);
  const char *roots[2] = {train, test};
  st = split_dirs ? class_union(roots, 2, &s.classes, err) : class_union(&root, 1, &s.classes, err);
  if (!st && s.classes.n == 0) st = sr_fail(err, SR_ERR_FORMAT, "%s: no class directories", dir);
  if (!st && s.classes.n > SR_DATASET_MAX_CLASSES)
    st = sr_fail(err, SR_ERR_FORMAT, "%s: %lld class directories, at most %d supported", dir,
                 (long long)s.classes.n, SR_DATASET_MAX_CLASSES);
  if (!st) st = load_scanned(dir, &s, out, err);
  if (!st) {
    out->num_classes = (int)s.classes.n;
    snprintf(out->name, sizeof out->name, "folder");
    sr_data_numeric_class_names(out);
    for (int k = 0; k < out->num_classes; k++) sr_data_set_class_name(out, k, s.classes.v[k]);
  }
  list_free(&s.classes);
  list_free(&s.files);
  free(s.labels);
  return st;
}
