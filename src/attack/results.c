// RUN/robustness.json: results of several attack runs merged into one file (docs/FORMATS.md).
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simreg/attack.h"

static cJSON *load_existing(const char *path, sr_err *err, sr_status *st) {
  void *buf;
  size_t n;
  FILE *f = fopen(path, "rb");
  if (!f) return cJSON_CreateObject();  // first results of this run
  fclose(f);
  if ((*st = sr_read_file(path, (size_t)1 << 30, &buf, &n, err))) return NULL;
  cJSON *j = cJSON_ParseWithLength(buf, n);
  sr_free(buf);
  if (!cJSON_IsObject(j)) {
    cJSON_Delete(j);
    *st = sr_fail(err, SR_ERR_FORMAT, "%s: not a JSON object (move it away to start a fresh results file)",
                  path);
    return NULL;
  }
  return j;
}

static int merged_one_level(const char *key) {
  return !strcmp(key, "noise") || !strcmp(key, "transfer") || !strcmp(key, "attacks") ||
         !strcmp(key, "white_box");
}

// Add or replace obj[item->string] = item. The key is copied first: cJSON frees the item's own key
// before duplicating the one passed in.
static void put(cJSON *obj, cJSON *item) {
  char key[256];
  snprintf(key, sizeof key, "%s", item->string);
  if (cJSON_GetObjectItemCaseSensitive(obj, key))
    cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item);
  else
    cJSON_AddItemToObject(obj, key, item);
}

sr_status sr_robustness_merge(const char *run, cJSON *patch, sr_err *err) {
  char path[4096];
  snprintf(path, sizeof path, "%s/robustness.json", run);
  sr_status st = SR_OK;
  cJSON *j = load_existing(path, err, &st);
  if (!j) {
    cJSON_Delete(patch);
    return st;
  }
  for (cJSON *it = patch->child; it;) {
    cJSON *next = it->next;
    cJSON *item = cJSON_DetachItemViaPointer(patch, it);
    cJSON *have = cJSON_GetObjectItemCaseSensitive(j, item->string);
    if (merged_one_level(item->string) && cJSON_IsObject(item) && cJSON_IsObject(have)) {
      for (cJSON *c = item->child; c;) {
        cJSON *cn = c->next;
        cJSON *sub = cJSON_DetachItemViaPointer(item, c);
        put(have, sub);
        c = cn;
      }
      cJSON_Delete(item);
    } else {
      put(j, item);
    }
    it = next;
  }
  cJSON_Delete(patch);
  char *text = cJSON_Print(j);
  cJSON_Delete(j);
  if (!text) return sr_fail(err, SR_ERR_NOMEM, "%s: serialising", path);
  st = sr_write_file_atomic(path, text, strlen(text), err);
  free(text);
  return st;
}
