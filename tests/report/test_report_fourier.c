// The report's Fourier-sensitivity section from hand-written fourier_map.json files: a run with one error
// position fewer per image and band than the first run gets the paired difference -1/pixels exactly (CI
// degenerate) and the verdict "supports"; one with one more "contradicts"; a run with another eps is not
// compared (a note); the section, its rule and the figures reach report.md, index.html and report.json;
// a malformed file is SR_ERR_FORMAT naming it.
#include <cjson/cJSON.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/report/report_fourier.h"
#include "simreg/report.h"
#include "sr_test.h"

enum { N = 6, S = 16 };

// DIR/fourier_map.json for a 16x16 plane: every image has base + delta error positions per band (>= 0).
static void write_map(const char *dir, double eps, const int *base, int delta) {
  mkdir(dir, 0755);
  char path[600];
  snprintf(path, sizeof path, "%s/fourier_map.json", dir);
  FILE *f = fopen(path, "w");
  int64_t pixels[SR_FOURIER_NBANDS] = {0};
  for (int p = 0; p < S * S; p++) pixels[sr_fourier_band(p / S, p % S, S, S)]++;
  fprintf(
      f,
      "{\"settings\": {\"images\": %d, \"height\": %d, \"width\": %d, \"dataset\": \"toy\", \"random_sign\": "
      "false, \"seed\": 0}, \"maps\": [{\"eps\": %g, \"channel\": \"all\", \"error\": [",
      N, S, S, eps);
  for (int y = 0; y < S; y++)
    for (int x = 0; x < S; x++)
      fprintf(f, "%s%g%s", x ? ", " : y ? ", [" : "[", (x + y) / 32.0, x == S - 1 ? "]" : "");
  fprintf(f, "], \"bands\": {");
  for (int b = 0; b < SR_FOURIER_NBANDS; b++)
    fprintf(f, "%s\"%s\": {\"pixels\": %lld}", b ? ", " : "", sr_fourier_band_name(b), (long long)pixels[b]);
  fprintf(f, "}, \"image_band_errors\": {");
  for (int b = 0; b < SR_FOURIER_NBANDS; b++) {
    fprintf(f, "%s\"%s\": [", b ? ", " : "", sr_fourier_band_name(b));
    for (int i = 0; i < N; i++) fprintf(f, "%s%d", i ? ", " : "", base[i] + delta);
    fprintf(f, "]");
  }
  fprintf(f, "}}]}\n");
  fclose(f);
}

static int contains(const char *dir, const char *name, const char *what) {
  char path[700];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  void *data = NULL;
  size_t n;
  sr_err err = {0};
  if (sr_read_file(path, 1 << 24, &data, &n, &err)) return 0;
  int found = strstr(data, what) != NULL;
  sr_free(data);
  return found;
}

int main(void) {
  char root[] = "/tmp/sr_test_fourier_XXXXXX", dirs[4][600], out[600];
  CHECK(mkdtemp(root) != NULL, "temp dir");
  const int base[N] = {1, 2, 1, 3, 1, 2};
  const char *names[4] = {"base", "better", "worse", "other"};
  for (int r = 0; r < 4; r++) snprintf(dirs[r], sizeof dirs[r], "%s/%s", root, names[r]);
  write_map(dirs[0], 4, base, 0);
  write_map(dirs[1], 4, base, -1);
  write_map(dirs[2], 4, base, 1);
  write_map(dirs[3], 2, base, 0);
  snprintf(out, sizeof out, "%s/out", root);
  const char *d[4] = {dirs[0], dirs[1], dirs[2], dirs[3]};
  sr_report_opts o = {.out_dir = out, .bootstrap_b = 300, .seed = 1};
  sr_report *rep = sr_calloc(1, sizeof *rep);
  sr_err err = {0};
  CHECK_OK(sr_report_build(d, 4, &o, rep, &err), &err);
  const struct sr_fourier_report *fr = rep->fourier;
  CHECK(fr && fr->count == 4, "four runs with maps");
  if (fr) {
    for (int b = 0; b < SR_FOURIER_NBANDS; b++) {
      double px = (double)fr->run[0].pixels[b], want = (1 + 2 + 1 + 3 + 1 + 2) / (N * px);
      CHECK(fabs(fr->run[0].band[b].estimate - want) < 1e-12, "band %d mean %g, want %g", b,
            fr->run[0].band[b].estimate, want);
      const sr_ci *better = &fr->run[1].diff[b], *worse = &fr->run[2].diff[b];
      CHECK(fabs(better->estimate + 1 / px) < 1e-12 && fabs(better->hi + 1 / px) < 1e-12,
            "paired difference -1/px");
      CHECK(!strcmp(sr_fourier_verdict(better), "supports"), "band %d: less error supports", b);
      CHECK(!strcmp(sr_fourier_verdict(worse), "contradicts"), "band %d: more error contradicts", b);
    }
    CHECK(fr->run[1].paired && fr->run[2].paired && !fr->run[3].paired, "the eps-2 run is not compared");
  }
  int noted = 0;
  for (int i = 0; i < rep->nnotes; i++) noted += strstr(rep->notes[i], "not compared") != NULL;
  CHECK(noted == 1, "one note on the run with another eps");
  CHECK(contains(out, "report.md", "## Fourier sensitivity") && contains(out, "report.md", "| supports |") &&
            contains(out, "report.md", "| contradicts |"),
        "report.md section");
  CHECK(contains(out, "index.html", "<h2>Fourier sensitivity</h2>") &&
            contains(out, "index.html", "entirely below 0"),
        "index.html section with the rule");
  CHECK(contains(out, "report.json", "\"minus_first\"") && contains(out, "report.json", "\"verdict\""),
        "report.json");
  char png[700];
  snprintf(png, sizeof png, "%s/fourier_maps.png", out);
  CHECK(access(png, R_OK) == 0, "maps figure");
  snprintf(png, sizeof png, "%s/fourier_diff.svg", out);
  CHECK(access(png, R_OK) == 0, "difference figure");
  sr_report_free(rep);
  CHECK(rep->fourier == NULL, "freed");
  // malformed: a count larger than the band
  int big[N] = {99, 1, 1, 1, 1, 1};
  write_map(dirs[1], 4, big, 0);
  CHECK(sr_report_build(d, 2, &o, rep, &err) == SR_ERR_FORMAT && strstr(err.msg, "better/fourier_map.json"),
        "malformed file named: %s", err.msg);
  sr_free(rep);
  char cmd[700];
  snprintf(cmd, sizeof cmd, "rm -rf %s", root);
  CHECK(system(cmd) == 0, "cleanup");
  return sr_test_done();
}
