// Row scatter/gather between typed arrays in C: one call copies many fixed-size rows (the time-window builder's
// readouts into event slots), where TypeScript makes a subarray per row. The TypeScript copy is the fallback.
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hutch_native.h"

/* A typed array of 4-byte or 1-byte elements: its bytes and element size. */
static bool units(napi_env env, napi_value v, uint8_t **data, size_t *bytes, size_t *unit) {
  napi_typedarray_type t;
  size_t length;
  bool is;
  void *p;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, v, &t, &length, &p, NULL, NULL) != napi_ok)
    return false;
  if (t == napi_int32_array || t == napi_uint32_array || t == napi_float32_array) *unit = 4;
  else if (t == napi_uint8_array || t == napi_int8_array) *unit = 1;
  else return false;
  *data = p;
  *bytes = length * *unit;
  return true;
}

/*
 * copyRows(dst, dstRows: Int32Array, src, srcRows: Int32Array, count, rowUnits): for j < count, row srcRows[j]
 * of src (rows of rowUnits elements) to row dstRows[j] of dst. dst and src: Int32Array-like or Uint8Array alike.
 */
static napi_value copy_rows(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  uint8_t *dst, *src;
  size_t dbytes, sbytes, du, su, nd, ns;
  int32_t *drows, *srows;
  double count_d, row_units_d;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 6 ||
      !units(env, argv[0], &dst, &dbytes, &du) || !typed(env, argv[1], napi_int32_array, (void **)&drows, &nd) ||
      !units(env, argv[2], &src, &sbytes, &su) || !typed(env, argv[3], napi_int32_array, (void **)&srows, &ns) ||
      napi_get_value_double(env, argv[4], &count_d) != napi_ok ||
      napi_get_value_double(env, argv[5], &row_units_d) != napi_ok)
    return fail(env, "copyRows takes (dst, Int32Array, src, Int32Array, count, rowUnits)");
  if (du != su) return fail(env, "copyRows: dst and src have elements of different sizes");
  if (!(count_d >= 0) || count_d > (double)nd || count_d > (double)ns || !(row_units_d >= 1) ||
      row_units_d > 1e9)
    return fail(env, "copyRows: count beyond the row lists, or rowUnits < 1");
  const size_t count = (size_t)count_d;
  const size_t row = (size_t)row_units_d * du;
  for (size_t j = 0; j < count; j++) {
    const int32_t d = drows[j], s = srows[j];
    if (d < 0 || s < 0 || ((size_t)d + 1) * row > dbytes || ((size_t)s + 1) * row > sbytes)
      return fail(env, "copyRows: a row outside its array");
  }
  for (size_t j = 0; j < count; j++) memcpy(dst + (size_t)drows[j] * row, src + (size_t)srows[j] * row, row);
  return NULL;
}

void register_copy_rows(napi_env env, napi_value exports) { define(env, exports, "copyRows", copy_rows); }
