// simreg rsa: representational similarity analysis between pixel / thresholded targets, users' matrices and
// the feature layers of trained runs, over the same N images (docs/RSA.md).
#include <libgen.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rsa_cli.h"
#include "simreg/data.h"
#include "simreg/reg.h"

// ---- source specs ----

static int parse_size(const char *s, int *h, int *w) {
  return sscanf(s, "%dx%d", h, w) == 2 && *h > 0 && *w > 0;
}

static sr_status parse_pixel(const char *opt, rsa_source *s, sr_err *err) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", opt);
  for (char *tok = strtok(buf, ":"); tok; tok = strtok(NULL, ":")) {
    if (!strcmp(tok, "gray"))
      s->color = 0;
    else if (!strcmp(tok, "color") || !strcmp(tok, "colour"))
      s->color = 1;
    else if (!parse_size(tok, &s->rh, &s->rw))
      return sr_fail(err, SR_ERR_ARG, "source 'pixel:%s': '%s' is not gray, color or HxW", opt, tok);
  }
  return SR_OK;
}

static void set_run(rsa_source *s, const char *dir, const char *layer) {
  snprintf(s->run, sizeof s->run, "%s", dir);
  char tmp[1024];
  snprintf(tmp, sizeof tmp, "%s", dir);
  size_t l = strlen(tmp);
  while (l > 1 && tmp[l - 1] == '/') tmp[--l] = 0;
  snprintf(s->run_name, sizeof s->run_name, "%s", basename(tmp));
  snprintf(s->layer, sizeof s->layer, "%s", layer);
}

// "run:DIR[:LAYER]" after the "run:" prefix: the layer is what follows the last ':' (default all).
static sr_status parse_run(const char *rest, rsa_source *s, sr_err *err) {
  char dir[1024];
  snprintf(dir, sizeof dir, "%s", rest);
  char *c = strrchr(dir, ':');
  const char *layer = "all";
  if (c) {
    *c = 0;
    layer = c + 1;
  }
  if (!dir[0] || !layer[0]) return sr_fail(err, SR_ERR_ARG, "source 'run:%s': expected run:DIR:LAYER", rest);
  set_run(s, dir, layer);
  return SR_OK;
}

static sr_status parse_source(const char *spec, rsa_source *s, sr_err *err) {
  memset(s, 0, sizeof *s);
  s->layer_index = -1;
  snprintf(s->label, sizeof s->label, "%s", spec);
  if (!strcmp(spec, "pixel") || !strncmp(spec, "pixel:", 6)) {
    s->kind = SRC_PIXEL;
    s->is_target = 1;
    return spec[5] ? parse_pixel(spec + 6, s, err) : SR_OK;
  }
  if (!strcmp(spec, "threshold") || !strncmp(spec, "threshold:", 10)) {
    s->kind = SRC_THRESHOLD;
    s->is_target = 1;
    s->th = 0.8;
    char *end = NULL;
    if (spec[9]) s->th = strtod(spec + 10, &end);
    if ((end && *end) || !(s->th >= 0 && s->th < 1))
      return sr_fail(err, SR_ERR_ARG, "source '%s': the threshold must be a number in [0, 1)", spec);
    snprintf(s->label, sizeof s->label, "threshold:%g", s->th);
    return SR_OK;
  }
  if (!strncmp(spec, "file:", 5) && spec[5]) {
    s->kind = SRC_FILE;
    s->is_target = 1;
    snprintf(s->file, sizeof s->file, "%s", spec + 5);
    char *c = strrchr(s->file, ':');
    if (c) {
      snprintf(s->file_idx, sizeof s->file_idx, "%s", c + 1);
      *c = 0;
    }
    return SR_OK;
  }
  if (!strncmp(spec, "run:", 4)) return s->kind = SRC_RUN, parse_run(spec + 4, s, err);
  if (!strncmp(spec, "cka:run:", 8)) return s->kind = SRC_CKA, parse_run(spec + 8, s, err);
  return sr_fail(err, SR_ERR_ARG,
                 "source '%s': expected pixel[:gray|color][:HxW], threshold:TH, file:S.npy[:IDX], "
                 "run:DIR:LAYER|all|mix or cka:run:DIR:LAYER|all",
                 spec);
}

// ---- the image set ----

static int needs_images(const rsa_job *j) {
  for (int s = 0; s < j->nsrc; s++)
    if (j->src[s].kind != SRC_FILE) return 1;
  return 0;
}

static sr_status image_indices(rsa_job *j, const sr_dataset *ds, sr_err *err) {
  const rsa_args *a = j->a;
  int64_t cnt = 0, *idx = NULL, *val = NULL, nval = 0;
  sr_status st;
  if (a->indices) {
    st = sr_reg_read_indices(a->indices, &idx, &cnt, err);
    for (int64_t i = 0; !st && i < cnt; i++)
      if (idx[i] < 0 || idx[i] >= ds->n)
        st =
            sr_fail(err, SR_ERR_ARG, "%s: index %lld (entry %lld) is outside the %lld images of the %s split",
                    a->indices, (long long)idx[i], (long long)i, (long long)ds->n, a->split);
  } else if (!strcmp(a->split, "train")) {
    st = sr_split_holdout(
        &(sr_holdout_spec){.n = ds->n, .fraction = a->val_fraction, .seed = (uint64_t)a->holdout_seed}, &idx,
        &cnt, &val, &nval, err);
  } else {
    idx = sr_alloc(sizeof(int64_t) * (size_t)ds->n);
    st = idx ? SR_OK : sr_fail(err, SR_ERR_NOMEM, "indices");
    for (int64_t i = 0; idx && i < ds->n; i++) idx[i] = i;
    cnt = ds->n;
  }
  sr_free(val);
  if (!st && !a->indices && a->n > cnt)
    st = sr_fail(err, SR_ERR_ARG, "--n %lld: the %s split has %lld usable images", (long long)a->n, a->split,
                 (long long)cnt);
  if (!st && cnt < 3) st = sr_fail(err, SR_ERR_ARG, "RSA needs at least 3 images (got %lld)", (long long)cnt);
  if (st) return sr_free(idx), st;
  j->idx = idx;
  j->n = a->indices ? cnt : a->n;
  return SR_OK;
}

static sr_status gather_images(const rsa_job *j, const sr_dataset *ds, uint8_t **out, sr_err *err) {
  const size_t sz = (size_t)ds->c * (size_t)ds->h * (size_t)ds->w;
  *out = sr_alloc(sz * (size_t)j->n);
  if (!*out) return sr_fail(err, SR_ERR_NOMEM, "out of memory for %lld images", (long long)j->n);
  for (int64_t i = 0; i < j->n; i++) memcpy(*out + (size_t)i * sz, ds->images + (size_t)j->idx[i] * sz, sz);
  return SR_OK;
}

// ---- sources from images ----

static sr_status alloc_nn(int64_t n, float **p, sr_err *err) {
  *p = sr_alloc(sizeof(float) * (size_t)n * (size_t)n);
  return *p ? SR_OK
            : sr_fail(err, SR_ERR_NOMEM, "out of memory for a %lld x %lld matrix", (long long)n,
                      (long long)n);
}

static sr_status pixel_source(rsa_source *s, const uint8_t *im, int64_t n, int c, int h, int w, sr_err *err) {
  sr_status st = alloc_nn(n, &s->S, err);
  if (st) return st;
  if (s->kind == SRC_THRESHOLD) {  // the regularizer's own target (gray S^pix, thresholded)
    sr_reg_target t;
    sr_reg_target_opts o = sr_reg_target_opts_default();
    o.kind = SR_REG_THRESHOLD;
    o.th = s->th;
    if (!(st = sr_reg_target_build(&o, &(sr_u8_images){.px = im, .n = n, .c = c, .h = h, .w = w}, NULL, &t,
                                   err)))
      memcpy(s->S, t.S, sizeof(float) * (size_t)n * (size_t)n);
    sr_reg_target_free(&t);
    return st;
  }
  const int oc = s->color ? c : 1, oh = s->rh ? s->rh : h, ow = s->rw ? s->rw : w;
  uint8_t *rs = NULL;
  if (s->rh) {
    rs = sr_alloc((size_t)n * (size_t)oc * (size_t)oh * (size_t)ow);
    if (!rs) return sr_fail(err, SR_ERR_NOMEM, "out of memory for resized images");
    if ((st = sr_reg_resize_images(&(sr_u8_images){.px = im, .n = n, .c = c, .h = h, .w = w}, oc, oh, ow,
                                   SR_RESIZE_AREA, rs, err)))
      return sr_free(rs), st;
    im = rs;
    c = oc;
    h = oh;
    w = ow;
  }
  st = s->color ? sr_rsa_pixel_color(im, n, c, h, w, s->S, err)
                : sr_reg_pixel_similarity(im, n, c, h, w, s->S, err);
  sr_free(rs);
  return st;
}

// ---- sources from runs ----

static int find_layer(const sr_rsa_run_feats *f, const char *name) {
  for (int l = 0; l < f->n_layers; l++)
    if (!strcmp(f->names[l], name)) return l;
  return -1;
}

// Expand "all" into one source per layer (inserted in place), resolve layer names, mark "mix".
static sr_status expand_layers(rsa_job *j, const char *run, const sr_rsa_run_feats *f, sr_err *err) {
  for (int s = 0; s < j->nsrc; s++) {
    rsa_source *x = &j->src[s];
    if ((x->kind != SRC_RUN && x->kind != SRC_CKA) || strcmp(x->run, run) || x->layer_index >= 0) continue;
    if (x->kind == SRC_RUN && !strcmp(x->layer, "mix")) {
      x->kind = SRC_MIX;
      continue;
    }
    if (!strcmp(x->layer, "all")) {
      if (j->nsrc + f->n_layers - 1 > RSA_MAX_SOURCES)
        return sr_fail(err, SR_ERR_ARG, "more than %d sources", RSA_MAX_SOURCES);
      memmove(&j->src[s + f->n_layers], &j->src[s + 1], sizeof(rsa_source) * (size_t)(j->nsrc - s - 1));
      for (int l = 1; l < f->n_layers; l++) j->src[s + l] = *x;
      j->nsrc += f->n_layers - 1;
      for (int l = 0; l < f->n_layers; l++) snprintf(j->src[s + l].layer, sizeof x->layer, "%s", f->names[l]);
    }
    if ((x->layer_index = find_layer(f, x->layer)) < 0)
      return sr_fail(err, SR_ERR_ARG, "%s has no feature layer '%s'", run, x->layer);
    snprintf(x->label, sizeof x->label, "%s%s:%s", x->kind == SRC_CKA ? "cka:" : "", x->run_name, x->layer);
  }
  return SR_OK;
}

// The Gram of layer l, turned into the sources of this run that use it.
static sr_status layer_sources(rsa_job *j, const char *run, const sr_rsa_run_feats *f, int l, float *mix_acc,
                               sr_err *err) {
  int used = 0, mix = 0;
  for (int s = 0; s < j->nsrc; s++)
    if (!strcmp(j->src[s].run, run)) {
      used |= j->src[s].layer_index == l;
      mix |= j->src[s].kind == SRC_MIX;
    }
  if (!used && !mix) return SR_OK;
  const size_t nn = (size_t)j->n * (size_t)j->n;
  float *G;
  sr_status st = alloc_nn(j->n, &G, err);
  if (!st) st = sr_rsa_feature_gram(f->feats[l], j->n, f->channels[l], f->hw[l], G, err);
  for (int s = 0; s < j->nsrc && !st; s++) {
    rsa_source *x = &j->src[s];
    if (strcmp(x->run, run) || x->layer_index != l) continue;
    if (!(st = alloc_nn(j->n, x->kind == SRC_CKA ? &x->K : &x->S, err))) {
      if (x->kind == SRC_CKA) {
        memcpy(x->K, G, sizeof(float) * nn);
        st = sr_rsa_double_centre(x->K, j->n, err);
      } else
        st = sr_rsa_gram_cosine(G, j->n, x->S, err);
    }
  }
  if (!st && mix) {
    st = sr_rsa_gram_cosine(G, j->n, G, err);
    for (size_t q = 0; !st && q < nn; q++) mix_acc[q] += (float)(f->gamma[l] * G[q]);
  }
  sr_free(G);
  return st;
}

static sr_status run_sources(rsa_job *j, const char *run, const sr_dataset *ds, sr_err *err) {
  sr_rsa_run_feats f;
  double t0 = sr_now();
  sr_status st = sr_rsa_run_features(run, j->a->which, ds, j->idx, j->n, &f, err);
  if (st) return st;
  if (!j->a->quiet)
    fprintf(stderr, "rsa: features of %s (%d layers, %lld images) in %.1f s\n", run, f.n_layers,
            (long long)j->n, sr_now() - t0);
  float *mix = NULL;
  st = expand_layers(j, run, &f, err);
  for (int s = 0; s < j->nsrc && !st; s++)
    if (j->src[s].kind == SRC_MIX && !strcmp(j->src[s].run, run) && !mix && !(st = alloc_nn(j->n, &mix, err)))
      memset(mix, 0, sizeof(float) * (size_t)j->n * (size_t)j->n);
  for (int l = 0; l < f.n_layers && !st; l++) st = layer_sources(j, run, &f, l, mix, err);
  for (int s = 0; s < j->nsrc && !st; s++) {
    rsa_source *x = &j->src[s];
    if (x->kind != SRC_MIX || strcmp(x->run, run)) continue;
    if (!(st = alloc_nn(j->n, &x->S, err))) memcpy(x->S, mix, sizeof(float) * (size_t)j->n * (size_t)j->n);
    x->n_gamma = f.n_layers;
    x->gamma_from_ckpt = f.gamma_from_ckpt;
    memcpy(x->gamma, f.gamma, sizeof f.gamma);
    snprintf(x->label, sizeof x->label, "%s:mix", x->run_name);
  }
  if (!j->a->quiet) fprintf(stderr, "rsa: similarities of %s in %.1f s\n", run, sr_now() - t0);
  sr_free(mix);
  sr_rsa_run_feats_free(&f);
  return st;
}

// ---- sources from files ----

// Put a file's matrix into the job's row order (its indices must be the job's set, without repeats).
static sr_status align_file(rsa_job *j, rsa_source *s, sr_rsa_matrix *m, sr_err *err) {
  if (m->n != j->n)
    return sr_fail(err, SR_ERR_ARG, "%s: a %lld x %lld matrix, but the other sources are over %lld images",
                   s->file, (long long)m->n, (long long)m->n, (long long)j->n);
  if (!m->idx || !j->idx) {
    s->S = m->S, m->S = NULL;
    return SR_OK;
  }
  int64_t *row = malloc(sizeof(int64_t) * (size_t)j->n);
  sr_status st = row ? SR_OK : sr_fail(err, SR_ERR_NOMEM, "index map");
  for (int64_t r = 0; !st && r < j->n; r++) {
    row[r] = -1;
    for (int64_t q = 0; q < m->n; q++)
      if (m->idx[q] == j->idx[r]) {
        if (row[r] >= 0)
          st = sr_fail(err, SR_ERR_ARG, "%s: image %lld appears twice", s->file_idx, (long long)j->idx[r]);
        row[r] = q;
      }
    if (!st && row[r] < 0)
      st = sr_fail(err, SR_ERR_ARG,
                   "sources over different image sets: %s lacks image %lld (row %lld of the others)",
                   s->file_idx, (long long)j->idx[r], (long long)r);
  }
  if (!st) st = alloc_nn(j->n, &s->S, err);
  for (int64_t r = 0; !st && r < j->n; r++)
    for (int64_t c = 0; c < j->n; c++)
      s->S[(size_t)r * (size_t)j->n + (size_t)c] = m->S[(size_t)row[r] * (size_t)m->n + (size_t)row[c]];
  free(row);
  return st;
}

static sr_status file_sources(rsa_job *j, sr_err *err) {
  for (int s = 0; s < j->nsrc; s++) {
    rsa_source *x = &j->src[s];
    if (x->kind != SRC_FILE) continue;
    sr_rsa_matrix m;
    sr_status st = sr_rsa_load_matrix(x->file, x->file_idx[0] ? x->file_idx : NULL, j->a->sym_tol, &m, err);
    if (!st && !j->n) {  // only files: the first one defines the image set
      j->n = m.n;
      if (m.idx && !(j->idx = sr_alloc(sizeof(int64_t) * (size_t)m.n)))
        st = sr_fail(err, SR_ERR_NOMEM, "indices");
      if (!st && m.idx) memcpy(j->idx, m.idx, sizeof(int64_t) * (size_t)m.n);
    }
    if (!st) st = align_file(j, x, &m, err);
    sr_rsa_matrix_free(&m);
    if (st) return st;
  }
  return SR_OK;
}

// ---- the whole job ----

static sr_status build_sources(rsa_job *j, sr_err *err) {
  sr_status st = SR_OK;
  if (needs_images(j)) {
    sr_dataset ds;
    uint8_t *im = NULL;
    st = sr_dataset_load(j->a->data, j->a->split, &ds, err);
    if (!st) st = image_indices(j, &ds, err);
    if (!st) st = gather_images(j, &ds, &im, err);
    for (int s = 0; s < j->nsrc && !st; s++)
      if (j->src[s].kind == SRC_PIXEL || j->src[s].kind == SRC_THRESHOLD)
        st = pixel_source(&j->src[s], im, j->n, ds.c, ds.h, ds.w, err);
    for (int s = 0; s < j->nsrc && !st; s++) {
      const rsa_source *x = &j->src[s];
      int first = (x->kind == SRC_RUN || x->kind == SRC_CKA) && x->layer_index < 0 && !x->S && !x->K;
      for (int q = 0; first && q < s; q++) first = strcmp(j->src[q].run, x->run) != 0;
      if (first) st = run_sources(j, x->run, &ds, err);
    }
    sr_free(im);
    sr_dataset_free(&ds);
  }
  return st ? st : file_sources(j, err);
}

static void print_phase(void *ctx, const char *phase, int64_t resamples, double seconds) {
  (void)ctx;
  fprintf(stderr, "rsa: %s (%lld %s) %.1f s\n", strcmp(phase, "mantel") ? phase : "Mantel",
          (long long)resamples, strcmp(phase, "mantel") ? "resamples" : "permutations", seconds);
}

static sr_status compare(rsa_job *j, sr_err *err) {
  const float *S[RSA_MAX_SOURCES];
  int tgt[RSA_MAX_SOURCES];
  j->k = j->ncka = 0;
  for (int s = 0; s < j->nsrc; s++) {
    if (j->src[s].kind == SRC_CKA)
      j->cka_of[j->ncka++] = s;
    else {
      j->rsa_of[j->k] = s;
      S[j->k] = j->src[s].S;
      tgt[j->k++] = j->src[s].is_target;
    }
  }
  sr_status st = SR_OK;
  if (j->k >= 2) {
    j->pairs = calloc((size_t)j->k * (size_t)(j->k - 1) / 2, sizeof *j->pairs);
    if (!j->pairs) return sr_fail(err, SR_ERR_NOMEM, "pairs");
    sr_rsa_opts o = {.boot_b = j->a->boot_b,
                     .perm_b = j->a->perm_b,
                     .seed = (uint64_t)j->a->seed,
                     .level = j->a->level,
                     .all_pairs = j->a->all_pairs,
                     .kendall_all = j->a->kendall_all,
                     .no_rank_resampling = j->a->no_rank_resampling,
                     .on_phase = j->a->quiet ? NULL : print_phase};
    st = sr_rsa_compare(&(sr_rsa_sources){.S = S, .is_target = tgt, .k = j->k, .n = j->n}, &o, j->pairs,
                        j->info, &j->timing, err);
  }
  if (!st && j->ncka) {
    j->cka = malloc(sizeof(double) * (size_t)j->ncka * (size_t)j->ncka);
    if (!j->cka) return sr_fail(err, SR_ERR_NOMEM, "CKA table");
    for (int a = 0; a < j->ncka; a++)
      for (int b = 0; b < j->ncka; b++)
        j->cka[a * j->ncka + b] = sr_rsa_cka(j->src[j->cka_of[a]].K, j->src[j->cka_of[b]].K, j->n);
  }
  return st;
}

static void job_free(rsa_job *j) {
  for (int s = 0; s < j->nsrc; s++) {
    sr_free(j->src[s].S);
    sr_free(j->src[s].K);
  }
  sr_free(j->idx);
  free(j->pairs);
  free(j->cka);
}

static int run(const rsa_args *a, const char **specs, int nspec) {
  rsa_job *j = calloc(1, sizeof *j);  // large (sources carry paths): on the heap
  if (!j) return fprintf(stderr, "simreg rsa: out of memory\n"), SR_EXIT_FAIL;
  j->a = a;
  sr_err err = {0};
  sr_status st = SR_OK;
  const double t0 = sr_now(), c0 = sr_rsa_cpu_seconds();
  for (int s = 0; s < nspec && !st; s++) st = parse_source(specs[s], &j->src[j->nsrc++], &err);
  if (!st) st = build_sources(j, &err);
  j->seconds_sources = sr_now() - t0;
  j->cpu_sources = sr_rsa_cpu_seconds() - c0;
  int nrsa = 0, ncka = 0;
  for (int s = 0; s < j->nsrc; s++) {
    nrsa += j->src[s].kind != SRC_CKA;
    ncka += j->src[s].kind == SRC_CKA;
  }
  if (!st && nrsa < 2 && ncka < 2)
    st = sr_fail(&err, SR_ERR_ARG, "need at least two sources to compare (got %d, and %d CKA layers)", nrsa,
                 ncka);
  if (!st && nrsa == 1)
    st = sr_fail(&err, SR_ERR_ARG, "one RSA source alone has nothing to be compared with");
  if (!st) st = compare(j, &err);
  j->seconds_total = sr_now() - t0;
  j->cpu_total = sr_rsa_cpu_seconds() - c0;
  if (!st) rsa_print(j);
  if (!st) st = rsa_write_outputs(j, &err);
  job_free(j);
  free(j);
  return st ? sr_cli_fail("rsa", &err) : 0;
}

int sr_cmd_rsa(int argc, char **argv) {
  // The statistics allocate and free many 50-200 MB buffers. Fresh pages cost a fault and a clear each (on
  // this VM about 2 CPU s per GB), so freed memory stays in the heap for the next buffer: no mmap'd chunks
  // (they go back to the kernel on free) and no trimming.
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, -1);
  rsa_args a = {.data = "fashion-mnist",
                .split = "train",
                .which = "best",
                .n = 5000,
                .boot_b = 1000,
                .perm_b = 1000,
                .level = 0.95,
                .val_fraction = 0.01,
                .sym_tol = 1e-5};
  sr_opt opts[] = {
      {"data", SR_OPT_STRING, &a.data, "dataset spec of the images (default fashion-mnist)", 0, 0, 0},
      {"split", SR_OPT_STRING, &a.split,
       "train (default: the first N after the validation hold-out) | test (the first N)", 0, 0, 0},
      {"n", SR_OPT_I64, &a.n, "number of images N (default 5000)", 3, 65536, 0},
      {"indices", SR_OPT_STRING, &a.indices,
       "the images as dataset indices into --split (.npy int or text); overrides --n", 0, 0, 0},
      {"val-fraction", SR_OPT_DOUBLE, &a.val_fraction,
       "--split train: the hold-out fraction, as in training (default 0.01)", 0, 0.5, 0},
      {"holdout-seed", SR_OPT_I64, &a.holdout_seed,
       "--split train: the hold-out seed = the run's training seed (default 0)", 0, 9.0e15, 0},
      {"which", SR_OPT_STRING, &a.which, "run weights: best (default) | last", 0, 0, 0},
      {"boot", SR_OPT_I64, &a.boot_b, "image-bootstrap resamples (default 1000; 0: no CIs)", 0, 1e6, 0},
      {"perm", SR_OPT_I64, &a.perm_b, "Mantel permutations (default 1000; 0: no p-values)", 0, 1e6, 0},
      {"seed", SR_OPT_I64, &a.seed, "seed of the resamples and permutations (default 0)", 0, 9.0e15, 0},
      {"level", SR_OPT_DOUBLE, &a.level, "CI level (default 0.95)", 0.5, 0.9999, 0},
      {"all-pairs", SR_OPT_FLAG, &a.all_pairs,
       "CIs and p-values for every pair (default: pairs with a target side)", 0, 0, 0},
      {"kendall-all", SR_OPT_FLAG, &a.kendall_all,
       "Kendall tau-b for every pair (default: pairs with a >50%-tied side)", 0, 0, 0},
      {"no-rank-resampling", SR_OPT_FLAG, &a.no_rank_resampling,
       "no CI / p for Spearman: half the bootstrap and Mantel work", 0, 0, 0},
      {"sym-tol", SR_OPT_DOUBLE, &a.sym_tol, "file sources: largest |S_ij - S_ji| accepted (default 1e-5)", 0,
       1, 0},
      {"hexbin", SR_OPT_STRING, &a.hexbin,
       "pair-density plots for these source pairs, e.g. 1-3,2-3 (default: first target vs each other)", 0, 0,
       0},
      {"o", SR_OPT_STRING, &a.out, "output directory (rsa.json and figures)", 0, 0, 0},
      {"no-plot", SR_OPT_FLAG, &a.no_plot, "skip the figures", 0, 0, 0},
      {"quiet", SR_OPT_FLAG, &a.quiet, "no progress lines", 0, 0, 0},
      {0}};
  const char *pos[RSA_MAX_SOURCES];
  int npos;
  int rc = sr_cli_parse("rsa", "SOURCE SOURCE... -o DIR [options]", opts,
                        &(sr_cli_argv){.argc = argc, .argv = argv, .first = 2}, pos, RSA_MAX_SOURCES, &npos);
  if (rc) return rc < 0 ? 0 : rc;
  if (!a.out) return fprintf(stderr, "simreg rsa: need -o DIR (see simreg rsa --help)\n"), SR_EXIT_USAGE;
  if (strcmp(a.split, "train") && strcmp(a.split, "test"))
    return fprintf(stderr, "simreg rsa: --split: '%s' is not train or test\n", a.split), SR_EXIT_USAGE;
  if (strcmp(a.which, "best") && strcmp(a.which, "last"))
    return fprintf(stderr, "simreg rsa: --which: '%s' is not best or last\n", a.which), SR_EXIT_USAGE;
  if (npos < 1)
    return fprintf(stderr, "simreg rsa: no sources given (see simreg rsa --help)\n"), SR_EXIT_USAGE;
  return run(&a, pos, npos);
}
