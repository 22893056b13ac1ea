// Option parsing for every subcommand: --name value or --name=value; unknown flags are errors.
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sr_cli_usage(const char *cmd, const char *usage, const sr_opt *opts) {
  fprintf(stdout, "usage: simreg %s %s\n\noptions:\n", cmd, usage);
  for (const sr_opt *o = opts; o->name; o++) {
    const char *arg = o->type == SR_OPT_FLAG     ? ""
                      : o->type == SR_OPT_STRING ? " STR"
                      : o->type == SR_OPT_DOUBLE ? " X"
                                                 : " N";
    char left[64];
    snprintf(left, sizeof left, "--%s%s", o->name, arg);
    fprintf(stdout, "  %-24s %s\n", left, o->help ? o->help : "");
  }
  fprintf(stdout, "  %-24s %s\n", "--help", "show this help");
}

static int set_value(const char *cmd, sr_opt *o, const char *val) {
  char *end = NULL;
  errno = 0;
  if (o->type == SR_OPT_STRING) {
    *(const char **)o->dst = val;
    return 0;
  }
  double v = strtod(val, &end);
  if (errno || end == val || *end || !isfinite(v)) {
    fprintf(stderr, "simreg %s: --%s: '%s' is not a number\n", cmd, o->name, val);
    return 2;
  }
  if ((o->type == SR_OPT_INT || o->type == SR_OPT_I64) && v != floor(v)) {
    fprintf(stderr, "simreg %s: --%s: '%s' is not an integer\n", cmd, o->name, val);
    return 2;
  }
  if (o->min < o->max && (v < o->min || v > o->max)) {
    fprintf(stderr, "simreg %s: --%s: %s is out of range [%g, %g]\n", cmd, o->name, val, o->min, o->max);
    return 2;
  }
  if (o->type == SR_OPT_INT) {
    if (v < -2147483648.0 || v > 2147483647.0) {
      fprintf(stderr, "simreg %s: --%s: %s does not fit in an int\n", cmd, o->name, val);
      return 2;
    }
    *(int *)o->dst = (int)v;
  } else if (o->type == SR_OPT_I64) {
    *(int64_t *)o->dst = (int64_t)v;
  } else {
    *(double *)o->dst = v;
  }
  return 0;
}

int sr_cli_parse(const char *cmd, const char *usage, sr_opt *opts, const sr_cli_argv *args, const char **pos,
                 int max_pos, int *npos) {
  const int argc = args->argc;
  char **argv = args->argv;
  const int first = args->first;
  *npos = 0;
  int only_pos = 0;
  for (int i = first; i < argc; i++) {
    const char *a = argv[i];
    if (!only_pos && (!strcmp(a, "--help") || !strcmp(a, "-h"))) {
      sr_cli_usage(cmd, usage, opts);
      return -1;
    }
    if (!only_pos && !strcmp(a, "--")) {
      only_pos = 1;
      continue;
    }
    if (only_pos || a[0] != '-' || a[1] == 0) {
      if (*npos >= max_pos) {
        fprintf(stderr, "simreg %s: unexpected argument '%s'\n", cmd, a);
        return 2;
      }
      pos[(*npos)++] = a;
      continue;
    }
    const char *name = a + (a[1] == '-' ? 2 : 1);
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    sr_opt *o = opts;
    for (; o->name; o++)
      if (strlen(o->name) == len && !strncmp(o->name, name, len)) break;
    if (!o->name) {
      fprintf(stderr, "simreg %s: unknown option '%s' (see simreg %s --help)\n", cmd, a, cmd);
      return 2;
    }
    o->seen = 1;
    if (o->type == SR_OPT_FLAG) {
      if (eq) {
        fprintf(stderr, "simreg %s: --%s takes no value\n", cmd, o->name);
        return 2;
      }
      *(int *)o->dst = 1;
      continue;
    }
    const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
    if (!val) {
      fprintf(stderr, "simreg %s: --%s needs a value\n", cmd, o->name);
      return 2;
    }
    int rc = set_value(cmd, o, val);
    if (rc) return rc;
  }
  return 0;
}

int sr_cli_fail(const char *cmd, const sr_err *err) {
  fprintf(stderr, "simreg %s: %s\n", cmd, err->msg[0] ? err->msg : sr_status_name(err->code));
  return sr_status_exit_code(err->code);
}

int sr_cli_seen(const sr_opt *opts, const char *name) {
  for (const sr_opt *o = opts; o->name; o++)
    if (!strcmp(o->name, name)) return o->seen;
  return 0;
}
