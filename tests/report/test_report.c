// Report from synthetic runs: the numbers in report.json follow the data (regularized run has less HF power,
// larger boundary norms, a small Mann-Whitney p), missing data reads "not run", run strings are escaped, the
// page is self-contained, and malformed run files fail with SR_ERR_FORMAT naming the file.
#include <cjson/cJSON.h>
#include <unistd.h>

#include "fixture_runs.h"
#include "simreg/report.h"
#include "sr_test.h"

static char *slurp(const char *dir, const char *name) {
  char path[700];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  void *data = NULL;
  size_t n;
  sr_err err = {0};
  if (sr_read_file(path, 1 << 24, &data, &n, &err)) return NULL;
  return data;
}

static double jnum(const cJSON *o, const char *a, const char *b) {
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
  if (b) x = cJSON_GetObjectItemCaseSensitive(x, b);
  return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

static void test_report(const char *root) {
  char dirs[3][512], out[600];
  CHECK(fx_make_runs(root, dirs) == 0, "fixtures written");
  snprintf(out, sizeof out, "%s/out", root);
  const char *d[3] = {dirs[0], dirs[1], dirs[2]};
  sr_report_opts o = {.out_dir = out, .title = "Test <report>", .bootstrap_b = 500, .seed = 3};
  sr_report *rep = sr_calloc(1, sizeof *rep);
  sr_err err = {0};
  CHECK_OK(sr_report_build(d, 3, &o, rep, &err), &err);
  CHECK(rep->nfigures >= 12, "figures drawn: %d", rep->nfigures);
  for (int i = 0; i < rep->nfigures; i++) {
    char name[800];
    snprintf(name, sizeof name, "%s/%s.png", out, rep->figures[i]);
    CHECK(access(name, R_OK) == 0, "%s exists", name);
    snprintf(name, sizeof name, "%s/%s.svg", out, rep->figures[i]);
    CHECK(access(name, R_OK) == 0, "%s exists", name);
  }
  sr_report_free(rep);
  sr_free(rep);

  char *js = slurp(out, "report.json");
  cJSON *j = js ? cJSON_Parse(js) : NULL;
  CHECK(j != NULL, "report.json parses");
  const cJSON *runs = cJSON_GetObjectItemCaseSensitive(j, "runs");
  CHECK(cJSON_GetArraySize(runs) == 3, "three runs");
  const cJSON *r0 = cJSON_GetArrayItem(runs, 0), *r1 = cJSON_GetArrayItem(runs, 1),
              *r2 = cJSON_GetArrayItem(runs, 2);
  double hf0 = jnum(r0, "hf_share", "estimate"), hf1 = jnum(r1, "hf_share", "estimate");
  // White 16x16 noise: share of frequency pixels at r >= 0.25 is 1 - (pixels inside)/256 ~ 0.81.
  CHECK(hf0 > 0.7 && hf0 < 0.9, "white-noise HF share %g", hf0);
  CHECK(hf1 < 0.2 * hf0, "low-pass perturbations have much less HF power: %g vs %g", hf1, hf0);
  double lo0 = jnum(r0, "hf_share", "ci_low"), hi0 = jnum(r0, "hf_share", "ci_high");
  CHECK(lo0 < hf0 && hf0 < hi0 && hi0 - lo0 < 0.1, "HF CI [%g, %g] around %g", lo0, hi0, hf0);
  double b0 = jnum(r0, "boundary_median_norm_sq_per_dim", "estimate"),
         b1 = jnum(r1, "boundary_median_norm_sq_per_dim", "estimate");
  CHECK(b0 > 2e-3 && b0 < 3.6e-3 && b1 > 4.2e-3 && b1 < 6.5e-3, "boundary medians %g %g", b0, b1);
  const cJSON *mw = cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(r1, "boundary_median_norm_sq_per_dim"), "mann_whitney_vs_first");
  CHECK(jnum(mw, "p", NULL) < 1e-6, "Mann-Whitney p %g", jnum(mw, "p", NULL));
  CHECK(fabs(jnum(r0, "clean_accuracy", NULL) - 0.88) < 1e-12, "clean accuracy from robustness.json");
  CHECK(fabs(jnum(r1, "corruptions", "high") - (0.8 + 0.7 + 0.65 + 0.61 + 0.55) / 5) < 1e-9, "group mean %g",
        jnum(r1, "corruptions", "high"));
  // Mean-removed spectra, DC share and HF share differences against the first run (white noise).
  double d1 = jnum(r1, "hf_share_diff", "estimate"), dlo = jnum(r1, "hf_share_diff", "ci_low"),
         dhi = jnum(r1, "hf_share_diff", "ci_high");
  CHECK(fabs(d1 - (hf1 - hf0)) < 1e-9 && dlo < d1 && d1 < dhi && dhi < 0,
        "HF difference %g [%g, %g] = %g - %g, below 0", d1, dlo, dhi, hf1, hf0);
  double a0 = jnum(r0, "hf_share_mean_removed", "estimate"),
         a1 = jnum(r1, "hf_share_mean_removed", "estimate");
  CHECK(a0 >= hf0 && a0 < 0.9 && a1 < 0.2 * a0, "mean-removed HF shares %g %g", a0, a1);
  CHECK(fabs(jnum(r1, "hf_share_mean_removed_diff", "estimate") - (a1 - a0)) < 1e-9 &&
            jnum(r1, "hf_share_mean_removed_diff", "ci_high") < 0,
        "mean-removed HF difference below 0");
  double dc0 = jnum(r0, "dc_share", "estimate");
  CHECK(dc0 > 0 && dc0 < 0.05 && jnum(r0, "dc_share", "ci_low") <= dc0 &&
            dc0 <= jnum(r0, "dc_share", "ci_high"),
        "white noise: small DC share %g inside its CI", dc0);
  CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r0, "hf_share_diff")),
        "the first run has no difference");
  const cJSON *rdb = cJSON_GetObjectItemCaseSensitive(r0, "radial_db_mean_removed");
  CHECK(cJSON_GetArraySize(rdb) == SR_SPEC_NBINS && cJSON_IsNull(cJSON_GetArrayItem(rdb, 0)) &&
            cJSON_IsNumber(cJSON_GetArrayItem(rdb, 24)),
        "dB radial profile: DC-only bin 0 null, last bin a number");
  CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r2, "dc_share")) &&
            cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r2, "hf_share_diff")) &&
            cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r2, "radial_db_mean_removed")),
        "config-only run: new spectrum fields null");
  CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r2, "hf_share")) &&
            cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r2, "boundary_median_norm_sq_per_dim")),
        "config-only run has nulls");
  cJSON_Delete(j);
  sr_free(js);

  char *html = slurp(out, "index.html");
  CHECK(html != NULL, "index.html written");
  if (html) {
    CHECK(strstr(html, "<script") == NULL, "no raw script tag from a run name");
    CHECK(strstr(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;") != NULL,
          "run name escaped");
    CHECK(strstr(html, "Test &lt;report&gt;") != NULL, "title escaped");
    CHECK(strstr(html, "http:") == NULL && strstr(html, "https:") == NULL && strstr(html, "//") == NULL,
          "no external URLs");
    CHECK(strstr(html, "<td class=\"nr\">not run</td>") != NULL, "missing data says not run");
    CHECK(strstr(html, "<img src=\"spectra_2d.png\"") != NULL, "spectra figure linked");
    const char *figs[3] = {"spectra_2d_db", "spectra_2d_diff", "spectra_radial_db"};
    for (int i = 0; i < 3; i++) {
      char tag[80], path[800];
      snprintf(tag, sizeof tag, "<img src=\"%s.png\"", figs[i]);
      CHECK(strstr(html, tag) != NULL, "%s linked", figs[i]);
      snprintf(path, sizeof path, "%s/%s.svg", out, figs[i]);
      CHECK(access(path, R_OK) == 0, "%s written", path);
    }
    CHECK(strstr(html, "HF share minus baseline&#39;s [95% CI]") != NULL &&
              strstr(html, "DC share [95% CI]") != NULL,
          "difference and DC columns");
    CHECK(strstr(html, "<td>(reference)</td><td>0.00") != NULL, "first run: reference, then its DC share");
  }
  sr_free(html);
  char *md = slurp(out, "report.md");
  CHECK(md && strstr(md, "| Run |") && strstr(md, "\\| \\#1") && strstr(md, "not run"),
        "markdown table with escaped cells");
  sr_free(md);
}

static void test_malformed(const char *root) {
  char dir[600], out[600];
  snprintf(dir, sizeof dir, "%s/broken", root);
  snprintf(out, sizeof out, "%s/out_broken", root);
  mkdir(dir, 0755);
  const char *d[1] = {dir};
  sr_report_opts o = {.out_dir = out, .bootstrap_b = 100};
  sr_report *rep = sr_calloc(1, sizeof *rep);
  sr_err err = {0};
  CHECK_OK(sr_report_build(d, 1, &o, rep, &err), &err);  // an empty run directory is fine
  sr_report_free(rep);
  fx_write(dir, "robustness.json", "{\"noise\": {\"gaussian\": {\"levels\": [0, 0.1], \"accuracy\": [0.9,");
  CHECK(sr_report_build(d, 1, &o, rep, &err) == SR_ERR_FORMAT && strstr(err.msg, "robustness.json"),
        "truncated JSON names the file: %s", err.msg);
  fx_write(dir, "robustness.json",
           "{\"noise\": {\"gaussian\": {\"levels\": [0, 0.1], \"accuracy\": [0.9]}}}");
  CHECK(sr_report_build(d, 1, &o, rep, &err) == SR_ERR_FORMAT && strstr(err.msg, "gaussian"),
        "length mismatch: %s", err.msg);
  fx_write(dir, "robustness.json", "{\"noise\": {\"gaussian\": {\"levels\": [0], \"accuracy\": [\"a\"]}}}");
  CHECK(sr_report_build(d, 1, &o, rep, &err) == SR_ERR_FORMAT && strstr(err.msg, "accuracy"),
        "string accuracy: %s", err.msg);
  unlink(strcat(strcpy(out, dir), "/robustness.json"));
  fx_write(dir, "metrics.jsonl", "{\"epoch\": 1, \"train_loss\": 2}\n\n{\"epoch\": 2, \"train_loss\": }\n");
  CHECK(sr_report_build(d, 1, &o, rep, &err) == SR_ERR_FORMAT && strstr(err.msg, "metrics.jsonl:3"),
        "bad metrics line is named with its number: %s", err.msg);
  fx_write(dir, "metrics.jsonl", "{\"epoch\": 1, \"val_acc\": 0.5}\n{\"epoch\": 2, \"val_acc\": 1.5}\n");
  CHECK(sr_report_build(d, 1, &o, rep, &err) == SR_ERR_FORMAT && strstr(err.msg, "metrics.jsonl:2") &&
            strstr(err.msg, "val_acc"),
        "accuracy outside [0,1] is named: %s", err.msg);
  fx_write(dir, "metrics.jsonl", "{\"epoch\": 1}\n");
  fx_write(dir, "config.json", "[1, 2]");
  CHECK(sr_report_build(d, 1, &o, rep, &err) == SR_ERR_FORMAT && strstr(err.msg, "config.json"),
        "non-object config: %s", err.msg);
  const char *none[1] = {"/nonexistent/run"};
  CHECK(sr_report_build(none, 1, &o, rep, &err) == SR_ERR_IO, "missing run directory");
  sr_free(rep);
}

int main(void) {
  char root[] = "/tmp/sr_report_XXXXXX";
  CHECK(mkdtemp(root) != NULL, "mkdtemp");
  test_report(root);
  test_malformed(root);
  if (!getenv("SR_REPORT_KEEP")) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CHECK(system(cmd) == 0, "cleanup");
  } else {
    printf("kept %s\n", root);
  }
  return sr_test_done();
}
