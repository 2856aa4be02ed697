// TARGET-C readouts of a native receive batch -> page columns, in C for the vector units. The values are those of
// decodeReadouts in src/codecs/target-c.ts (the decoder of the dgram path), bit for bit.
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hutch_native.h"

#define READOUT_BYTES 144
#define PIXELS 64

static inline uint32_t be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* 32 big-endian offset-binary ADC words -> mV, in double then rounded to float (as adcToMv stored in a Float32Array). */
HUTCH_VECTOR static void pixels(float *restrict out, const uint8_t *restrict in, double k) {
  for (int i = 0; i < 32; i++) {
    const uint32_t w = ((uint32_t)in[2 * i] << 8) | in[2 * i + 1];
    out[i] = (float)((double)(w ^ 0x8000u) * k);
  }
}

/*
 * Decodes the datagrams of `plan` (per entry: byte offset in `bytes`, byte length, module; the rows appended are
 * written back as the 4th value) into rows row.. of the columns, skipping readouts whose main or aux timestamp is
 * 0 or outside [min_ns, max_ns] (compared as float64, as in TypeScript). Returns the row after the last.
 */
static size_t decode(const uint8_t *bytes, int32_t *plan, size_t entries, float *mv, uint32_t *ts, uint32_t *aux,
                     uint16_t *module, size_t row, double min_ns, double max_ns, double k) {
  for (size_t e = 0; e < entries; e++) {
    int32_t *p = plan + 4 * e;
    const uint8_t *d = bytes + p[0];
    const size_t count = (size_t)p[1] / READOUT_BYTES;
    const uint16_t m = (uint16_t)p[2];
    const size_t first = row;
    for (size_t r = 0; r < count; r++, d += READOUT_BYTES) {
      const uint32_t ts_hi = be32(d), ts_lo = be32(d + 4), aux_hi = be32(d + 72), aux_lo = be32(d + 76);
      const double t = (double)ts_hi * 4294967296.0 + (double)ts_lo;
      const double a = (double)aux_hi * 4294967296.0 + (double)aux_lo;
      if (t == 0 || a == 0 || t < min_ns || t > max_ns || a < min_ns || a > max_ns) continue;
      /* host-order uint64 halves (little-endian hosts only: the caller checks) */
      ts[2 * row] = ts_lo;
      ts[2 * row + 1] = ts_hi;
      aux[2 * row] = aux_lo;
      aux[2 * row + 1] = aux_hi;
      module[row] = m;
      pixels(mv + row * PIXELS, d + 8, k);
      pixels(mv + row * PIXELS + 32, d + 80, k);
      row++;
    }
    p[3] = (int32_t)(row - first);
  }
  return row;
}

/*
 * targetCDecode(bytes: Uint8Array, plan: Int32Array, entries, mv: Float32Array, tsWords: Uint32Array,
 *               auxWords: Uint32Array, module: Uint16Array, row, minNs, maxNs, mvPerCount) -> row after the last
 */
static napi_value target_c_decode(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  uint8_t *bytes;
  int32_t *plan;
  float *mv;
  uint32_t *ts, *aux;
  uint16_t *module;
  size_t nbytes, nplan, nmv, nts, naux, nmod;
  double entries, row, min_ns, max_ns, k;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 11 ||
      !typed(env, argv[0], napi_uint8_array, (void **)&bytes, &nbytes) ||
      !typed(env, argv[1], napi_int32_array, (void **)&plan, &nplan) ||
      napi_get_value_double(env, argv[2], &entries) != napi_ok ||
      !typed(env, argv[3], napi_float32_array, (void **)&mv, &nmv) ||
      !typed(env, argv[4], napi_uint32_array, (void **)&ts, &nts) ||
      !typed(env, argv[5], napi_uint32_array, (void **)&aux, &naux) ||
      !typed(env, argv[6], napi_uint16_array, (void **)&module, &nmod) ||
      napi_get_value_double(env, argv[7], &row) != napi_ok || napi_get_value_double(env, argv[8], &min_ns) != napi_ok ||
      napi_get_value_double(env, argv[9], &max_ns) != napi_ok || napi_get_value_double(env, argv[10], &k) != napi_ok)
    return fail(env, "targetCDecode takes (Uint8Array, Int32Array, number, Float32Array, Uint32Array, Uint32Array, "
                     "Uint16Array, number, number, number, number)");
  if (!(entries >= 0) || entries != (double)(size_t)entries || entries * 4 > (double)nplan || !(row >= 0) ||
      row != (double)(size_t)row)
    return fail(env, "targetCDecode: more plan entries than the plan holds, or a count that is not an integer");
  /* every datagram inside the batch, whole readouts, and every row inside every column */
  size_t rows = (size_t)row;
  for (size_t e = 0; e < (size_t)entries; e++) {
    const int32_t off = plan[4 * e], len = plan[4 * e + 1];
    if (off < 0 || len <= 0 || len % READOUT_BYTES != 0 || (size_t)off + (size_t)len > nbytes)
      return fail(env, "targetCDecode: a datagram lies outside the batch or is not whole readouts");
    rows += (size_t)len / READOUT_BYTES;
  }
  size_t cap = nmod;
  if (nmv / PIXELS < cap) cap = nmv / PIXELS;
  if (nts / 2 < cap) cap = nts / 2;
  if (naux / 2 < cap) cap = naux / 2;
  if (rows > cap) return fail(env, "targetCDecode: the columns lack room for the readouts");
  const size_t end = decode(bytes, plan, (size_t)entries, mv, ts, aux, module, (size_t)row, min_ns, max_ns, k);
  napi_value out;
  napi_create_double(env, (double)end, &out);
  return out;
}

void register_target_c(napi_env env, napi_value exports) { define(env, exports, "targetCDecode", target_c_decode); }
