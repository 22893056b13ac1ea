// Corruption names (the CIFAR-10-C file names) and parsing of user-given names and lists.
#include <string.h>

#include "simreg/corrupt.h"

static const char *const NAMES[SR_NUM_CORRUPTIONS] = {
    "gaussian_noise",
    "shot_noise",
    "impulse_noise",
    "defocus_blur",
    "glass_blur",
    "motion_blur",
    "zoom_blur",
    "snow",
    "frost",
    "fog",
    "brightness",
    "contrast",
    "elastic_transform",
    "pixelate",
    "jpeg_compression",
};

const char *sr_corruption_name(sr_corruption kind) {
  return (unsigned)kind < SR_NUM_CORRUPTIONS ? NAMES[kind] : "?";
}

const char *sr_freq_group_name(sr_freq_group g) {
  switch (g) {
    case SR_FREQ_LOW:
      return "low";
    case SR_FREQ_MID:
      return "mid";
    case SR_FREQ_HIGH:
      return "high";
  }
  return "?";
}

sr_status sr_corruption_parse(const char *name, sr_corruption *out, sr_err *err) {
  for (int k = 0; k < SR_NUM_CORRUPTIONS; k++)
    if (name && !strcmp(name, NAMES[k])) {
      *out = (sr_corruption)k;
      return SR_OK;
    }
  char list[400] = "";
  for (int k = 0; k < SR_NUM_CORRUPTIONS; k++) {
    strcat(list, NAMES[k]);
    if (k + 1 < SR_NUM_CORRUPTIONS) strcat(list, ", ");
  }
  return sr_fail(err, SR_ERR_ARG, "unknown corruption '%s' (known: %s)", name ? name : "(null)", list);
}

sr_status sr_corruption_parse_list(const char *list, sr_corruption *kinds, int *n, sr_err *err) {
  *n = 0;
  if (!list || !*list || !strcmp(list, "all")) {
    for (int k = 0; k < SR_NUM_CORRUPTIONS; k++) kinds[k] = (sr_corruption)k;
    *n = SR_NUM_CORRUPTIONS;
    return SR_OK;
  }
  const char *p = list;
  while (*p) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    char name[64];
    if (len == 0 || len >= sizeof name)
      return sr_fail(err, SR_ERR_ARG, "corruption list '%s': empty or overlong entry", list);
    memcpy(name, p, len);
    name[len] = 0;
    sr_corruption k;
    sr_status st = sr_corruption_parse(name, &k, err);
    if (st) return st;
    for (int i = 0; i < *n; i++)
      if (kinds[i] == k)
        return sr_fail(err, SR_ERR_ARG, "corruption list '%s': '%s' given twice", list, name);
    kinds[(*n)++] = k;
    p += len;
    if (*p == ',') {
      p++;
      if (!*p) return sr_fail(err, SR_ERR_ARG, "corruption list '%s' ends with a comma", list);
    }
  }
  return SR_OK;
}
