// cJSON helpers for the run readers (messages always name the file and the field).
#ifndef SR_REPORT_RUN_JSON_H
#define SR_REPORT_RUN_JSON_H

#include <cjson/cJSON.h>

#include "simreg/core.h"

int sr_file_exists(const char *path);
// Parse a whole file; *missing = 1 (and SR_OK) when it does not exist; the top level must be an object.
sr_status sr_json_load(const char *path, cJSON **out, int *missing, sr_err *err);
sr_status sr_json_parse_text(const char *text, size_t n, const char *path, cJSON **out, sr_err *err);
// Optional typed fields: absent or null leaves dst unchanged; the wrong type is SR_ERR_FORMAT.
sr_status sr_json_string(const cJSON *obj, const char *key, char *dst, size_t cap, const char *path,
                         sr_err *err);
sr_status sr_json_number(const cJSON *obj, const char *key, double *dst, int *present, const char *path,
                         sr_err *err);
// Array of finite numbers into a fresh buffer (sr_free).
sr_status sr_json_doubles(const cJSON *arr, const char *key, const char *path, double **out, int64_t *n,
                          sr_err *err);

#endif
