// Area-detector frame arithmetic in C for the vector units: background sums, mean, median, subtraction. The
// TypeScript loops of src/sources/area-detector/background.ts are the fallback and give the same values.
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

#include "hutch_native.h"

HUTCH_VECTOR static void add_two(uint32_t *restrict s, const uint16_t *restrict a, const uint16_t *restrict b, size_t n) {
  for (size_t i = 0; i < n; i++) s[i] += (uint32_t)a[i] + b[i];
}
HUTCH_VECTOR static void set_two(uint32_t *restrict s, const uint16_t *restrict a, const uint16_t *restrict b, size_t n) {
  for (size_t i = 0; i < n; i++) s[i] = (uint32_t)a[i] + b[i];
}
HUTCH_VECTOR static void add_one(uint32_t *restrict s, const uint16_t *restrict a, size_t n) {
  for (size_t i = 0; i < n; i++) s[i] += a[i];
}
HUTCH_VECTOR static void set_one(uint32_t *restrict s, const uint16_t *restrict a, size_t n) {
  for (size_t i = 0; i < n; i++) s[i] = a[i];
}
/* out = sum * k, computed in double and rounded to float, as `out[i] = sum[i] * k` in TypeScript. */
HUTCH_VECTOR static void scale(float *restrict out, const uint32_t *restrict s, double k, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = (float)((double)s[i] * k);
}
/* out = frame - background, in double then rounded to float, as in TypeScript. */
HUTCH_VECTOR static void subtract(float *restrict out, const uint16_t *restrict f, const float *restrict bg, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = (float)((double)f[i] - (double)bg[i]);
}

/* adSum(sum: Uint32Array, a: Uint16Array, b: Uint16Array | null, assign: boolean): sum (+)= a (+ b). */
static napi_value ad_sum(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  size_t argc = 4;
  uint32_t *s;
  uint16_t *a, *b = NULL;
  size_t ns, na, nb = 0;
  bool assign;
  napi_valuetype bt;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4 ||
      !typed(env, argv[0], napi_uint32_array, (void **)&s, &ns) ||
      !typed(env, argv[1], napi_uint16_array, (void **)&a, &na) || napi_typeof(env, argv[2], &bt) != napi_ok ||
      (bt != napi_null && !typed(env, argv[2], napi_uint16_array, (void **)&b, &nb)) ||
      napi_get_value_bool(env, argv[3], &assign) != napi_ok)
    return fail(env, "adSum takes (Uint32Array, Uint16Array, Uint16Array | null, boolean)");
  if (na != ns || (b && nb != ns)) return fail(env, "adSum: arrays of different lengths");
  if (b) (assign ? set_two : add_two)(s, a, b, ns);
  else (assign ? set_one : add_one)(s, a, ns);
  return argv[0];
}

/* adScale(out: Float32Array, sum: Uint32Array, k: number). */
static napi_value ad_scale(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  size_t argc = 3;
  float *out;
  uint32_t *s;
  size_t no, ns;
  double k;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3 ||
      !typed(env, argv[0], napi_float32_array, (void **)&out, &no) ||
      !typed(env, argv[1], napi_uint32_array, (void **)&s, &ns) || napi_get_value_double(env, argv[2], &k) != napi_ok)
    return fail(env, "adScale takes (Float32Array, Uint32Array, number)");
  if (no != ns) return fail(env, "adScale: arrays of different lengths");
  scale(out, s, k, ns);
  return argv[0];
}

/* adSubtract(out: Float32Array, frame: Uint16Array, background: Float32Array). */
static napi_value ad_subtract(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  size_t argc = 3;
  float *out, *bg;
  uint16_t *f;
  size_t no, nf, nb;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3 ||
      !typed(env, argv[0], napi_float32_array, (void **)&out, &no) ||
      !typed(env, argv[1], napi_uint16_array, (void **)&f, &nf) ||
      !typed(env, argv[2], napi_float32_array, (void **)&bg, &nb))
    return fail(env, "adSubtract takes (Float32Array, Uint16Array, Float32Array)");
  if (no != nf || nb != nf) return fail(env, "adSubtract: arrays of different lengths");
  subtract(out, f, bg, nf);
  return argv[0];
}

#define MEDIAN_MAX_FRAMES 256

/* adMedianRows(frames: Uint16Array[], out: Float32Array, from, to): per-pixel median over [from, to). */
static napi_value ad_median_rows(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  size_t argc = 4;
  uint32_t count;
  float *out;
  size_t no;
  double from, to;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4 ||
      napi_get_array_length(env, argv[0], &count) != napi_ok ||
      !typed(env, argv[1], napi_float32_array, (void **)&out, &no) ||
      napi_get_value_double(env, argv[2], &from) != napi_ok || napi_get_value_double(env, argv[3], &to) != napi_ok)
    return fail(env, "adMedianRows takes (Uint16Array[], Float32Array, number, number)");
  if (count == 0 || count > MEDIAN_MAX_FRAMES) return fail(env, "adMedianRows: 1 to 256 frames");
  if (!(from >= 0) || !(to <= (double)no) || from > to) return fail(env, "adMedianRows: rows out of range");
  const uint16_t *frames[MEDIAN_MAX_FRAMES];
  for (uint32_t k = 0; k < count; k++) {
    napi_value el;
    uint16_t *p;
    size_t n;
    if (napi_get_element(env, argv[0], k, &el) != napi_ok || !typed(env, el, napi_uint16_array, (void **)&p, &n) ||
        n != no)
      return fail(env, "adMedianRows: every frame must be a Uint16Array as long as the output");
    frames[k] = p;
  }
  uint16_t v[MEDIAN_MAX_FRAMES];
  const uint32_t mid = count / 2;
  for (size_t i = (size_t)from; i < (size_t)to; i++) {
    for (uint32_t k = 0; k < count; k++) { /* insertion sort of a few values */
      const uint16_t x = frames[k][i];
      int32_t j = (int32_t)k - 1;
      while (j >= 0 && v[j] > x) {
        v[j + 1] = v[j];
        j--;
      }
      v[j + 1] = x;
    }
    out[i] = (count & 1) ? (float)v[mid] : (float)(((double)v[mid - 1] + (double)v[mid]) / 2);
  }
  return argv[1];
}

void register_area_detector(napi_env env, napi_value exports) {
  define(env, exports, "adSum", ad_sum);
  define(env, exports, "adScale", ad_scale);
  define(env, exports, "adSubtract", ad_subtract);
  define(env, exports, "adMedianRows", ad_median_rows);
}
