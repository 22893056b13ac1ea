// Replays fuzz inputs through a target's LLVMFuzzerTestOneInput without libFuzzer, so the normal (gcc)
// build checks every committed corpus and regression input. Arguments: files or directories (all regular
// files inside, in name order). Each input is copied into a buffer of exactly its size, so an overread is
// caught by the sanitizer build.
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return fprintf(stderr, "%s: cannot open\n", path), 1;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
    return fclose(f), free(buf), fprintf(stderr, "%s: read\n", path), 1;
  fclose(f);
  LLVMFuzzerTestOneInput(buf, (size_t)n);
  free(buf);
  return 0;
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
  int runs = 0, bad = 0;
  for (int i = 1; i < argc; i++) {
    struct stat sb;
    if (stat(argv[i], &sb) != 0) continue;  // an absent directory (no regressions yet) is fine
    if (!S_ISDIR(sb.st_mode)) {
      bad |= run_file(argv[i]);
      runs++;
      continue;
    }
    DIR *d = opendir(argv[i]);
    char *names[4096];
    int k = 0;
    for (struct dirent *e; d && (e = readdir(d)) && k < 4096;)
      if (e->d_name[0] != '.') names[k++] = strdup(e->d_name);
    if (d) closedir(d);
    qsort(names, (size_t)k, sizeof *names, cmp);
    for (int j = 0; j < k; j++) {
      char p[4096];
      snprintf(p, sizeof p, "%s/%s", argv[i], names[j]);
      if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode)) {
        bad |= run_file(p);
        runs++;
      }
      free(names[j]);
    }
  }
  printf("%d inputs replayed\n", runs);
  return bad || runs == 0;
}
