// The engine switches the CLI reads from the environment (the library takes them as explicit options).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "simreg/model.h"

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
