// The hutch_native addon: registers the kernels of each file.
#include "hutch_native.h"

NAPI_MODULE_INIT() {
  register_larpix(env, exports);
  register_area_detector(env, exports);
  register_udp_recv(env, exports);
  register_target_c(env, exports);
  register_copy_rows(env, exports);
  return exports;
}
