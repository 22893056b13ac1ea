// simreg fourier-map: the computed maps and what writes them (tools/cmd_fourier_map.c, tools/fourier_out.c).
#ifndef SIMREG_TOOLS_FOURIER_MAP_H
#define SIMREG_TOOLS_FOURIER_MAP_H

#include "simreg/fourier.h"

#define FMAP_MAX_EPS 16

typedef struct fmap_result {
  const char *run, *checkpoint, *dataset, *split, *out;
  int64_t n, h, w, b;  // images, plane, bootstrap resamples
  int c;               // image channels
  sr_fmap_opts o;      // eps, each, random_sign, seed
  int64_t n_maps;
  const sr_fourier_cells *cells;
  const uint8_t *err;  // (n_maps * cells->n, n)
  double clean_error, seconds;
  int threads, ranks;
} fmap_result;

// Writes OUT/fourier_map.json, one .npy and one heat map (PNG+SVG) per map, all atomically.
sr_status fmap_write(const fmap_result *r, sr_err *err);
// Base name (no extension) of map m: fourier_map, fourier_map_eps4, fourier_map_c0, fourier_map_eps4_c0.
void fmap_name(const fmap_result *r, int64_t m, char *out, size_t cap);

#endif
