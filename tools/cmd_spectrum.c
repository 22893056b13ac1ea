// simreg spectrum FILE.npy -o DIR: power spectrum of one set of perturbations (docs/SPECTRAL.md).
#include <string.h>

#include "cli.h"
#include "simreg/npy.h"
#include "simreg/report.h"

int sr_cmd_spectrum(int argc, char **argv) {
  const char *out = NULL, *layout_s = "auto", *label = NULL;
  double r0 = SR_SPEC_R0_DEFAULT;
  int64_t b = SR_BOOT_DEFAULT_B, seed = 0;
  sr_opt opts[] = {
      {"o", SR_OPT_STRING, &out, "output directory (created if needed)", 0, 0, 0},
      {"out", SR_OPT_STRING, &out, "same as -o", 0, 0, 0},
      {"r0", SR_OPT_DOUBLE, &r0, "high-frequency cut-off in cycles/pixel, (0, 0.5] (default 0.25)", 1e-9, 0.5,
       0},
      {"layout", SR_OPT_STRING, &layout_s, "auto | nchw | nhwc for 4-D input (default auto)", 0, 0, 0},
      {"bootstrap", SR_OPT_I64, &b, "bootstrap resamples for the HF-share CI (default 2000)", 2, 1e7, 0},
      {"seed", SR_OPT_I64, &seed, "bootstrap RNG seed (default 0)", 0, 9.0e15, 0},
      {"label", SR_OPT_STRING, &label, "name shown in titles (default: the file name)", 0, 0, 0},
      {0}};
  const char *pos[1];
  int npos;
  int rc = sr_cli_parse("spectrum", "FILE.npy -o DIR [options]", opts,
                        &(sr_cli_argv){.argc = argc, .argv = argv, .first = 2}, pos, 1, &npos);
  if (rc) return rc < 0 ? 0 : rc;
  if (npos != 1 || !out) {
    fprintf(stderr, "simreg spectrum: need FILE.npy and -o DIR (see simreg spectrum --help)\n");
    return SR_EXIT_USAGE;
  }
  sr_layout layout = SR_LAYOUT_AUTO;
  if (!strcmp(layout_s, "nchw"))
    layout = SR_LAYOUT_NCHW;
  else if (!strcmp(layout_s, "nhwc"))
    layout = SR_LAYOUT_NHWC;
  else if (strcmp(layout_s, "auto")) {
    fprintf(stderr, "simreg spectrum: --layout: '%s' is not auto, nchw or nhwc\n", layout_s);
    return SR_EXIT_USAGE;
  }
  if (!label) {
    const char *slash = strrchr(pos[0], '/');
    label = slash ? slash + 1 : pos[0];
  }
  sr_err err = {0};
  sr_npy a;
  sr_status st = sr_npy_read(pos[0], &a, &err);
  if (st) return sr_cli_fail("spectrum", &err);
  sr_spectrum s;
  st = sr_spectrum_from_npy(&a, layout, r0, &s, &err);
  sr_npy_free(&a);
  if (st) {
    sr_err_context(&err, "%s", pos[0]);
    // All-zero or non-finite perturbations are a problem with the user's file: exit 2, not a crash code.
    return st == SR_ERR_NUMERIC ? (sr_cli_fail("spectrum", &err), SR_EXIT_USAGE)
                                : sr_cli_fail("spectrum", &err);
  }
  sr_rng rng;
  sr_rng_seed(&rng, (uint64_t)seed, 0);
  sr_ci hf, dc, hf_ac;
  st = sr_spectrum_hf_ci(&s, b, 0.95, &rng, &hf, &err);
  sr_rng_seed(&rng, (uint64_t)seed,
              1);  // streams 1, 2: DC share and mean-removed HF share (0 stays the HF CI's)
  if (!st) st = sr_spectrum_share_ci(&s, SR_SHARE_DC, b, 0.95, &rng, &dc, &err);
  sr_rng_seed(&rng, (uint64_t)seed, 2);
  if (!st && s.has_ac) st = sr_spectrum_share_ci(&s, SR_SHARE_HF_AC, b, 0.95, &rng, &hf_ac, &err);
  if (!st) st = sr_spectrum_write_outputs(&s, &hf, &dc, s.has_ac ? &hf_ac : NULL, label, out, &err);
  if (!st) {
    printf("%s: %lld images of %lldx%lld, HF share (r >= %g) %.4f [95%% CI %.4f, %.4f], corners %.4f\n",
           label, (long long)s.n, (long long)s.h, (long long)s.w, s.r0, s.hf_share, hf.lo, hf.hi,
           s.corner_share);
    printf("DC share %.4f [95%% CI %.4f, %.4f]; ", s.dc_share, dc.lo, dc.hi);
    if (s.has_ac)
      printf("mean removed: HF share %.4f [95%% CI %.4f, %.4f]\n", s.hf_share_ac, hf_ac.lo, hf_ac.hi);
    else
      printf("every perturbation is constant: no mean-removed spectrum, no dB figures\n");
    printf("radial profile (bin centre: power):");
    for (int k = 0; k < SR_SPEC_NBINS; k++)
      printf("%s%.2f:%.3f", k % 5 ? " " : "\n  ", (k + 0.5) * 0.02, s.radial[k]);
    printf("\nwrote %s/{spectrum.json,spectrum_map.npy,spectrum_2d,spectrum_radial,spectrum_cumulative%s}\n",
           out, s.has_ac ? ",spectrum_map_db.npy,spectrum_2d_db,spectrum_radial_db" : "");
  }
  sr_spectrum_free(&s);
  return st ? sr_cli_fail("spectrum", &err) : 0;
}
