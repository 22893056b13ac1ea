#!/bin/sh
# cmake --install puts the library, headers and simreg.pc under any prefix, and a program built with
# pkg-config against them runs.
T=$(mktemp -d /tmp/sr_install_XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cmake --install "$SR_BUILD_DIR" --prefix "$T/prefix" > "$T/log" 2>&1 || { cat "$T/log"; fail "cmake --install"; }
pc=$(find "$T/prefix" -name simreg.pc | head -1)
[ -n "$pc" ] || fail "simreg.pc not installed"
[ -x "$T/prefix/bin/simreg" ] || fail "simreg binary not installed"
cat > "$T/use.c" <<'C'
#include <simreg/model.h>
#include <stdio.h>
int main(void) {
  sr_model m;
  sr_err e = {0};
  sr_rng r;
  sr_rng_seed(&r, 1, 0);
  sr_model_config c = {.arch = "resnet18", .in_c = 1, .in_h = 28, .in_w = 28, .classes = 10, .width = 0.25};
  if (sr_model_create(&m, &c, &r, &e)) { puts(e.msg); return 1; }
  printf("%lld\n", (long long)m.n_params);
  sr_model_free(&m);
  return 0;
}
C
export PKG_CONFIG_PATH="$(dirname "$pc")"
libdir=$(pkg-config --variable=libdir simreg)
cc "$T/use.c" $(pkg-config --cflags --libs simreg) -Wl,-rpath,"$libdir" -o "$T/use" || fail "compile against the installed library"
[ "$("$T/use")" = "701818" ] || fail "installed library gives the wrong parameter count"
echo "1 passed, 0 failed"
