// IDX files (MNIST family), gzipped or plain: header checks, size bounds before allocating, streaming read.
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "data/internal.h"

#define IDX_IMAGES_MAGIC 0x00000803u
#define IDX_LABELS_MAGIC 0x00000801u
#define IDX_MAX_SIDE     4096
// Deflate cannot expand data by more than about 1032:1; a claim beyond that means a truncated/forged file.
#define GZ_MAX_RATIO     1032u

static const char *const FASHION_NAMES[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                              "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

void sr_data_fashion_names(sr_dataset *ds) {
  snprintf(ds->name, sizeof ds->name, "fashion-mnist");
  for (int k = 0; k < 10; k++) sr_data_set_class_name(ds, k, FASHION_NAMES[k]);
}

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

// Read exactly n bytes; returns the count read (short on EOF/error).
static size_t gz_read_all(gzFile gz, void *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    size_t chunk = n - got > (1u << 30) ? (1u << 30) : n - got;
    int k = gzread(gz, (char *)buf + got, (unsigned)chunk);
    if (k <= 0) break;
    got += (size_t)k;
  }
  return got;
}

static sr_status gz_fault(gzFile gz, const char *path, const char *what, sr_err *err) {
  int code = 0;
  const char *msg = gzerror(gz, &code);
  size_t k = strlen(path);  // zlib prefixes its message with the path: drop the repeat
  if (!strncmp(msg, path, k) && !strncmp(msg + k, ": ", 2)) msg += k + 2;
  if (code == Z_ERRNO) return sr_fail(err, SR_ERR_IO, "%s: read error: %s", path, strerror(errno));
  if (code == Z_BUF_ERROR)
    return sr_fail(err, SR_ERR_FORMAT, "%s: gzip stream ends early (truncated file)", path);
  if (code != Z_OK) return sr_fail(err, SR_ERR_FORMAT, "%s: corrupt gzip data: %s", path, msg);
  return sr_fail(err, SR_ERR_FORMAT, "%s: %s", path, what);
}

// One IDX file: magic, ndims big-endian dims, then the uint8 payload (returned in *data, sr_alloc'ed).
static sr_status read_idx(const char *path, uint32_t magic, int ndims, uint32_t *dims, uint8_t **data,
                          sr_err *err) {
  *data = NULL;
  struct stat sb;
  if (stat(path, &sb) != 0) return sr_fail(err, SR_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  if (!S_ISREG(sb.st_mode)) return sr_fail(err, SR_ERR_IO, "%s: not a regular file", path);
  gzFile gz = gzopen(path, "rb");
  if (!gz) return sr_fail(err, SR_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  int direct = gzdirect(gz);
  unsigned char head[16];
  size_t head_n = 4 + 4 * (size_t)ndims;
  sr_status st = SR_OK;
  if (gz_read_all(gz, head, head_n) != head_n) {
    st = gz_fault(gz, path, "truncated IDX header", err);
    goto done;
  }
  uint32_t m = be32(head);
  if (m != magic) {
    st = sr_fail(err, SR_ERR_FORMAT, "%s: IDX magic 0x%08x, expected 0x%08x (%s)", path, m, magic,
                 magic == IDX_IMAGES_MAGIC ? "uint8 images, 3 dims" : "uint8 labels, 1 dim");
    goto done;
  }
  size_t payload = 1;
  for (int i = 0; i < ndims; i++) {
    dims[i] = be32(head + 4 + 4 * i);
    if (dims[i] == 0 || (i > 0 && dims[i] > IDX_MAX_SIDE)) {
      st = sr_fail(err, SR_ERR_FORMAT, "%s: bad dimension %d: %u", path, i, dims[i]);
      goto done;
    }
    if (sr_mul_overflow(payload, dims[i], &payload)) {
      st = sr_fail(err, SR_ERR_FORMAT, "%s: dimensions overflow", path);
      goto done;
    }
  }
  // Check the claim against what the file can hold before allocating for it.
  uint64_t file_size = (uint64_t)sb.st_size;
  if (direct && file_size != head_n + payload) {
    st = sr_fail(err, SR_ERR_FORMAT, "%s: file is %llu bytes but its header declares %zu (%s)", path,
                 (unsigned long long)file_size, head_n + payload,
                 file_size < head_n + payload ? "truncated" : "trailing data");
    goto done;
  }
  if (!direct && payload / GZ_MAX_RATIO > file_size) {
    st = sr_fail(err, SR_ERR_FORMAT,
                 "%s: header declares %zu bytes, more than a %llu-byte gzip file can hold (truncated)", path,
                 payload, (unsigned long long)file_size);
    goto done;
  }
  *data = sr_alloc(payload);
  if (!*data) {
    st = sr_fail(err, SR_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, payload);
    goto done;
  }
  size_t got = gz_read_all(gz, *data, payload);
  if (got != payload) {
    char what[128];
    snprintf(what, sizeof what, "truncated: %zu of the %zu declared data bytes", got, payload);
    st = gz_fault(gz, path, what, err);
    goto done;
  }
  unsigned char extra;
  if (gz_read_all(gz, &extra, 1) != 0) {
    st = sr_fail(err, SR_ERR_FORMAT, "%s: trailing data after the %zu declared bytes", path, payload);
    goto done;
  }
  int code = 0;
  gzerror(gz, &code);
  if (code != Z_OK) st = gz_fault(gz, path, "", err);
done:
  gzclose(gz);
  if (st) {
    sr_free(*data);
    *data = NULL;
  }
  return st;
}

sr_status sr_data_load_idx(const char *images_path, const char *labels_path, int num_classes, sr_dataset *out,
                           sr_err *err) {
  uint32_t idims[3], ldims[1];
  uint8_t *pix = NULL, *lab = NULL;
  sr_status st = read_idx(images_path, IDX_IMAGES_MAGIC, 3, idims, &pix, err);
  if (!st) st = read_idx(labels_path, IDX_LABELS_MAGIC, 1, ldims, &lab, err);
  if (!st && idims[0] != ldims[0])
    st = sr_fail(err, SR_ERR_FORMAT, "%s has %u images but %s has %u labels", images_path, idims[0],
                 labels_path, ldims[0]);
  if (!st) {
    out->labels = sr_alloc(sizeof(int32_t) * (size_t)ldims[0]);
    if (!out->labels) st = sr_fail(err, SR_ERR_NOMEM, "%s: cannot allocate labels", labels_path);
  }
  for (uint32_t i = 0; !st && i < ldims[0]; i++) {
    if (lab[i] >= num_classes)
      st = sr_fail(err, SR_ERR_FORMAT, "%s: label %u of item %u is out of range (%d classes)", labels_path,
                   lab[i], i, num_classes);
    else
      out->labels[i] = lab[i];
  }
  sr_free(lab);
  if (st) {
    sr_free(pix);
    return st;
  }
  out->images = pix;
  out->n = idims[0];
  out->c = 1;
  out->h = (int)idims[1];
  out->w = (int)idims[2];
  out->num_classes = num_classes;
  return SR_OK;
}

// First existing file among the spellings of "<prefix>-<kind>-<type>-ubyte", with or without .gz.
static int find_idx_file(const char *dir, const char *const *prefixes, const char *kind, const char *type,
                         char *buf, size_t size) {
  static const char *const forms[] = {"%s/%s-%s-%s-ubyte.gz", "%s/%s-%s-%s-ubyte", "%s/%s-%s.%s-ubyte.gz",
                                      "%s/%s-%s.%s-ubyte"};
  for (int p = 0; prefixes[p]; p++)
    for (size_t f = 0; f < sizeof forms / sizeof *forms; f++) {
      int k = snprintf(buf, size, forms[f], dir, prefixes[p], kind, type);
      if (k > 0 && (size_t)k < size && sr_data_is_file(buf)) return 1;
    }
  snprintf(buf, size, "%s/%s-%s-%s-ubyte[.gz]", dir, prefixes[0], kind, type);
  return 0;
}

static int contains_nocase(const char *s, const char *word) {
  size_t k = strlen(word);
  for (; *s; s++) {
    size_t i = 0;
    while (i < k && s[i] && tolower((unsigned char)s[i]) == word[i]) i++;
    if (i == k) return 1;
  }
  return 0;
}

static const char *const TRAIN_PREFIXES[] = {"train", NULL};
static const char *const TEST_PREFIXES[] = {"t10k", "test", NULL};

int sr_data_looks_idx_dir(const char *dir) {
  char buf[4096];
  return find_idx_file(dir, TRAIN_PREFIXES, "images", "idx3", buf, sizeof buf) ||
         find_idx_file(dir, TEST_PREFIXES, "images", "idx3", buf, sizeof buf);
}

sr_status sr_data_load_idx_dir(const char *dir, const char *split, sr_dataset *out, sr_err *err) {
  if (!sr_data_is_dir(dir)) return sr_fail(err, SR_ERR_IO, "%s: no such directory", dir);
  const char *const *prefixes = strcmp(split, "test") == 0 ? TEST_PREFIXES : TRAIN_PREFIXES;
  char images[4096], labels[4096];
  if (!find_idx_file(dir, prefixes, "images", "idx3", images, sizeof images))
    return sr_fail(err, SR_ERR_IO, "%s: missing (no %s images file in %s)", images, split, dir);
  if (!find_idx_file(dir, prefixes, "labels", "idx1", labels, sizeof labels))
    return sr_fail(err, SR_ERR_IO, "%s: missing (no %s labels file in %s)", labels, split, dir);
  sr_status st = sr_data_load_idx(images, labels, 10, out, err);
  if (st) return st;
  sr_data_numeric_class_names(out);
  if (contains_nocase(dir, "fashion"))
    sr_data_fashion_names(out);
  else
    snprintf(out->name, sizeof out->name, "idx");
  return SR_OK;
}
