// `simreg attack --attack autoattack | apgd-ce | apgd-dlr | apgd-t | fab-t`: the flag checks and the summary
// lines (the runner is sr_rob_autoattack in the library).
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "attack_run.h"
#include "cli.h"

int atk_is_autoattack(const char *attack) {
  const char *names[] = {"autoattack", "apgd-ce", "apgd-dlr", "apgd-t", "fab-t"};
  for (int i = 0; i < 5; i++)
    if (!strcmp(attack, names[i])) return 1;
  return 0;
}

int atk_check_autoattack(sr_rob_opts *o, int eps_seen, int queries_seen) {
  if (o->version && strcmp(o->attack, "autoattack")) {
    fprintf(stderr, "simreg attack: --version only applies to --attack autoattack\n");
    return SR_EXIT_USAGE;
  }
  if (!atk_is_autoattack(o->attack)) return 0;
  if (o->version && strcmp(o->version, "standard") && strcmp(o->version, "fast")) {
    fprintf(stderr, "simreg attack: --version must be standard or fast, not '%s'\n", o->version);
    return SR_EXIT_USAGE;
  }
  if (eps_seen && !(o->eps > 0)) {
    fprintf(stderr, "simreg attack: --eps must be > 0 for %s\n", o->attack);
    return SR_EXIT_USAGE;
  }
  if (!queries_seen) o->queries = 5000;  // AutoAttack's Square budget
  return 0;
}

void atk_print_autoattack(const sr_rob_opts *o, const cJSON *out) {
  (void)o;
  const cJSON *all = cJSON_GetObjectItemCaseSensitive(out, "attacks");
  for (const cJSON *b = all ? all->child : NULL; b; b = b->next) {
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(b, "attacks");
    const cJSON *eps = cJSON_GetObjectItemCaseSensitive(b, "eps");
    const cJSON *clean = cJSON_GetObjectItemCaseSensitive(b, "clean_accuracy");
    const cJSON *rob = cJSON_GetObjectItemCaseSensitive(b, "robust_accuracy");
    const cJSON *secs = cJSON_GetObjectItemCaseSensitive(b, "seconds");
    if (!cJSON_IsArray(list) || !cJSON_IsNumber(eps) || !cJSON_IsNumber(rob)) continue;
    printf("%s eps %g: clean %.4f", b->string, eps->valuedouble,
           cJSON_IsNumber(clean) ? clean->valuedouble : NAN);
    for (const cJSON *e = list->child; e; e = e->next) {
      const cJSON *nm = cJSON_GetObjectItemCaseSensitive(e, "attack");
      const cJSON *ra = cJSON_GetObjectItemCaseSensitive(e, "robust_accuracy_after");
      const cJSON *g = cJSON_GetObjectItemCaseSensitive(e, "gradients");
      const cJSON *q = cJSON_GetObjectItemCaseSensitive(e, "queries");
      const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, "seconds");
      printf(" -> %s %.4f (%.0f gradients, %.0f queries, %.1f s)", cJSON_IsString(nm) ? nm->valuestring : "?",
             ra ? ra->valuedouble : NAN, g ? g->valuedouble : NAN, q ? q->valuedouble : NAN,
             s ? s->valuedouble : NAN);
    }
    printf("; robust accuracy %.4f, %.1f s\n", rob->valuedouble,
           cJSON_IsNumber(secs) ? secs->valuedouble : NAN);
  }
}
