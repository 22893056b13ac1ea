// Image-folder loader's decode path for JPEG files (the input as cls/x.jpg); see fuzz_image.h.
#include "fuzz_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fz_folder_image(data, size, "cls/x.jpg");
}
