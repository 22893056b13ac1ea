// The engine switches the CLI reads from the environment (the library takes them as explicit options).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "simreg/model.h"
#include "simreg/train.h"

// SR_WINOGRAD=0 turns Winograd off, =1 asks for it also where it is not native (AVX-512); unset: native.
int sr_cli_winograd(void) {
  const char *w = getenv("SR_WINOGRAD");
  if (w && !strcmp(w, "0")) return 0;
  if (w && !strcmp(w, "1")) return 1;
  return sr_wino_native();
}

const char *sr_cli_conv_algo(void) {
  static const char *const names[] = {"measure", "direct", "winograd", "rule", "dnnl-winograd"};
  const char *a = getenv("SR_CONV_ALGO"), *w = getenv("SR_WINOGRAD");
  if (!a || !*a) return w && !strcmp(w, "0") ? "direct" : w && !strcmp(w, "1") ? "winograd" : "measure";
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
    if (!strcmp(a, names[k])) return names[k];
  fprintf(stderr, "simreg: SR_CONV_ALGO=%s: not one of measure, direct, winograd, rule, dnnl-winograd\n", a);
  return NULL;
}

// The cache's file by the rules of sr_cli_conv_cache; "" when off (or nowhere to put it).
static void cache_path(char *buf, size_t n) {
  const char *c = getenv("SR_CONV_CACHE"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  buf[0] = 0;
  if (c && !strcmp(c, "off")) return;
  if (c && *c)
    snprintf(buf, n, "%s", c);
  else if (xdg && xdg[0] == '/')  // the XDG spec: a relative value is to be ignored
    snprintf(buf, n, "%s/simreg/" SR_CONV_CACHE_FILE, xdg);
  else if (home && *home)
    snprintf(buf, n, "%s/.cache/simreg/" SR_CONV_CACHE_FILE, home);
}

const char *sr_cli_conv_cache(const char *cmd, const char *algo, char *buf, size_t n) {
  if (!algo || strcmp(algo, "measure")) return NULL;  // only measuring looks choices up
  cache_path(buf, n);
  if (!buf[0]) return NULL;
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", buf);
  char *slash = strrchr(dir, '/');
  if (slash) *slash = 0;
  sr_err err = {0};
  // a cache, not an output: where it cannot live the command goes on without it
  if (slash && dir[0] && sr_mkdir_p(dir, &err)) {
    fprintf(stderr, "simreg %s: warning: convolution choice cache off: %s\n", cmd, err.msg);
    return NULL;
  }
  if (access(slash ? (dir[0] ? dir : "/") : ".", W_OK) != 0) {
    fprintf(stderr, "simreg %s: warning: convolution choice cache %s off: its directory is not writable\n",
            cmd, buf);
    return NULL;
  }
  return buf;
}

void sr_cli_conv_cache_save(const char *cmd, const char *path, const sr_model *m) {
  sr_err err = {0};
  if (path && sr_conv_cache_merge(path, m, NULL, &err))
    fprintf(stderr, "simreg %s: warning: convolution choice cache not updated: %s\n", cmd, err.msg);
}
