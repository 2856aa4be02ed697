// Helpers shared by the native kernels (N-API): typed-array arguments, errors, registration.
#ifndef HUTCH_NATIVE_H
#define HUTCH_NATIVE_H
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Hot loops are compiled for several x86-64 levels and the best one the CPU has is chosen when the addon loads
 * (a build shared between machines, e.g. on a facility's network file system, then runs on all of them).
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HUTCH_VECTOR __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define HUTCH_VECTOR
#endif

/* A typed array argument of the given type: its data and element count. */
static inline bool typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  napi_typedarray_type t;
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  return napi_get_typedarray_info(env, v, &t, length, data, NULL, NULL) == napi_ok && t == want;
}

/* Throws a RangeError with Hutch's validation code; returns NULL for the caller to return. */
static inline napi_value fail(napi_env env, const char *msg) {
  napi_throw_range_error(env, "HUTCH_ERR_VALIDATION", msg);
  return NULL;
}

/* exports[name] = fn. */
static inline void define(napi_env env, napi_value exports, const char *name, napi_callback fn) {
  napi_value f;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f);
  napi_set_named_property(env, exports, name, f);
}

void register_larpix(napi_env env, napi_value exports);
void register_area_detector(napi_env env, napi_value exports);
void register_udp_recv(napi_env env, napi_value exports);
void register_target_c(napi_env env, napi_value exports);
void register_copy_rows(napi_env env, napi_value exports);
#endif
