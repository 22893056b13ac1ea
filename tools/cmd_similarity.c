// simreg similarity: build (or validate) a regularization target and export it as .npy with a histogram
// of its values (docs/REGULARIZER.md).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "simreg/data.h"
#include "simreg/npy.h"
#include "simreg/plot.h"
#include "simreg/reg.h"

#define NBINS 20

typedef struct {
  const char *data, *split, *reg_data, *kind, *values, *resize, *cache, *file, *indices, *out;
  int64_t n, seed, n_images, size_h, size_w;
  double th, val_fraction;
  int color, no_plot;
} sim_args;

// The regularization images: the first n training images after the validation hold-out of --data (as
// training splits it), or the first n images of --reg-data resized to --data's image size.
typedef struct {
  uint8_t *px;   // (n, c, h, w), malloc'ed
  int64_t *idx;  // n dataset indices, malloc'ed
  int64_t n;
  int c, h, w;
} reg_images;

static sr_status gather(const sim_args *a, reg_images *out, sr_err *err) {
  uint8_t **images = &out->px;
  int64_t **idx = &out->idx, *n = &out->n;
  int *c = &out->c, *h = &out->h, *w = &out->w;
  sr_dataset ds, rd;
  memset(&rd, 0, sizeof rd);
  sr_status st = sr_dataset_load(a->data, a->split, &ds, err);
  if (st) return st;
  if (a->reg_data) {
    if ((st = sr_dataset_load(a->reg_data, "train", &rd, err))) {
      sr_dataset_free(&ds);
      return st;
    }
  }
  const sr_dataset *src = a->reg_data ? &rd : &ds;
  int64_t *order = NULL, n_order = 0, *val = NULL, n_val = 0;
  if (a->reg_data) {
    n_order = src->n;
    order = sr_alloc(sizeof(int64_t) * (size_t)(n_order ? n_order : 1));
    for (int64_t i = 0; order && i < n_order; i++) order[i] = i;
  } else {
    st = sr_split_holdout(
        &(sr_holdout_spec){.n = ds.n, .fraction = a->val_fraction, .seed = (uint64_t)a->seed}, &order,
        &n_order, &val, &n_val, err);
  }
  if (!st && a->n > n_order)
    st = sr_fail(err, SR_ERR_ARG, "--reg-n %lld: %s has only %lld usable images", (long long)a->n,
                 a->reg_data ? a->reg_data : a->data, (long long)n_order);
  int oh = a->size_h ? (int)a->size_h : ds.h, ow = a->size_w ? (int)a->size_w : ds.w;
  int oc = a->color ? src->c : 1;
  *n = a->n;
  *c = a->reg_data ? oc : src->c;
  *h = a->reg_data ? oh : src->h;
  *w = a->reg_data ? ow : src->w;
  const size_t in_sz = (size_t)src->c * (size_t)src->h * (size_t)src->w,
               out_sz = (size_t)*c * (size_t)*h * (size_t)*w;
  *images = st ? NULL : malloc(out_sz * (size_t)*n);
  *idx = st ? NULL : malloc(sizeof(int64_t) * (size_t)*n);
  if (!st && (!*images || !*idx))
    st = sr_fail(err, SR_ERR_NOMEM, "out of memory for %lld images", (long long)*n);
  sr_resize_mode mode = a->resize && !strcmp(a->resize, "bilinear") ? SR_RESIZE_BILINEAR : SR_RESIZE_AREA;
  for (int64_t i = 0; !st && i < *n; i++) {
    (*idx)[i] = order[i];
    const uint8_t *im = src->images + (size_t)order[i] * in_sz;
    if (a->reg_data)
      st = sr_reg_resize_images(&(sr_u8_images){.px = im, .n = 1, .c = src->c, .h = src->h, .w = src->w}, *c,
                                *h, *w, mode, *images + (size_t)i * out_sz, err);
    else
      memcpy(*images + (size_t)i * out_sz, im, in_sz);
  }
  sr_free(order);
  sr_free(val);
  sr_dataset_free(&ds);
  sr_dataset_free(&rd);
  return st;
}

// Target values over the pairs the loss may use (i < j; the subset for subset kinds), into vals.
static int64_t pair_values(const sr_reg_target *t, double *vals) {
  int64_t m = 0;
  for (int64_t i = 0; i < t->n; i++)
    for (int64_t j = i + 1; j < t->n; j++)
      if (!t->mask || ((t->mask[(size_t)i * (size_t)t->words + (size_t)(j >> 6)] >> (j & 63)) & 1))
        vals[m++] = t->S[(size_t)i * (size_t)t->n + (size_t)j];
  return m;
}

// Text histogram on NBINS bins over [-1, 1] (stdout and BASE_hist.txt); PNG/SVG via sr_plot_hist.
static sr_status histogram(const sr_reg_target *t, const char *base, int plot, sr_err *err) {
  double *vals = malloc(sizeof(double) * (size_t)(t->n_pairs ? t->n_pairs : 1));
  if (!vals) return sr_fail(err, SR_ERR_NOMEM, "out of memory for the histogram");
  int64_t m = pair_values(t, vals), cnt[NBINS] = {0}, neg = 0, zero = 0, pos = 0;
  for (int64_t q = 0; q < m; q++) {
    int b = (int)((vals[q] + 1) / 2 * NBINS);
    cnt[b < 0 ? 0 : b >= NBINS ? NBINS - 1 : b]++;
    neg += vals[q] == -1;
    zero += vals[q] == 0;
    pos += vals[q] == 1;
  }
  char path[4200];
  snprintf(path, sizeof path, "%s_hist.txt", base);
  sr_afile af;
  sr_status st = sr_afile_open(&af, path, err);
  if (st) {
    free(vals);
    return st;
  }
  FILE *outs[2] = {stdout, af.fp};
  for (int o = 0; o < 2; o++) {
    fprintf(outs[o],
            "target %s, %lld images, %lld pairs (i < j) used by the loss; values exactly -1/0/+1: "
            "%lld/%lld/%lld\n",
            sr_reg_kind_name(t->kind), (long long)t->n, (long long)m, (long long)neg, (long long)zero,
            (long long)pos);
    for (int b = 0; b < NBINS; b++) {
      double lo = -1 + 2.0 * b / NBINS, frac = m ? (double)cnt[b] / (double)m : 0;
      char bar[61];
      int len = (int)(frac * 60 + 0.5);
      memset(bar, '#', (size_t)len);
      bar[len] = 0;
      fprintf(outs[o], "  [%+.1f, %+.1f%c %10lld %7.4f %s\n", lo, lo + 2.0 / NBINS,
              b == NBINS - 1 ? ']' : ')', (long long)cnt[b], frac, bar);
    }
  }
  st = sr_afile_commit(&af, err);
  if (!st && plot) {
    snprintf(path, sizeof path, "%s_hist", base);
    char title[128];
    snprintf(title, sizeof title, "target '%s': %lld images", sr_reg_kind_name(t->kind), (long long)t->n);
    sr_plot_opts po = {
        .title = title, .xlabel = "similarity", .ylabel = "fraction of pairs", .xmin = -1, .xmax = 1};
    const double *sets[1] = {vals};
    const char *labels[1] = {sr_reg_kind_name(t->kind)};
    // a constant set (e.g. one kept value) has no range to bin: skip the figure, keep the text
    int varied = 0;
    for (int64_t q = 1; q < m && !varied; q++) varied = vals[q] != vals[0];
    if (varied)
      st = sr_plot_hist(path, &po,
                        &(sr_hist){.data = sets, .n = &m, .labels = labels, .nsets = 1, .nbins = 40}, err);
  }
  free(vals);
  return st;
}

static int run(const sim_args *a) {
  sr_err err = {0};
  sr_reg_target t;
  memset(&t, 0, sizeof t);
  sr_reg_target_opts o = sr_reg_target_opts_default();
  sr_status st = sr_reg_kind_parse(a->kind, &o.kind, &err);
  o.th = a->th;
  if (!st && a->values) {
    if (!strcmp(a->values, "threshold"))
      o.subset_thresholded = 1;
    else if (strcmp(a->values, "pixel"))
      st = sr_fail(&err, SR_ERR_ARG, "--subset-values: '%s' is not pixel or threshold", a->values);
  }
  if (!st && a->resize && strcmp(a->resize, "area") && strcmp(a->resize, "bilinear"))
    st = sr_fail(&err, SR_ERR_ARG, "--resize: '%s' is not area or bilinear", a->resize);
  int64_t *idx = NULL;
  if (!st && o.kind == SR_REG_FILE) {
    if (!a->file || !a->indices)
      return fprintf(stderr, "simreg similarity: --reg file needs --file S.npy and --indices FILE\n"),
             SR_EXIT_USAGE;
    int64_t n_images = a->n_images;
    if (!n_images) {
      sr_dataset ds;
      if (!(st = sr_dataset_load(a->data, a->split, &ds, &err))) n_images = ds.n;
      sr_dataset_free(&ds);
    }
    if (!st) st = sr_reg_target_from_file(a->file, a->indices, n_images, &t, &err);
  } else if (!st) {
    if (a->file || a->indices)
      return fprintf(stderr, "simreg similarity: --file/--indices need --reg file\n"), SR_EXIT_USAGE;
    reg_images ri = {0};
    st = gather(a, &ri, &err);
    uint8_t *images = ri.px;
    const int64_t n = ri.n;
    const int c = ri.c, h = ri.h, w = ri.w;
    idx = ri.idx;
    if (!st)
      st = sr_reg_target_build(&o, &(sr_u8_images){.px = images, .n = n, .c = c, .h = h, .w = w}, a->cache,
                               &t, &err);
    if (!st) {
      memcpy(t.idx, idx, sizeof(int64_t) * (size_t)n);  // rows -> dataset indices, for the export
      printf("%s: %lld images %dx%dx%d from %s, th %g: %s in %.3f s (key %016llx)\n",
             sr_reg_kind_name(t.kind), (long long)n, c, h, w, a->reg_data ? a->reg_data : a->data, t.th,
             t.from_cache ? "read from the cache" : "built", t.seconds, (unsigned long long)t.key);
    }
    free(images);
  }
  free(idx);
  char base[4096];
  snprintf(base, sizeof base, "%s", a->out);
  size_t bl = strlen(base);
  if (bl > 4 && !strcmp(base + bl - 4, ".npy")) base[bl - 4] = 0;
  if (!st) {
    int64_t shape[2] = {t.n, t.n};
    st = sr_npy_write(a->out, SR_F32, 2, shape, t.S, &err);
  }
  if (!st) {
    char ipath[4200];
    snprintf(ipath, sizeof ipath, "%s_indices.npy", base);
    st = sr_npy_write(ipath, SR_I64, 1, &t.n, t.idx, &err);
  }
  if (!st) st = histogram(&t, base, !a->no_plot, &err);
  if (!st)
    printf("wrote %s, %s_indices.npy, %s_hist.txt%s\n", a->out, base, base,
           a->no_plot ? "" : " and the histogram figure");
  sr_reg_target_free(&t);
  return st ? sr_cli_fail("similarity", &err) : 0;
}

int sr_cmd_similarity(int argc, char **argv) {
  sim_args a = {.data = "fashion-mnist",
                .split = "train",
                .kind = "threshold",
                .n = 5000,
                .th = 0.8,
                .val_fraction = 0.01};
  sr_opt opts[] = {
      {"data", SR_OPT_STRING, &a.data, "training dataset spec (default fashion-mnist)", 0, 0, 0},
      {"split", SR_OPT_STRING, &a.split, "split of --data (default train)", 0, 0, 0},
      {"reg-data", SR_OPT_STRING, &a.reg_data,
       "take the images from this dataset instead (resized to --data's size)", 0, 0, 0},
      {"reg-n", SR_OPT_I64, &a.n, "number of regularization images N (default 5000)", 2, 1e7, 0},
      {"reg", SR_OPT_STRING, &a.kind,
       "threshold | pixel | high | low | positive | negative | file (default threshold)", 0, 0, 0},
      {"th", SR_OPT_DOUBLE, &a.th, "threshold Th in [0, 1) (default 0.8)", 0, 0.999999, 0},
      {"subset-values", SR_OPT_STRING, &a.values, "subset targets: pixel (S^pix, default) | threshold (S^Th)",
       0, 0, 0},
      {"val-fraction", SR_OPT_DOUBLE, &a.val_fraction, "validation hold-out, as in training (default 0.01)",
       0, 0.5, 0},
      {"seed", SR_OPT_I64, &a.seed, "hold-out seed, as in training (default 0)", 0, 9.0e15, 0},
      {"height", SR_OPT_I64, &a.size_h, "--reg-data: output height (default --data's)", 1, 4096, 0},
      {"width", SR_OPT_I64, &a.size_w, "--reg-data: output width (default --data's)", 1, 4096, 0},
      {"resize", SR_OPT_STRING, &a.resize, "--reg-data: area (default) | bilinear", 0, 0, 0},
      {"color", SR_OPT_FLAG, &a.color, "--reg-data: keep channels (default gray)", 0, 0, 0},
      {"cache", SR_OPT_STRING, &a.cache, "cache directory for built targets (default: none)", 0, 0, 0},
      {"file", SR_OPT_STRING, &a.file, "--reg file: the N x N similarity matrix (.npy float32/float64)", 0, 0,
       0},
      {"indices", SR_OPT_STRING, &a.indices, "--reg file: its N image indices (.npy int or text)", 0, 0, 0},
      {"n-images", SR_OPT_I64, &a.n_images,
       "--reg file: indices must be below this (default: size of --data)", 1, 1e12, 0},
      {"o", SR_OPT_STRING, &a.out, "output OUT.npy (also OUT_indices.npy, OUT_hist.txt, OUT_hist.png/.svg)",
       0, 0, 0},
      {"no-plot", SR_OPT_FLAG, &a.no_plot, "skip the PNG/SVG histogram", 0, 0, 0},
      {0}};
  const char *pos[1];
  int npos;
  int rc = sr_cli_parse("similarity", "-o OUT.npy [options]", opts,
                        &(sr_cli_argv){.argc = argc, .argv = argv, .first = 2}, pos, 0, &npos);
  if (rc) return rc < 0 ? 0 : rc;
  if (!a.out) {
    fprintf(stderr, "simreg similarity: need -o OUT.npy (see simreg similarity --help)\n");
    return SR_EXIT_USAGE;
  }
  return run(&a);
}
