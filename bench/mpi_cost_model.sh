#!/bin/sh
# Cost model of data-parallel ResNet-18 training (docs/SCALING.md): ring allreduce of the gradients vs
# compute per step, with the allreduce overlapped with the backward pass. Prints markdown tables.
# usage: bench/mpi_cost_model.sh [STEP_SECONDS_ONE_NODE] [NODE_LABEL]
#   STEP_SECONDS_ONE_NODE: compute of one step of 64 images on one node (default 2.05 s = 64 / 31.2 img/s,
#   resnet18 width 1, 32x32, measured with bench/run.sh on this 2-core machine)
# Assumptions (edit below): P = 11,175,370 f32 parameters (simreg info --model resnet18 --size 32);
# alpha = 20 us per message (TCP over Ethernet); 4 MiB buckets; forward = 1/3 and backward = 2/3 of the
# compute; the allreduce overlaps only the backward: step = fwd + max(bwd, allreduce).
t1=${1:-2.05}
label=${2:-"this machine's 2 cores"}
awk -v t1="$t1" -v label="$label" 'BEGIN {
  P = 11175370; S = 4 * P; alpha = 20e-6; bucket = 4 * 1048576; nb = int((S + bucket - 1) / bucket)
  split("2 4 8 16 32 64", Rs, " "); split("10 25 100", bws, " ")
  printf "Gradients: %.1f MB in %d buckets; one node computes a step of 64 images in %.3f s (%s).\n\n", S / 1e6, nb, t1, label
  for (mode = 0; mode < 2; mode++) {
    if (mode == 0) printf "Weak scaling: 64 images per rank (global batch 64 R), compute per step %.3f s on every R.\n\n", t1
    else printf "Strong scaling: global batch 64 split over R ranks (compute %.3f/R s per step; R <= 32: BatchNorm needs 2 rows per rank).\n\n", t1
    printf "| R | allreduce 10 Gb/s | 25 Gb/s | 100 Gb/s | compute | efficiency 10 / 25 / 100 Gb/s |\n|---|---|---|---|---|---|\n"
    for (i = 1; i <= 6; i++) {
      R = Rs[i]; if (mode == 1 && R > 32) continue
      tc = mode == 0 ? t1 : t1 / R
      line = sprintf("| %d |", R); eff = ""
      for (j = 1; j <= 3; j++) {
        bw = bws[j] * 1e9 / 8
        ta = 2 * (R - 1) / R * S / bw + 2 * (R - 1) * alpha * nb
        step = tc / 3 + (ta > 2 * tc / 3 ? ta : 2 * tc / 3)
        line = line sprintf(" %.3f s |", ta)
        eff = eff sprintf("%s%.0f%%", j > 1 ? " / " : "", 100 * tc / step)
      }
      printf "%s %.3f s | %s |\n", line, tc, eff
    }
    printf "\n"
  }
}'
