// Prefetching batch loader: one producer thread per epoch fills a ring of preallocated batch buffers.
// Batch b of an epoch always lands in slot b % SR_RING; the producer may run at most SR_RING batches
// ahead of the last batch the consumer released, so the batch the consumer holds is never overwritten.
#define _GNU_SOURCE  // SCHED_BATCH
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "data/internal.h"

#define SR_RING 3

struct sr_loader {
  const sr_dataset *ds;
  sr_loader_opts opts;
  int64_t n, nbatches;
  int64_t *idx;    // the caller's index list (copied)
  int64_t *order;  // this epoch's order
  int out_c;
  float *x[SR_RING];
  int32_t *y[SR_RING];

  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t thread;
  int thread_live;
  int epoch;
  int64_t first;     // first batch of this run of the epoch
  int64_t produced;  // batches [first, first + produced) are ready
  int64_t handed;    // batches given to the consumer
  int64_t released;  // batches the consumer is done with
  int stop;
  int started;     // an epoch was started successfully
  int sync_ready;  // mu and cv are initialized
  double wait_s;
};

int64_t sr_loader_batches(const sr_loader *l) { return l->nbatches; }
int sr_loader_channels(const sr_loader *l) { return l->out_c; }
double sr_loader_wait_seconds(const sr_loader *l) { return l->wait_s; }

static int64_t batch_size(const sr_loader *l, int64_t b) {
  int64_t start = b * l->opts.batch, left = l->n - start;
  return left < l->opts.batch ? left : l->opts.batch;
}

// This rank's rows [*lo, *lo + return) of batch b (the whole batch without sharding).
static int64_t shard_rows(const sr_loader *l, int64_t b, int64_t *lo) {
  int64_t nb = batch_size(l, b), R = l->opts.shard_size > 1 ? l->opts.shard_size : 1,
          r = R > 1 ? l->opts.shard_rank : 0;
  *lo = nb * r / R;
  return nb * (r + 1) / R - *lo;
}

void sr_epoch_order(const int64_t *idx, int64_t n, const sr_loader_opts *o, int epoch, int64_t *order) {
  memcpy(order, idx, sizeof(int64_t) * (size_t)n);
  if (o->shuffle) {
    sr_rng r;
    sr_rng_seed(&r, sr_data_key(o->seed, epoch, SR_DATA_KEY_SHUFFLE), 0);
    sr_rng_shuffle(&r, order, n);
  }
}

static void *produce(void *arg) {
  sr_loader *l = arg;
  // The consumer wakes this thread each time it releases a slot. On a machine whose cores all run the
  // training threads, a normal thread would preempt the waker there and then (wakeup preemption), stalling
  // the step for a whole batch; SCHED_BATCH makes it wait for its fair turn instead, which the ring's
  // lead allows. Best effort: where the policy is refused the thread keeps the default one.
  (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &(struct sched_param){.sched_priority = 0});
  for (int64_t k = 0;; k++) {
    int64_t b = l->first + k;
    if (b >= l->nbatches) break;
    pthread_mutex_lock(&l->mu);
    while (!l->stop && k >= l->released + SR_RING) pthread_cond_wait(&l->cv, &l->mu);
    int stop = l->stop;
    pthread_mutex_unlock(&l->mu);
    if (stop) break;
    int s = (int)(b % SR_RING);
    int64_t lo, rows = shard_rows(l, b, &lo), pos = b * l->opts.batch + lo;
    // Opts and indices were validated at create, so this cannot fail.
    (void)sr_make_batch(
        l->ds, &(sr_batch_rows){.idx = l->order + pos, .n = rows, .epoch = l->epoch, .first_position = pos},
        &l->opts, l->x[s], l->y[s], NULL);
    pthread_mutex_lock(&l->mu);
    l->produced = k + 1;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
  }
  return NULL;
}

static void stop_thread(sr_loader *l) {
  if (!l->thread_live) return;
  pthread_mutex_lock(&l->mu);
  l->stop = 1;
  pthread_cond_broadcast(&l->cv);
  pthread_mutex_unlock(&l->mu);
  pthread_join(l->thread, NULL);
  l->thread_live = 0;
}

sr_status sr_loader_create(const sr_dataset *ds, const int64_t *idx, int64_t n, const sr_loader_opts *o,
                           sr_loader **out, sr_err *err) {
  *out = NULL;
  sr_status st = sr_loader_opts_check(ds, o, err);
  if (st) return st;
  if (n <= 0) return sr_fail(err, SR_ERR_ARG, "loader: empty index list");
  for (int64_t i = 0; i < n; i++)
    if (idx[i] < 0 || idx[i] >= ds->n)
      return sr_fail(err, SR_ERR_ARG, "loader: index %lld (entry %lld) out of range [0, %lld)",
                     (long long)idx[i], (long long)i, (long long)ds->n);
  sr_loader *l = sr_calloc(1, sizeof *l);
  if (!l) return sr_fail(err, SR_ERR_NOMEM, "loader: out of memory");
  l->ds = ds;
  l->opts = *o;
  l->n = n;
  l->nbatches = o->drop_last ? n / o->batch : (n + o->batch - 1) / o->batch;
  l->out_c = sr_batch_channels(ds, o);
  size_t per = (size_t)l->out_c * (size_t)ds->h * (size_t)ds->w;
  l->idx = sr_alloc(sizeof(int64_t) * (size_t)n);
  l->order = sr_alloc(sizeof(int64_t) * (size_t)n);
  int ok = l->idx && l->order;
  for (int s = 0; s < SR_RING && ok; s++) {
    l->x[s] = sr_alloc(sizeof(float) * per * (size_t)o->batch);
    l->y[s] = sr_alloc(sizeof(int32_t) * (size_t)o->batch);
    ok = l->x[s] && l->y[s];
  }
  if (!ok) {
    sr_loader_destroy(l);
    return sr_fail(err, SR_ERR_NOMEM, "loader: cannot allocate %d batch buffers of %d", SR_RING, o->batch);
  }
  if (pthread_mutex_init(&l->mu, NULL) != 0) {
    sr_loader_destroy(l);
    return sr_fail(err, SR_ERR_NOMEM, "loader: cannot create a mutex");
  }
  if (pthread_cond_init(&l->cv, NULL) != 0) {
    pthread_mutex_destroy(&l->mu);
    sr_loader_destroy(l);
    return sr_fail(err, SR_ERR_NOMEM, "loader: cannot create a condition variable");
  }
  l->sync_ready = 1;
  memcpy(l->idx, idx, sizeof(int64_t) * (size_t)n);
  *out = l;
  return SR_OK;
}

sr_status sr_loader_start(sr_loader *l, int epoch, int64_t first_batch, sr_err *err) {
  stop_thread(l);
  l->started = 0;
  if (epoch < 0) return sr_fail(err, SR_ERR_ARG, "loader: epoch %d is negative", epoch);
  if (first_batch < 0 || first_batch > l->nbatches)
    return sr_fail(err, SR_ERR_ARG, "loader: first batch %lld outside [0, %lld]", (long long)first_batch,
                   (long long)l->nbatches);
  sr_epoch_order(l->idx, l->n, &l->opts, epoch, l->order);
  l->epoch = epoch;
  l->first = first_batch;
  l->produced = l->handed = l->released = 0;
  l->stop = 0;
  int rc = pthread_create(&l->thread, NULL, produce, l);
  if (rc != 0)
    return sr_fail(err, SR_ERR_NOMEM, "loader: cannot start the prefetch thread: %s", strerror(rc));
  l->thread_live = 1;
  l->started = 1;
  return SR_OK;
}

int sr_loader_next(sr_loader *l, const float **x, const int32_t **y, int64_t *nb) {
  if (l->started != 1) return 0;
  pthread_mutex_lock(&l->mu);
  if (l->handed > l->released) {  // the caller is done with the previous batch
    l->released = l->handed;
    pthread_cond_broadcast(&l->cv);
  }
  int64_t b = l->first + l->handed;
  if (b >= l->nbatches) {
    pthread_mutex_unlock(&l->mu);
    return 0;
  }
  if (l->produced <= l->handed) {
    double t0 = sr_now();
    while (l->produced <= l->handed) pthread_cond_wait(&l->cv, &l->mu);
    l->wait_s += sr_now() - t0;
  }
  l->handed++;
  pthread_mutex_unlock(&l->mu);
  int s = (int)(b % SR_RING);
  *x = l->x[s];
  *y = l->y[s];
  int64_t lo;
  *nb = shard_rows(l, b, &lo);
  return 1;
}

void sr_loader_destroy(sr_loader *l) {
  if (!l) return;
  stop_thread(l);
  if (l->sync_ready) {
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
  }
  for (int s = 0; s < SR_RING; s++) {
    sr_free(l->x[s]);
    sr_free(l->y[s]);
  }
  sr_free(l->idx);
  sr_free(l->order);
  sr_free(l);
}
