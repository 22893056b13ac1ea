// The report renders in headless Chromium: a screenshot of the expected size that is not blank, every image
// the page names exists beside it, and Chromium logs no console message from the page. Chromium is a test
// dependency (scripts/install-deps.sh); without it this test fails rather than passing silently.
#include <png.h>
#include <unistd.h>

#include "fixture_runs.h"
#include "simreg/report.h"
#include "sr_test.h"

static const char *find_chromium(void) {
  static const char *const paths[] = {"/usr/bin/chromium", "/usr/bin/chromium-browser", NULL};
  for (int i = 0; paths[i]; i++)
    if (access(paths[i], X_OK) == 0) return paths[i];
  return NULL;
}

// Fraction of pixels that are not (near) white, or -1 if the PNG is unreadable; *w, *h get its size.
static double ink_fraction(const char *path, int *w, int *h) {
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&img, path)) return -1;
  img.format = PNG_FORMAT_RGB;
  size_t n = PNG_IMAGE_SIZE(img);
  unsigned char *buf = malloc(n);
  if (!buf || !png_image_finish_read(&img, NULL, buf, 0, NULL)) {
    free(buf);
    png_image_free(&img);
    return -1;
  }
  *w = (int)img.width;
  *h = (int)img.height;
  size_t ink = 0;
  for (size_t i = 0; i + 2 < n; i += 3) ink += buf[i] < 235 || buf[i + 1] < 235 || buf[i + 2] < 235;
  free(buf);
  return (double)ink / (double)(n / 3);
}

// Every src="..." in the page must be a file in the report directory (Chromium's default log level does not
// report a broken image).
static void check_images(const char *out, const char *html) {
  int count = 0;
  for (const char *p = strstr(html, "src=\""); p; p = strstr(p + 5, "src=\"")) {
    const char *q = strchr(p + 5, '"');
    if (!q) break;
    char path[1024];
    snprintf(path, sizeof path, "%s/%.*s", out, (int)(q - p - 5), p + 5);
    CHECK(access(path, R_OK) == 0, "image %s exists", path);
    count++;
  }
  CHECK(count >= 12, "page shows the figures (%d images)", count);
}

int main(void) {
  const char *chromium = find_chromium();
  CHECK(chromium != NULL,
        "chromium is not installed: run scripts/install-deps.sh (Debian package 'chromium')");
  if (!chromium) return sr_test_done();
  char root[] = "/tmp/sr_render_XXXXXX";
  CHECK(mkdtemp(root) != NULL, "mkdtemp");
  char dirs[3][512], out[600], profile[600], shot[600], log[600];
  CHECK(fx_make_runs(root, dirs) == 0, "fixtures written");
  snprintf(out, sizeof out, "%s/out", root);
  snprintf(profile, sizeof profile, "%s/profile", root);
  snprintf(shot, sizeof shot, "%s/shot.png", root);
  snprintf(log, sizeof log, "%s/chromium.log", root);
  const char *d[3] = {dirs[0], dirs[1], dirs[2]};
  sr_report_opts o = {.out_dir = out, .bootstrap_b = 200, .seed = 1};
  sr_report *rep = sr_calloc(1, sizeof *rep);
  sr_err err = {0};
  CHECK_OK(sr_report_build(d, 3, &o, rep, &err), &err);
  sr_report_free(rep);
  sr_free(rep);
  char cmd[4096];
  snprintf(cmd, sizeof cmd,
           "cd '%s' && timeout 120 '%s' --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
           "--disable-background-networking --disable-component-update --disable-sync --user-data-dir='%s' "
           "--screenshot='%s' --window-size=1200,2000 --enable-logging=stderr --v=0 'file://%s/index.html' "
           ">'%s' 2>&1",
           root, chromium, profile, shot, out, log);
  int rc = system(cmd);
  CHECK(rc == 0, "chromium exited with %d (log: %s)", rc, log);
  int w = 0, h = 0;
  double ink = ink_fraction(shot, &w, &h);
  CHECK(ink >= 0, "screenshot %s is a readable PNG", shot);
  CHECK(w == 1200 && h == 2000, "screenshot is %dx%d, want 1200x2000", w, h);
  CHECK(ink > 0.05 && ink < 0.9, "screenshot shows content, not a blank page (ink %.3f)", ink);
  // Console messages appear as "...:CONSOLE:..." or "CONSOLE(line)" lines naming the page's file:// URL.
  FILE *f = fopen(log, "r");
  CHECK(f != NULL, "chromium log readable");
  char line[4096], url[700];
  snprintf(url, sizeof url, "file://%s", out);
  int console = 0;
  while (f && fgets(line, sizeof line, f))
    if (strstr(line, "CONSOLE") && (strstr(line, url) || strstr(line, "index.html"))) {
      console++;
      fprintf(stderr, "console: %s", line);
    }
  if (f) fclose(f);
  CHECK(console == 0, "no console messages from the page (%d)", console);
  char path[700];
  snprintf(path, sizeof path, "%s/index.html", out);
  void *html;
  size_t n;
  CHECK_OK(sr_read_file(path, 1 << 22, &html, &n, &err), &err);
  if (html) check_images(out, html);
  sr_free(html);
  if (!getenv("SR_REPORT_KEEP")) {
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CHECK(system(cmd) == 0, "cleanup");
  } else {
    printf("kept %s\n", root);
  }
  return sr_test_done();
}
