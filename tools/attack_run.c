// The CLI side of the attack runners: the progress bar and the one-line summaries, read back from the
// robustness.json patch the library filled (docs/ATTACKS.md).
#include "attack_run.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "simreg/core.h"

static double per_sec(double n, double secs) { return n / (secs > 0 ? secs : 1e-9); }

void atk_progress_start(atk_progress *p, const char *label, const sr_amodel *am, int64_t total, int quiet) {
  *p = (atk_progress){.label = label,
                      .am = am,
                      .q0 = am ? am->queries : 0,
                      .total = total,
                      .t0 = sr_now(),
                      .tty = isatty(2),
                      .quiet = quiet};
  p->last = p->t0;
}

static void draw(atk_progress *p, double done, double queries, double secs) {
  double frac = p->total > 0 ? done / (double)p->total : 0;
  double qps = per_sec(queries, secs);
  double eta = frac > 0 ? secs / frac - secs : 0;
  if (p->tty) {
    char bar[21];
    int fill = (int)(frac * 20);
    for (int i = 0; i < 20; i++) bar[i] = i < fill ? '#' : '.';
    bar[20] = 0;
    fprintf(stderr, "\r%s [%s] %.0f/%lld images, %.0f queries/s, ETA %.0f s   ", p->label, bar, done,
            (long long)p->total, qps, eta);
    p->drawn = 1;
  } else {
    fprintf(stderr, "%s: %.0f/%lld images, %.0f queries/s, ETA %.0f s\n", p->label, done, (long long)p->total,
            qps, eta);
  }
}

void atk_progress_update(atk_progress *p, double done) {
  double now = sr_now();
  if (p->quiet || (now - p->last < (p->tty ? 0.5 : 20.0))) return;
  p->last = now;
  draw(p, done, (double)(p->am->queries - p->q0), now - p->t0);
}

void atk_progress_end(atk_progress *p) {
  if (p->drawn) fprintf(stderr, "\n");
  p->drawn = 0;
}

static void on_progress(void *ctx, const sr_rob_progress *rp) {
  atk_progress *p = ctx;
  if (rp->phase == SR_ROB_START) {
    *p = (atk_progress){
        .label = rp->label, .total = rp->total, .t0 = sr_now(), .tty = isatty(2), .quiet = p->quiet};
    p->last = p->t0;
  } else if (rp->phase == SR_ROB_UPDATE) {
    double now = sr_now();
    if (p->quiet || (now - p->last < (p->tty ? 0.5 : 20.0))) return;
    p->last = now;
    draw(p, rp->done, (double)rp->queries, rp->seconds);
  } else {
    atk_progress_end(p);
  }
}

void atk_progress_attach(atk_progress *p, sr_rob_opts *o, int quiet) {
  *p = (atk_progress){.quiet = quiet};
  o->on_progress = on_progress;
  o->progress_ctx = p;
}

static double num(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static double at(const cJSON *o, const char *k, int i) {
  const cJSON *v = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, k), i);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static int count(const cJSON *o, const char *k) {
  return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, k));
}

void atk_print_noise(const sr_rob_opts *o, const cJSON *out) {
  (void)o;
  const cJSON *noise = cJSON_GetObjectItemCaseSensitive(out, "noise");
  for (const cJSON *c = noise ? noise->child : NULL; c; c = c->next) {
    int nl = count(c, "levels");
    fprintf(stderr, "noise %s: accuracy %.4f at %g .. %.4f at %g (%.0f queries/s)\n", c->string,
            at(c, "accuracy", 0), at(c, "levels", 0), at(c, "accuracy", nl - 1), at(c, "levels", nl - 1),
            num(c, "queries_per_second"));
  }
}

void atk_print_gradient(const sr_rob_opts *o, int transfer, const cJSON *out) {
  (void)o;
  const cJSON *group = cJSON_GetObjectItemCaseSensitive(out, transfer ? "transfer" : "white_box");
  for (const cJSON *c = group ? group->child : NULL; c; c = c->next) {
    int nl = count(c, "levels");
    fprintf(stderr, "%s%s: accuracy %.4f at eps %g .. %.4f at eps %g (%.1f s)%s\n",
            transfer ? "transfer " : "", c->string, at(c, "accuracy", 0), at(c, "levels", 0),
            at(c, "accuracy", nl - 1), at(c, "levels", nl - 1), num(c, "seconds"),
            num(c, "out_of_bounds") > 0 ? " - ADVERSARIALS OUT OF BOUNDS" : "");
  }
}

static void print_convergence(const char *name, const cJSON *b) {
  const cJSON *cv = cJSON_GetObjectItemCaseSensitive(b, "convergence");
  if (!cv || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cv, "converged"))) return;
  fprintf(stderr,
          "%s: not converged: the last 20%% of the steps cut the median distance by %.1f%% (rule: <= 5%%)\n",
          name, 100 * num(cv, "last20_drop"));
}

static void print_one_minpert(const char *name, const cJSON *b, int quiet) {
  print_convergence(name, b);  // a warning: printed even when quiet
  if (quiet) return;
  double nc = num(b, "attacked");
  double reps = num(b, "repeats");
  printf(
      "%s: %d/%.0f adversarials over %.0f repeat(s) (%.0f misclassified clean, %.0f init failures, %.0f "
      "re-check "
      "failures), median ||d||^2/D %.4g [%.4g, %.4g], %.0f queries/s\n",
      name, count(b, "norms_sq_per_dim"), nc * reps, reps, num(b, "misclassified_clean"),
      num(b, "init_failed"), num(b, "recheck_failed"), num(b, "median"), num(b, "ci_low"), num(b, "ci_high"),
      num(b, "queries_per_second"));
}

void atk_print_minpert(const sr_rob_opts *o, const cJSON *out, int quiet) {
  if (!strcmp(o->attack, "boundary")) {
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(out, "boundary");
    if (b) print_one_minpert("boundary", b, quiet);
    return;
  }
  const char *name = !strcmp(o->norm, "linf") ? "hsj_linf" : "hsj_l2";
  const cJSON *b = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(out, "attacks"), name);
  if (b) print_one_minpert(name, b, quiet);
}

// FMN / DDN: found / attacked, the median L2 and L-inf distances, gradient calls and time.
void atk_print_wbmin(const sr_rob_opts *o, const cJSON *out, int quiet) {
  const char *name = !strcmp(o->attack, "ddn") ? "ddn_l2" : !strcmp(o->norm, "linf") ? "fmn_linf" : "fmn_l2";
  const cJSON *b = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(out, "attacks"), name);
  if (!b) return;
  print_convergence(name, b);
  if (quiet) return;
  const cJSON *q = cJSON_GetObjectItemCaseSensitive(b, "quartiles");
  printf(
      "%s: %d/%.0f adversarials (%.0f misclassified clean, %.0f re-check failures, %.0f zero gradients), "
      "median "
      "||d||_2 %.4g, ||d||_inf %.4g, ||d||^2/D %.4g [%.4g, %.4g], %.0f gradient calls in %.1f s\n",
      name, count(b, "norms_sq_per_dim"), num(b, "attacked"), num(b, "misclassified_clean"),
      num(b, "recheck_failed"), num(b, "zero_gradients"), at(q, "l2", 1), at(q, "linf", 1), num(b, "median"),
      num(b, "ci_low"), num(b, "ci_high"), num(b, "gradient_calls"), num(b, "seconds"));
}

// The per-image minimum over attacks: median, which attack gave the smallest how often.
void atk_print_minimal(const cJSON *out) {
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(out, "minimal");
  if (!m) return;
  printf("minimum over attacks: median ||d||_2 %.4g over %.0f images (%.0f not found); smallest by",
         at(m, "quartiles_l2", 1), num(m, "attacked"), num(m, "not_found"));
  for (const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "smallest_by")->child; c; c = c->next)
    printf(" %s %.0f", c->string, c->valuedouble);
  printf("\n");
}

// The gradient-masking flags, one line each.
void atk_print_masking(const cJSON *out) {
  const cJSON *f =
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(out, "masking"), "flags");
  for (const cJSON *c = f ? f->child : NULL; c; c = c->next) {
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
    const cJSON *numbers = cJSON_GetObjectItemCaseSensitive(c, "numbers");
    const char *word = !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "measured")) ? "not measured"
                       : cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "fired"))   ? "FIRED"
                                                                                      : "off";
    printf("masking %s: %s (%s)\n", cJSON_IsString(name) ? name->valuestring : "?", word,
           cJSON_IsString(numbers) ? numbers->valuestring : "");
  }
}

void atk_print_square(const sr_rob_opts *o, const cJSON *out) {
  const char *name = !strcmp(o->norm, "l2") ? "square_l2" : "square_linf";
  const cJSON *b = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(out, "attacks"), name);
  if (!b) return;
  double nc = num(b, "attacked");
  double rate = num(b, "success_rate");
  printf(
      "%s eps %g: %.0f/%.0f fooled (%.3f), median %g queries of %.0f, %.0f re-check failures, %.0f "
      "queries/s\n",
      name, num(b, "eps"), round(rate * nc), nc, rate, num(b, "median_queries"), num(b, "budget"),
      num(b, "recheck_failed"), num(b, "queries_per_second"));
}
