// The per-convolution algorithm choices of a run (sr_model_conv_choices) as JSON: recorded in
// RUN/config.json ("conv_algo") and in the cache file RUN/conv_algo.json, read back so that a resumed run,
// eval and attack reuse them instead of timing again; and the machine-wide cache of the same format that
// makes fresh runs on one machine take the same choices (sr_conv_cache_load / sr_conv_cache_merge).
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convcache.h"
#include "exec/engine.h"

// One choice as {"key": ..., "algo": ..., "ms": {...}} appended to arr; 0 when out of memory.
static int add_choice(cJSON *arr, const sr_conv_choice *c) {
  cJSON *e = cJSON_CreateObject();
  if (!e || !cJSON_AddItemToArray(arr, e)) {
    cJSON_Delete(e);
    return 0;
  }
  cJSON *ms = cJSON_AddObjectToObject(e, "ms");
  int ok = ms && cJSON_AddStringToObject(e, "key", c->key) &&
           cJSON_AddStringToObject(e, "algo", sr_conv_algo_name(c->algo));
  for (int a = 0; ok && a < SR_CONV_ALGOS; a++)
    if (c->ms[a] >= 0) ok = cJSON_AddNumberToObject(ms, sr_conv_algo_name((sr_conv_algo)a), c->ms[a]) != NULL;
  return ok;
}

cJSON *sr_conv_choices_json(const sr_model *m) {
  const sr_conv_choice *c;
  int n = sr_model_conv_choices(m, &c);
  cJSON *j = cJSON_CreateObject();
  cJSON *arr = j ? cJSON_AddArrayToObject(j, "choices") : NULL;
  int ok = arr && cJSON_AddStringToObject(j, "setting", sr_model_conv_algo(m));
  for (int i = 0; ok && i < n; i++)
    if (sr_conv_choice_recorded(m, i)) ok = add_choice(arr, &c[i]);
  if (!ok) {
    cJSON_Delete(j);
    return NULL;
  }
  return j;
}

int sr_conv_choices_recorded(const sr_model *m) {
  const sr_conv_choice *c;
  int n = sr_model_conv_choices(m, &c), k = 0;
  for (int i = 0; i < n; i++) k += sr_conv_choice_recorded(m, i);
  return k;
}

#define CORRUPT_HINT "a corrupt convolution choice cache? delete the file"

static sr_status parse_choice(const cJSON *e, const char *path, int i, sr_conv_choice *c, sr_err *err) {
  const cJSON *key = cJSON_GetObjectItemCaseSensitive(e, "key"),
              *algo = cJSON_GetObjectItemCaseSensitive(e, "algo");
  const cJSON *ms = cJSON_GetObjectItemCaseSensitive(e, "ms");
  int a = cJSON_IsString(algo) ? sr_conv_algo_parse(algo->valuestring) : -1;
  if (!cJSON_IsString(key) || strlen(key->valuestring) >= sizeof c->key || a < 0 ||
      (ms && !cJSON_IsObject(ms)))
    return sr_fail(err, SR_ERR_FORMAT,
                   "%s: convolution choice %d is malformed (key, algo, ms; " CORRUPT_HINT ")", path, i);
  memset(c, 0, sizeof *c);
  snprintf(c->key, sizeof c->key, "%s", key->valuestring);
  c->algo = (sr_conv_algo)a;
  for (int k = 0; k < SR_CONV_ALGOS; k++) {
    const cJSON *v = ms ? cJSON_GetObjectItemCaseSensitive(ms, sr_conv_algo_name((sr_conv_algo)k)) : NULL;
    c->ms[k] = cJSON_IsNumber(v) && v->valuedouble >= 0 ? v->valuedouble : -1;
  }
  return SR_OK;
}

static const cJSON *choices_array(const cJSON *j, const char *path, sr_err *err) {
  const cJSON *arr = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "choices") : NULL;
  if (!cJSON_IsArray(arr))
    sr_fail(err, SR_ERR_FORMAT,
            "%s: convolution choices: not an object with a \"choices\" array (" CORRUPT_HINT ")", path);
  return cJSON_IsArray(arr) ? arr : NULL;
}

// replace: the JSON's entry wins over one m has (else m's stays).
static sr_status choices_from_json(sr_model *m, const cJSON *j, const char *path, sr_conv_source source,
                                   int replace, sr_err *err) {
  const cJSON *arr = choices_array(j, path, err);
  if (!arr) return SR_ERR_FORMAT;
  int i = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, arr) {
    sr_conv_choice c;
    sr_status s = parse_choice(e, path, i++, &c, err);
    c.source = source;
    if (!s) s = replace ? sr_conv_choice_put(m, &c, err) : sr_conv_choice_add_new(m, &c, err);
    if (s) return s;
  }
  return SR_OK;
}

sr_status sr_conv_choices_from_json(sr_model *m, const cJSON *j, const char *path, sr_conv_source source,
                                    sr_err *err) {
  return choices_from_json(m, j, path, source, 0, err);
}

// The file as JSON; *j = NULL (and SR_OK) when it does not exist.
static sr_status read_json(const char *path, cJSON **j, sr_err *err) {
  *j = NULL;
  struct stat sb;
  if (stat(path, &sb) != 0 && errno == ENOENT) return SR_OK;  // nothing recorded
  void *buf;
  size_t n;
  sr_status s = sr_read_file(path, 16 << 20, &buf, &n, err);
  if (s) return s;
  *j = cJSON_ParseWithLength(buf, n);
  sr_free(buf);
  if (cJSON_IsObject(*j)) return SR_OK;
  cJSON_Delete(*j);
  *j = NULL;
  return sr_fail(err, SR_ERR_FORMAT, "%s: not a JSON object (" CORRUPT_HINT ")", path);
}

static sr_status load_file(const char *path, int section, sr_conv_source source, sr_model *m, sr_err *err) {
  cJSON *j;
  sr_status s = read_json(path, &j, err);
  if (s || !j) return s;
  const cJSON *part = section ? cJSON_GetObjectItemCaseSensitive(j, "conv_algo") : j;
  s = part ? sr_conv_choices_from_json(m, part, path, source, err) : SR_OK;
  cJSON_Delete(j);
  return s;
}

sr_status sr_run_load_conv_choices(const char *run, sr_model *m, sr_err *err) {
  char path[2048];
  snprintf(path, sizeof path, "%s/config.json", run);
  // config.json first: its choices win over RUN/conv_algo.json's for the same key (they agree unless edited)
  sr_status s = load_file(path, 1, SR_CONV_SRC_RUN, m, err);
  if (s) return s;
  snprintf(path, sizeof path, "%s/" SR_CONV_CACHE_FILE, run);
  return load_file(path, 0, SR_CONV_SRC_RUN, m, err);
}

sr_status sr_run_save_conv_choices(const char *run, const sr_model *m, sr_err *err) {
  char path[2048];
  snprintf(path, sizeof path, "%s/" SR_CONV_CACHE_FILE, run);
  cJSON *j = sr_conv_choices_json(m);
  char *txt = j ? cJSON_Print(j) : NULL;
  cJSON_Delete(j);
  if (!txt) return sr_fail(err, SR_ERR_NOMEM, "%s: out of memory", path);
  sr_status s = sr_write_file_atomic(path, txt, strlen(txt), err);
  cJSON_free(txt);
  return s;
}

sr_status sr_conv_cache_load(const char *path, sr_model *m, sr_err *err) {
  if (!m->exec) return sr_fail(err, SR_ERR_ARG, "model is not initialised");
  return load_file(path, 0, SR_CONV_SRC_CACHE, m, err);
}

// What a merge contributes: choices this process timed or was given, not those it read from a file.
static int mergeable(const sr_conv_choice *c) {
  return c->source == SR_CONV_SRC_MEASURED || c->source == SR_CONV_SRC_GIVEN;
}

static int has_key(const cJSON *arr, const char *key) {
  const cJSON *e;
  cJSON_ArrayForEach(e, arr) {
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "key");
    if (cJSON_IsString(k) && !strcmp(k->valuestring, key)) return 1;
  }
  return 0;
}

// Under the lock: the file as it is now, c's keys it lacks appended, written back when any was new.
static sr_status merge_locked(const char *path, const sr_conv_choice *c, int n, int *added, sr_err *err) {
  cJSON *j;
  sr_status s = read_json(path, &j, err);
  if (s) return s;
  if (!j && (!(j = cJSON_CreateObject()) || !cJSON_AddStringToObject(j, "setting", "measure") ||
             !cJSON_AddArrayToObject(j, "choices"))) {
    cJSON_Delete(j);
    return sr_fail(err, SR_ERR_NOMEM, "%s: out of memory", path);
  }
  cJSON *arr = choices_array(j, path, err) ? cJSON_GetObjectItemCaseSensitive(j, "choices") : NULL;
  int i = 0, k = 0;
  const cJSON *e;
  if (!arr) s = SR_ERR_FORMAT;
  if (arr) cJSON_ArrayForEach(e, arr) {  // every entry checked: never extend a file we could not read back
      sr_conv_choice old;
      if ((s = parse_choice(e, path, i++, &old, err))) break;
    }
  for (i = 0; !s && i < n; i++)
    if (mergeable(&c[i]) && !has_key(arr, c[i].key)) {
      if (!add_choice(arr, &c[i])) s = sr_fail(err, SR_ERR_NOMEM, "%s: out of memory", path);
      k++;
    }
  char *txt = !s && k ? cJSON_Print(j) : NULL;
  cJSON_Delete(j);
  if (!s && k && !txt) s = sr_fail(err, SR_ERR_NOMEM, "%s: out of memory", path);
  if (txt) s = sr_write_file_atomic(path, txt, strlen(txt), err);
  cJSON_free(txt);
  if (!s && added) *added = k;
  return s;
}

sr_status sr_conv_cache_merge(const char *path, const sr_model *m, int *added, sr_err *err) {
  if (added) *added = 0;
  const sr_conv_choice *c;
  int n = sr_model_conv_choices(m, &c), mine = 0;
  for (int i = 0; i < n; i++) mine += mergeable(&c[i]);
  if (!mine) return SR_OK;  // nothing new: no lock taken, nothing written
  char lock[4200];
  if (snprintf(lock, sizeof lock, "%s.lock", path) >= (int)sizeof lock)
    return sr_fail(err, SR_ERR_ARG, "%s: path too long", path);
  int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return sr_fail(err, SR_ERR_IO, "%s: cannot open: %s", lock, strerror(errno));
  int r;
  while ((r = flock(fd, LOCK_EX)) != 0 && errno == EINTR) continue;
  sr_status s = r ? sr_fail(err, SR_ERR_IO, "%s: cannot lock: %s", lock, strerror(errno))
                  : merge_locked(path, c, n, added, err);
  close(fd);  // releases the lock
  return s;
}

// Rank 0's choices as unformatted JSON, broadcast (length, then text) and added by the other ranks.
static sr_status bcast_choices(sr_model *m, sr_dist *d, sr_err *err) {
  char *txt = NULL;
  uint64_t len = 0;
  if (sr_dist_rank(d) == 0) {
    cJSON *j = sr_conv_choices_json(m);
    txt = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    len = txt ? (uint64_t)strlen(txt) + 1 : 0;  // 0: out of memory, every rank fails alike below
  }
  sr_status s = sr_dist_bcast(d, &len, sizeof len, 0, err);
  if (!s && !len) s = sr_fail(err, SR_ERR_NOMEM, "rank 0's convolution choices: out of memory");
  if (!s && !txt && !(txt = cJSON_malloc((size_t)len)))
    s = sr_fail(err, SR_ERR_NOMEM, "rank 0's convolution choices: %llu bytes", (unsigned long long)len);
  // a rank that fails here leaves the collective: the CLI aborts the job (sr_dist_abort)
  if (!s) s = sr_dist_bcast(d, txt, (size_t)len, 0, err);
  if (!s && sr_dist_rank(d) > 0) {
    txt[len - 1] = 0;
    cJSON *j = cJSON_Parse(txt);
    // rank 0's entry wins even over a cache entry this rank read (the cache may have grown in between)
    s = j ? choices_from_json(m, j, "rank 0's convolution choices", SR_CONV_SRC_GIVEN, 1, err)
          : sr_fail(err, SR_ERR_FORMAT, "rank 0's convolution choices: not JSON");
    cJSON_Delete(j);
  }
  cJSON_free(txt);
  return s;
}

sr_status sr_conv_share_choices(sr_model *m, sr_dist *d, const int64_t *sizes, int n, sr_err *err) {
  if (sr_dist_size(d) < 2 || sr_model_conv_policy(m) != SR_CONV_MEASURE) return SR_OK;
  sr_status s = SR_OK;
  for (int i = 0; i < n && !s && sr_dist_rank(d) == 0; i++) {
    sr_tape *t;
    if (sizes[i] > 0) s = sr_model_tape(m, sizes[i], 0, &t, err);
  }
  if (s) return s;  // the others wait in the broadcast: the CLI's sr_dist_abort ends them
  if (sr_dist_rank(d) == 0) sr_model_free_tapes(m);  // the step loop builds the ones it uses, as before
  return bcast_choices(m, d, err);
}
