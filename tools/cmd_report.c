// simreg report RUN... -o DIR: compare runs in one static HTML page plus report.md and report.json.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "simreg/report.h"

// One line per verdict: run, claim, word, effect with its interval.
static void print_verdicts(const sr_report *rep) {
  for (int i = 1; i < rep->nruns; i++)
    for (int k = 0; k < SR_REPORT_CLAIMS; k++) {
      const sr_verdict *v = &rep->verdicts[i][k];
      printf("verdict: %s, %s: %s", rep->runs[i].name, v->claim, sr_verdict_name(v->word));
      if (isfinite(v->effect.estimate))
        printf(" (%s %.4g [%.4g, %.4g]", v->effect_kind, v->effect.estimate, v->effect.lo, v->effect.hi);
      if (isfinite(v->effect.estimate) && !isnan(v->p)) printf("; p = %.3g", v->p);
      if (isfinite(v->effect.estimate)) printf(")");
      if (v->note[0]) printf("; %s", v->note);
      printf("\n");
    }
}

int sr_cmd_report(int argc, char **argv) {
  const char *out = NULL, *title = NULL, *minimal = "auto", *vnoise = NULL, *vtransfer = NULL;
  int64_t b = SR_BOOT_DEFAULT_B, seed = 0;
  double r0 = SR_SPEC_R0_DEFAULT;
  int severity = 0;
  sr_opt opts[] = {
      {"o", SR_OPT_STRING, &out, "output directory (created if needed)", 0, 0, 0},
      {"out", SR_OPT_STRING, &out, "same as -o", 0, 0, 0},
      {"title", SR_OPT_STRING, &title, "page title (default \"simreg report\")", 0, 0, 0},
      {"bootstrap", SR_OPT_I64, &b, "bootstrap resamples for CIs (default 2000)", 2, 1e7, 0},
      {"seed", SR_OPT_I64, &seed, "bootstrap RNG seed (default 0)", 0, 9.0e15, 0},
      {"r0", SR_OPT_DOUBLE, &r0, "high-frequency cut-off, cycles/pixel (default 0.25)", 1e-9, 0.5, 0},
      {"severity", SR_OPT_INT, &severity, "corruption severity for the table; 0 = mean over severities", 0,
       100, 0},
      {"minimal", SR_OPT_STRING, &minimal,
       "minimal perturbations (spectra, distance verdict) from boundary | hsj | fmn | ddn | auto "
       "(default: hsj when every run has it, else boundary)",
       0, 0, 0},
      {"verdict-noise", SR_OPT_STRING, &vnoise, "noise verdict at KIND:LEVEL (default gaussian:0.2)", 0, 0,
       0},
      {"verdict-transfer", SR_OPT_STRING, &vtransfer,
       "transfer verdict at KIND[:EPS] (default fgsm at its largest eps)", 0, 0, 0},
      {0}};
  const char *pos[SR_REPORT_MAX_RUNS + 1];
  int npos;
  int rc = sr_cli_parse("report", "RUN... -o DIR [options]", opts,
                        &(sr_cli_argv){.argc = argc, .argv = argv, .first = 2}, pos, SR_REPORT_MAX_RUNS + 1,
                        &npos);
  if (rc) return rc < 0 ? 0 : rc;
  if (npos < 1 || !out) {
    fprintf(stderr, "simreg report: need at least one RUN directory and -o DIR (see simreg report --help)\n");
    return SR_EXIT_USAGE;
  }
  if (npos > SR_REPORT_MAX_RUNS) {
    fprintf(stderr, "simreg report: at most %d runs per report\n", SR_REPORT_MAX_RUNS);
    return SR_EXIT_USAGE;
  }
  if (strcmp(minimal, "auto") && strcmp(minimal, "boundary") && strcmp(minimal, "hsj") &&
      strcmp(minimal, "fmn") && strcmp(minimal, "ddn")) {
    fprintf(stderr, "simreg report: --minimal must be boundary, hsj, fmn, ddn or auto, not '%s'\n", minimal);
    return SR_EXIT_USAGE;
  }
  for (int i = 0; i < 2; i++) {
    const char *v = i ? vtransfer : vnoise, *colon = v ? strchr(v, ':') : NULL;
    char *end = NULL;
    if (v && (colon == v || (colon && (strtod(colon + 1, &end) < 0 || end == colon + 1 || *end)))) {
      fprintf(stderr, "simreg report: --verdict-%s '%s' is not KIND or KIND:LEVEL with LEVEL >= 0\n",
              i ? "transfer" : "noise", v);
      return SR_EXIT_USAGE;
    }
  }
  sr_report_opts o = {.out_dir = out,
                      .title = title,
                      .bootstrap_b = b,
                      .seed = (uint64_t)seed,
                      .r0 = r0,
                      .severity = severity,
                      .minimal = minimal,
                      .verdict_noise = vnoise,
                      .verdict_transfer = vtransfer};
  sr_report *rep = sr_calloc(1, sizeof *rep);
  if (!rep) {
    fprintf(stderr, "simreg report: out of memory\n");
    return SR_EXIT_FAIL;
  }
  sr_err err = {0};
  sr_status st = sr_report_build(pos, npos, &o, rep, &err);
  if (!st) {
    printf("wrote %s/index.html, report.md, report.json and %d figures (PNG+SVG)\n", out, rep->nfigures);
    for (int i = 0; i < rep->nnotes; i++) printf("note: %s\n", rep->notes[i]);
    print_verdicts(rep);
  }
  sr_report_free(rep);
  sr_free(rep);
  return st ? sr_cli_fail("report", &err) : 0;
}
