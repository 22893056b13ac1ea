// Gradient buckets: MPI_Iallreduce of m->grads in pieces, posted from the model's backward hook as soon as
// a piece's gradients are final, so communication overlaps the rest of the backward pass.
#include <mpi.h>
#include <string.h>

#include "dist/internal.h"

struct sr_dist_grads {
  sr_dist *d;
  sr_model *m;
  int64_t *ready;  // per node: sr_dist_ready_offset
  int nb;          // buckets; bucket b covers [lo[b], hi[b]), b = 0 is the end of the buffer
  int64_t *lo, *hi;
  MPI_Request *req;
  int posted;  // buckets posted in this step
  int armed;
  int failed;   // an MPI call inside the hook failed (reported by finish)
  sr_err fail;  // its message
  double wait_s;
  int64_t early, late;
};

// Where node j's parameters end (0 when it has none): the tensors in params that start at p_w or p_b.
static int64_t node_end(const sr_model *m, const sr_node *nd) {
  int64_t end = 0;
  for (int t = 0; t < m->n_tensors; t++) {
    const sr_tensor_info *ti = &m->tensors[t];
    if (ti->where == 0 && (ti->offset == nd->p_w || ti->offset == nd->p_b) && ti->offset + ti->count > end)
      end = ti->offset + ti->count;
  }
  return end;
}

int64_t sr_dist_ready_offset(const sr_model *m, int node) {
  int64_t o = 0;  // no parameter of a node < `node` may lie at or above o
  for (int j = 0; j < node && j < m->n_nodes; j++) {
    int64_t e = node_end(m, &m->nodes[j]);
    o = e > o ? e : o;
  }
  return o;
}

sr_status sr_dist_grads_create(sr_dist *d, sr_model *m, size_t bucket_bytes, sr_dist_grads **out,
                               sr_err *err) {
  *out = NULL;
  sr_dist_grads *g = sr_calloc(1, sizeof *g);
  if (!g) return sr_fail(err, SR_ERR_NOMEM, "dist: out of memory");
  g->d = d;
  g->m = m;
  int64_t per = (int64_t)(bucket_bytes / sizeof(float));
  if (per < 1024) per = 1024;
  g->nb = (int)((m->n_params + per - 1) / per);
  if (g->nb < 1) g->nb = 1;
  g->ready = sr_calloc((size_t)m->n_nodes + 1, sizeof(int64_t));
  g->lo = sr_calloc((size_t)g->nb, sizeof(int64_t));
  g->hi = sr_calloc((size_t)g->nb, sizeof(int64_t));
  g->req = sr_calloc((size_t)g->nb, sizeof(MPI_Request));
  if (!g->ready || !g->lo || !g->hi || !g->req) {
    int nb = g->nb;
    sr_dist_grads_free(g);
    return sr_fail(err, SR_ERR_NOMEM, "dist: out of memory for %d gradient buckets", nb);
  }
  for (int i = 0; i < m->n_nodes; i++) g->ready[i] = sr_dist_ready_offset(m, i);
  for (int b = 0; b < g->nb; b++) {
    g->hi[b] = m->n_params - (int64_t)b * per;
    g->lo[b] = g->hi[b] - per > 0 ? g->hi[b] - per : 0;
  }
  *out = g;
  return SR_OK;
}

static void post(sr_dist_grads *g) {
  int b = g->posted++;
  g->req[b] = MPI_REQUEST_NULL;
  int rc = MPI_Iallreduce(MPI_IN_PLACE, g->m->grads + g->lo[b], (int)(g->hi[b] - g->lo[b]), MPI_FLOAT,
                          MPI_SUM, MPI_COMM_WORLD, &g->req[b]);
  if (rc != MPI_SUCCESS && !g->failed) {
    sr_dist_mpi_check(rc, "gradient allreduce", &g->fail);
    g->failed = 1;
  }
}

static void on_node_done(void *ctx, int node) {
  sr_dist_grads *g = ctx;
  int64_t ready = g->ready[node];
  while (g->posted < g->nb && g->lo[g->posted] >= ready) {
    post(g);
    g->early++;
  }
  // OpenMPI advances non-blocking collectives only inside MPI calls: one test per layer keeps them moving.
  if (g->posted) {
    int done;
    MPI_Testall(g->posted, g->req, &done, MPI_STATUSES_IGNORE);
  }
}

void sr_dist_grads_arm(sr_dist_grads *g) {
  if (!g || !sr_dist_active(g->d)) return;
  g->posted = 0;
  g->armed = 1;
  g->m->grad_hook = on_node_done;
  g->m->grad_hook_ctx = g;
}

sr_status sr_dist_grads_finish(sr_dist_grads *g, sr_err *err) {
  if (!g || !g->armed) return SR_OK;
  g->m->grad_hook = NULL, g->m->grad_hook_ctx = NULL;
  g->armed = 0;
  double t0 = sr_now();
  while (g->posted < g->nb) {
    post(g);
    g->late++;
  }
  int rc = MPI_Waitall(g->posted, g->req, MPI_STATUSES_IGNORE);
  g->wait_s += sr_now() - t0;
  if (g->failed) {
    if (err) *err = g->fail;
    return g->fail.code;
  }
  return sr_dist_mpi_check(rc, "gradient allreduce (wait)", err);
}

void sr_dist_grads_stats(const sr_dist_grads *g, double *wait_s, int64_t *early, int64_t *late) {
  *wait_s = g ? g->wait_s : 0;
  *early = g ? g->early : 0;
  *late = g ? g->late : 0;
}

void sr_dist_grads_free(sr_dist_grads *g) {
  if (!g) return;
  if (g->armed) g->m->grad_hook = NULL, g->m->grad_hook_ctx = NULL;
  sr_free(g->ready);
  sr_free(g->lo);
  sr_free(g->hi);
  sr_free(g->req);
  sr_free(g);
}
