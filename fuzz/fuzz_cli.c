// Command-line parsing (tools/cli.c): the input is argv, NUL-separated, against an option table with
// every option type. Accepted values respect their declared ranges; strings point into argv.
#include <math.h>

#include "../tools/cli.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096) return 0;
  char *buf = malloc(size + 1);
  if (!buf) return 0;
  memcpy(buf, data, size);
  buf[size] = 0;
  char *argv[66] = {"simreg", "fuzz"};
  int argc = 2;
  for (char *p = buf; p < buf + size + 1 && argc < 65; p += strlen(p) + 1) argv[argc++] = p;
  argv[argc] = NULL;
  int flag = 0, n = 7;
  int64_t big = 0;
  double x = 0.5;
  static const char dflt[] = "default";
  const char *s = dflt, *pos[2] = {0};
  sr_opt opts[] = {
      {"flag", SR_OPT_FLAG, &flag, "a flag", 0, 0, 0},   {"n", SR_OPT_INT, &n, "an int", 1, 100, 0},
      {"big", SR_OPT_I64, &big, "an int64", 0, 1e12, 0}, {"x", SR_OPT_DOUBLE, &x, "a double", 0, 1, 0},
      {"s", SR_OPT_STRING, &s, "a string", 0, 0, 0},     {0},
  };
  int npos = 0;
  int rc = sr_cli_parse("fuzz", "[options] [A [B]]", opts,
                        &(sr_cli_argv){.argc = argc, .argv = argv, .first = 2}, pos, 2, &npos);
  if (rc == 0) {
    if (n < 1 || n > 100 || big < 0 || big > (int64_t)1e12 || !(x >= 0 && x <= 1) || npos < 0 || npos > 2)
      abort();
    if (s != dflt && (s < buf || s > buf + size)) abort();
  } else if (rc != 2 && rc != -1) {
    abort();
  }
  free(buf);
  return 0;
}
