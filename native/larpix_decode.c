// LArPix data-board words -> packet columns, in C for the vector units (the TypeScript decoder is the fallback).
// Built by scripts/build.mjs with node-gyp against Node's own headers; loaded by src/core/native-addon.ts.
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hutch_native.h"

/* Byte offsets of the columns in a LarpixPacketBatch's memory, in this order (see larpix-packet-batch.ts). */
enum { TS, COUNTER, ADC, CHIP, TYPE, CHANNEL, FIFO_HALF, FIFO_FULL, PARITY, VALID_PARITY, REGISTER, VALUE, NCOL };

/*
 * Decodes n words (uint32 pairs: bits 31..0, then bits 63..32 of which 53..32 are the packet's) into rows 0..n-1
 * of the columns given, writing every field of every row (0 where a packet type has no such field), as decodeRow in
 * larpix-decode-kernels.ts does. Branch-free, and every column a restrict parameter, so the compiler vectorises it.
 */
HUTCH_VECTOR static void decode_rows(const uint32_t *restrict w, size_t n, uint32_t *restrict ts, uint32_t *restrict counter,
                        uint16_t *restrict adc, uint8_t *restrict chip, uint8_t *restrict type,
                        uint8_t *restrict channel, uint8_t *restrict fifoHalf, uint8_t *restrict fifoFull,
                        uint8_t *restrict parity, uint8_t *restrict validParity, uint8_t *restrict reg,
                        uint8_t *restrict value) {
  for (size_t k = 0; k < n; k++) {
    const uint32_t lo = w[2 * k];
    const uint32_t hi = w[2 * k + 1] & 0x3fffffu;
    const uint32_t t = lo & 3u;
    const uint32_t data = 0u - (uint32_t)(t == 0u);
    const uint32_t test = 0u - (uint32_t)(t == 1u);
    const uint32_t config = 0u - (uint32_t)(t >= 2u);
    uint32_t x = lo ^ hi; /* parity of the 54 bits: fold to a nibble, look it up in 0x6996 */
    x ^= x >> 16;
    x ^= x >> 8;
    x ^= x >> 4;
    type[k] = (uint8_t)t;
    chip[k] = (uint8_t)(lo >> 2);
    parity[k] = (uint8_t)(hi >> 21);
    validParity[k] = (uint8_t)((0x6996u >> (x & 15u)) & 1u);
    channel[k] = (uint8_t)((lo >> 10) & 0x7fu & data);
    ts[2 * k] = ((lo >> 17) | ((hi & 0x1ffu) << 15)) & data;
    ts[2 * k + 1] = 0;
    adc[k] = (uint16_t)((hi >> 9) & 0x3ffu & data);
    fifoHalf[k] = (uint8_t)((hi >> 19) & 1u & data);
    fifoFull[k] = (uint8_t)((hi >> 20) & 1u & data);
    counter[k] = ((((lo >> 10) & 0xfu) << 12) | ((hi >> 9) & 0xfffu)) & test;
    reg[k] = (uint8_t)((lo >> 10) & config);
    value[k] = (uint8_t)((lo >> 18) & config);
  }
}

/*
 * Decodes n words into rows start..start+n-1 of a batch whose columns are at byte offsets `off` of `base`.
 * Returns one past the last row that is not a data packet (0 if all are).
 */
static uint32_t decode(const uint32_t *w, size_t n, size_t start, uint8_t *base, const int32_t *off) {
  uint8_t *type = base + off[TYPE] + start;
  decode_rows(w, n, (uint32_t *)(base + off[TS]) + 2 * start, (uint32_t *)(base + off[COUNTER]) + start,
              (uint16_t *)(base + off[ADC]) + start, base + off[CHIP] + start, type, base + off[CHANNEL] + start,
              base + off[FIFO_HALF] + start, base + off[FIFO_FULL] + start, base + off[PARITY] + start,
              base + off[VALID_PARITY] + start, base + off[REGISTER] + start, base + off[VALUE] + start);
  /* A backwards scan of the type column, 8 rows per load (a running maximum in the loop above would stop it
     vectorising). */
  size_t k = n;
  while (k >= 8) {
    uint64_t eight;
    memcpy(&eight, type + k - 8, 8);
    if (eight != 0) break;
    k -= 8;
  }
  for (; k > 0; k--)
    if (type[k - 1] != 0) return (uint32_t)(start + k);
  return 0;
}

/* larpixDecode(words: Int32Array, n, start, batch: Uint32Array, offsets: Int32Array) -> number */
static napi_value larpix_decode(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 5)
    return fail(env, "larpixDecode takes (words, n, start, batch, offsets)");
  napi_typedarray_type wt, bt, ot;
  size_t wlen, blen, olen;
  void *wdata, *bdata, *odata;
  double n, start;
  if (napi_get_typedarray_info(env, argv[0], &wt, &wlen, &wdata, NULL, NULL) != napi_ok || wt != napi_int32_array ||
      napi_get_value_double(env, argv[1], &n) != napi_ok || napi_get_value_double(env, argv[2], &start) != napi_ok ||
      napi_get_typedarray_info(env, argv[3], &bt, &blen, &bdata, NULL, NULL) != napi_ok || bt != napi_uint32_array ||
      napi_get_typedarray_info(env, argv[4], &ot, &olen, &odata, NULL, NULL) != napi_ok || ot != napi_int32_array ||
      olen != NCOL)
    return fail(env, "larpixDecode: expected (Int32Array, number, number, Uint32Array, Int32Array[12])");
  if (!(n >= 0) || !(start >= 0) || n > (double)(wlen / 2))
    return fail(env, "larpixDecode: more words than the words array holds");
  const size_t rows = (size_t)start + (size_t)n;
  const size_t bytes = blen * 4;
  const int32_t *off = (const int32_t *)odata;
  static const size_t size[NCOL] = {8, 4, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  for (int c = 0; c < NCOL; c++)
    if (off[c] < 0 || (size_t)off[c] + rows * size[c] > bytes) return fail(env, "larpixDecode: a column overruns the batch");
  uint32_t last = decode((const uint32_t *)wdata, (size_t)n, (size_t)start, (uint8_t *)bdata, off);
  napi_value out;
  napi_create_uint32(env, last, &out);
  return out;
}

void register_larpix(napi_env env, napi_value exports) { define(env, exports, "larpixDecode", larpix_decode); }
