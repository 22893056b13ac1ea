// The report's Fourier-sensitivity section (report_fourier.c): maps side by side, differences to the first
// run, band table with paired bootstrap CIs and a verdict per band (docs/REPORT.md, docs/SPECTRAL.md).
#ifndef SR_REPORT_FOURIER_H
#define SR_REPORT_FOURIER_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "simreg/fourier.h"
#include "simreg/report.h"

typedef struct sr_fourier_map {
  int has;
  char path[1100], dataset[64], channel[16];
  double eps;
  int64_t n, h, w;
  int random_sign;
  double seed;
  double *map;                        // (h*w) error rate, owned
  int64_t *count[SR_FOURIER_NBANDS];  // (n) per-image error positions per band, owned
  int64_t pixels[SR_FOURIER_NBANDS];
  sr_ci band[SR_FOURIER_NBANDS];  // band mean, bootstrap over images
  int paired;                     // comparable with the first run (same images, eps, signs)
  sr_ci diff[SR_FOURIER_NBANDS];  // this run - first run, paired bootstrap (valid when paired)
} sr_fourier_map;

struct sr_fourier_report {
  sr_fourier_map run[SR_REPORT_MAX_RUNS];
  int count;  // runs with a map
};

// Reads DIR/fourier_map.json or DIR/fourier-map/fourier_map.json of every run (the first map with channel
// "all", else the first), computes the band CIs and paired differences and draws the figures. No run with a
// map: rep->fourier stays NULL. A malformed file is an error naming it.
sr_status sr_report_fourier(sr_report *rep, const sr_report_opts *o, sr_err *err);
void sr_report_fourier_free(sr_report *rep);
// The section in report.md / index.html and the "fourier" member of report.json (nothing when NULL).
void sr_report_fourier_md(const sr_report *rep, FILE *f);
void sr_report_fourier_html(const sr_report *rep, FILE *f);
void sr_report_fourier_json(const sr_report *rep, cJSON *root);

#endif
