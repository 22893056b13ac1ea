#!/bin/sh
# Data-parallel throughput: ResNet-18 width 0.25 on Fashion-MNIST, 2 MPI ranks x 1 thread vs 1 process x
# 2 threads, the same global batch, seed and images. Throughput is taken from the second epoch (the first
# includes building oneDNN primitives): images of the epoch / its training seconds (metrics.jsonl).
# Acceptance (issue 10): 2x1 >= 0.9 x 1x2. Run it on a quiet machine; numbers under load are noisy.
# usage: bench/mpi_bench.sh [SIMREG] [IMAGES] [BATCH]     extra mpirun flags: MPIRUN_ARGS="--bind-to none"
set -eu
simreg=${1:-build/tools/simreg}
limit=${2:-1920}
batch=${3:-64}
tmp=$(mktemp -d /tmp/sr_mpi_bench_XXXXXX)
trap 'rm -rf "$tmp"' EXIT
common="--model resnet18 --width 0.25 --data fashion-mnist --limit $limit --batch $batch --epochs 2 --no-test --lr-schedule constant --seed 1 --checkpoint-every 0 --quiet"
# Only shared memory and self transports: works in containers without network; root needs the flag.
mpirun="mpirun --allow-run-as-root --oversubscribe --mca btl self,vader ${MPIRUN_ARGS:-}"

# img/s of epoch 2 of RUN: train images per epoch / seconds.
rate() {
  n=$(( limit - (limit + 50) / 100 ))  # the 1% hold-out (round(0.01 n)) is not trained on
  s=$(sed -n 2p "$1/metrics.jsonl" | sed 's/.*"seconds":\([0-9.e+-]*\).*/\1/')
  awk -v n="$n" -v s="$s" 'BEGIN { printf "%.1f", n / s }'
}

echo "# simreg data-parallel benchmark, $(date -u +%FT%TZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# resnet18 width 0.25, fashion-mnist 28x28 gray, $limit images (1% held out), global batch $batch, epoch 2 timed"
OMP_NUM_THREADS=2 "$simreg" train $common --threads 2 --out "$tmp/p1t2"
one=$(rate "$tmp/p1t2")
echo "1 process x 2 threads: $one img/s"
OMP_NUM_THREADS=1 $mpirun -np 2 "$simreg" train $common --threads 1 --out "$tmp/p2t1"
two=$(rate "$tmp/p2t1")
echo "2 ranks x 1 thread:    $two img/s"
share=$(sed -n 2p "$tmp/p2t1/metrics.jsonl" | sed 's/.*"allreduce_wait_share":\([0-9.e+-]*\).*/\1/')
echo "  gradient allreduce not hidden by the backward pass: $(awk -v s="$share" 'BEGIN { printf "%.1f", 100 * s }')% of the epoch"
awk -v a="$two" -v b="$one" 'BEGIN { r = a / b; printf "ratio 2x1 / 1x2 = %.3f (target >= 0.9): %s\n", r, (r >= 0.9 ? "met" : "NOT met") }'
