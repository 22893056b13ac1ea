// The engine switches the CLI reads from the environment (the library takes them as explicit options).
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
