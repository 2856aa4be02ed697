// Run-file writing with the system's libhdf5 (Debian libhdf5-dev, the library h5py uses), for the writer worker:
// appends go straight from the batch's arena to the file. Loaded by src/storage/native-hdf5.ts; h5wasm is the fallback.
//
// Linked with -z nodelete: Node unloads a worker's addons when it ends, and thread-safe libhdf5 (Debian's) has
// per-thread destructors that would then point at unmapped code. Not every libhdf5 is thread-safe, and every
// writer worker of the process loads this addon: one lock serialises
// all calls. Datasets are created with fill time NEVER and opened without a chunk cache, so HDF5 neither zero-fills
// new chunks nor copies rows through a cache: each append is written from the caller's memory with one pwrite.
#define _GNU_SOURCE
#include <hdf5.h>
#include <node_api.h>
#include <pthread.h>

#include "hutch_native.h" /* fail() and define(), shared with native/ */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#define MAX_RANK 32

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* The gather buffer for appends whose rows lie in several pieces of the arena (guarded by the lock). */
static uint8_t *staging = NULL;
static size_t staging_bytes = 0;

/* The error stack of a failed call, kept before clean-up calls (every API call clears the current one). Lock held. */
static hid_t kept_error = -1;
static void keep_error(void) {
  if (kept_error < 0) kept_error = H5Eget_current_stack();
}

/* Throws an Error whose message is `what failed` and HDF5's error stack as H5Eprint2 prints it. Lock held. */
static napi_value h5_error(napi_env env, const char *what) {
  char *stack = NULL;
  size_t len = 0;
  hid_t estack = kept_error >= 0 ? kept_error : H5E_DEFAULT;
  FILE *f = open_memstream(&stack, &len);
  if (f) {
    H5Eprint2(estack, f);
    fclose(f);
  }
  if (kept_error >= 0) H5Eclose_stack(kept_error);
  kept_error = -1;
  H5Eclear2(H5E_DEFAULT);
  size_t n = strlen(what) + len + 16;
  char *msg = malloc(n);
  if (msg) snprintf(msg, n, "%s failed\n%s", what, stack ? stack : "");
  napi_value code, text, err;
  napi_create_string_utf8(env, "HUTCH_ERR_IO", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg ? msg : what, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &err);
  napi_throw(env, err);
  free(msg);
  free(stack);
  return NULL;
}

/* A string argument as a malloc'd C string (NULL when it is not a string). */
static char *string_arg(napi_env env, napi_value v) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (s) napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

static int id_arg(napi_env env, napi_value v, hid_t *id) {
  bool lossless;
  int64_t x;
  if (napi_get_value_bigint_int64(env, v, &x, &lossless) != napi_ok) return 0;
  *id = (hid_t)x;
  return 1;
}

static napi_value id_value(napi_env env, hid_t id) {
  napi_value v;
  napi_create_bigint_int64(env, (int64_t)id, &v);
  return v;
}

static int u64_arg(napi_env env, napi_value v, uint64_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || d < 0 || d != (double)(uint64_t)d) return 0;
  *out = (uint64_t)d;
  return 1;
}

/* The bytes of an ArrayBuffer or of any typed array / DataView. */
static int bytes_arg(napi_env env, napi_value v, uint8_t **data, size_t *length) {
  bool is;
  if (napi_is_arraybuffer(env, v, &is) == napi_ok && is)
    return napi_get_arraybuffer_info(env, v, (void **)data, length) == napi_ok;
  if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
    napi_typedarray_type t;
    size_t n;
    if (napi_get_typedarray_info(env, v, &t, &n, (void **)data, NULL, NULL) != napi_ok) return 0;
    static const size_t size[] = {1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8};
    *length = n * (t <= napi_biguint64_array ? size[t] : 1);
    return 1;
  }
  return 0;
}

/* A dims argument (array of non-negative integers) into `dims`; returns its length or -1. */
static int dims_arg(napi_env env, napi_value v, hsize_t *dims, int max) {
  uint32_t n;
  if (napi_get_array_length(env, v, &n) != napi_ok || (int)n > max) return -1;
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    uint64_t x;
    napi_get_element(env, v, i, &e);
    if (!u64_arg(env, e, &x)) return -1;
    dims[i] = (hsize_t)x;
  }
  return (int)n;
}

/*
 * An HDF5 datatype from h5wasm's dtype spelling, so both backends write the same types: "<B" "<b" "<H" "<h" "<I"
 * "<i" "<Q" "<q" (little-endian integers), "<f" "<d" (IEEE floats), "S" (variable-length UTF-8 string, Fortran
 * style as h5wasm makes it), "A<n>" (n-byte ASCII C string) or [[name, dtype], ...] (a packed compound).
 * Returns -1 for an unknown spelling.
 */
static hid_t make_type(napi_env env, napi_value v) {
  napi_valuetype vt;
  napi_typeof(env, v, &vt);
  if (vt == napi_string) {
    char s[32];
    size_t len;
    if (napi_get_value_string_utf8(env, v, s, sizeof s, &len) != napi_ok) return -1;
    if (len == 2 && s[0] == '<') {
      switch (s[1]) {
        case 'B': return H5Tcopy(H5T_STD_U8LE);
        case 'b': return H5Tcopy(H5T_STD_I8LE);
        case 'H': return H5Tcopy(H5T_STD_U16LE);
        case 'h': return H5Tcopy(H5T_STD_I16LE);
        case 'I': return H5Tcopy(H5T_STD_U32LE);
        case 'i': return H5Tcopy(H5T_STD_I32LE);
        case 'Q': return H5Tcopy(H5T_STD_U64LE);
        case 'q': return H5Tcopy(H5T_STD_I64LE);
        case 'f': return H5Tcopy(H5T_IEEE_F32LE);
        case 'd': return H5Tcopy(H5T_IEEE_F64LE);
        default: return -1;
      }
    }
    if (strcmp(s, "S") == 0) {
      hid_t t = H5Tcopy(H5T_FORTRAN_S1);
      H5Tset_size(t, H5T_VARIABLE);
      H5Tset_cset(t, H5T_CSET_UTF8);
      return t;
    }
    if ((s[0] == 'A' || s[0] == 'S') && len > 1) {
      char *end;
      long n = strtol(s + 1, &end, 10);
      if (*end || n < 1) return -1;
      hid_t t = H5Tcopy(s[0] == 'A' ? H5T_C_S1 : H5T_FORTRAN_S1);
      H5Tset_size(t, (size_t)n);
      H5Tset_cset(t, s[0] == 'A' ? H5T_CSET_ASCII : H5T_CSET_UTF8);
      return t;
    }
    return -1;
  }
  bool is;
  uint32_t n;
  if (napi_is_array(env, v, &is) != napi_ok || !is || napi_get_array_length(env, v, &n) != napi_ok || n == 0)
    return -1;
  hid_t members[256];
  char *names[256];
  if (n > 256) return -1;
  size_t total = 0;
  uint32_t made = 0;
  for (; made < n; made++) {
    napi_value pair, name, dt;
    napi_get_element(env, v, made, &pair);
    napi_get_element(env, pair, 0, &name);
    napi_get_element(env, pair, 1, &dt);
    names[made] = string_arg(env, name);
    members[made] = names[made] ? make_type(env, dt) : -1;
    if (members[made] < 0) {
      free(names[made]);
      break;
    }
    total += H5Tget_size(members[made]);
  }
  hid_t t = -1;
  if (made == n) {
    t = H5Tcreate(H5T_COMPOUND, total);
    size_t offset = 0;
    for (uint32_t i = 0; i < n && t >= 0; i++) {
      if (H5Tinsert(t, names[i], offset, members[i]) < 0) {
        H5Tclose(t);
        t = -1;
      }
      offset += H5Tget_size(members[i]);
    }
  }
  for (uint32_t i = 0; i < made; i++) {
    H5Tclose(members[i]);
    free(names[i]);
  }
  return t;
}

/*
 * Dataset access: no chunk cache. With fill time NEVER every append then goes to the file inside H5Dwrite, so a
 * failed write (disk full) fails the append itself; a cached chunk would fail only at the next flush, which writes
 * the metadata anyway and so leaves rows in the extent that hold no data. (gzip chunks pass through the filter
 * and are written at once: the writer hands them over whole.)
 */
static hid_t uncached_dapl(void) {
  hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
  if (dapl >= 0) H5Pset_chunk_cache(dapl, H5D_CHUNK_CACHE_NSLOTS_DEFAULT, 0, H5D_CHUNK_CACHE_W0_DEFAULT);
  return dapl;
}

/* The file access properties of run files: the HDF5 1.10 format (SWMR needs it; h5py and h5wasm read it). */
static hid_t v110_fapl(void) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl < 0) return fapl;
  H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_V110);
  /* No sieve buffer: rows that bypass the chunk cache would wait there for the next flush (see uncached_dapl). */
  H5Pset_sieve_buf_size(fapl, 0);
  return fapl;
}

#define ARGS(N)                                                 \
  size_t argc = N;                                              \
  napi_value argv[N];                                           \
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);         \
  if (argc < N) return fail(env, "hdf5: too few arguments")

/* fileCreate(path) / fileOpen(path) -> file id: a new file (truncating the empty one Node made) or an existing one
 * opened read-write, both in the HDF5 1.10 format. */
static napi_value file_open_or_create(napi_env env, napi_callback_info info, bool create) {
  ARGS(1);
  char *path = string_arg(env, argv[0]);
  if (!path) return fail(env, "fileCreate/fileOpen: path must be a string");
  pthread_mutex_lock(&lock);
  hid_t fapl = v110_fapl();
  hid_t fid = create ? H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl) : H5Fopen(path, H5F_ACC_RDWR, fapl);
  if (fid < 0) keep_error();
  H5Pclose(fapl);
  napi_value out = fid < 0 ? h5_error(env, create ? "create" : "open") : id_value(env, fid);
  pthread_mutex_unlock(&lock);
  free(path);
  return out;
}
static napi_value file_create(napi_env env, napi_callback_info info) { return file_open_or_create(env, info, true); }
static napi_value file_open(napi_env env, napi_callback_info info) { return file_open_or_create(env, info, false); }

/* One call on an id: close a file or dataset, flush, enter SWMR mode. */
static napi_value on_id(napi_env env, napi_callback_info info, herr_t (*fn)(hid_t), const char *what) {
  ARGS(1);
  hid_t id;
  if (!id_arg(env, argv[0], &id)) return fail(env, "hdf5: an id must be a bigint");
  pthread_mutex_lock(&lock);
  napi_value out = fn(id) < 0 ? h5_error(env, what) : NULL;
  pthread_mutex_unlock(&lock);
  return out;
}

static herr_t flush_global(hid_t fid) { return H5Fflush(fid, H5F_SCOPE_GLOBAL); }
static napi_value file_close(napi_env env, napi_callback_info info) { return on_id(env, info, H5Fclose, "close"); }
static napi_value file_flush(napi_env env, napi_callback_info info) { return on_id(env, info, flush_global, "flush"); }
static napi_value start_swmr(napi_env env, napi_callback_info info) {
  return on_id(env, info, H5Fstart_swmr_write, "start SWMR write");
}
static napi_value dataset_close(napi_env env, napi_callback_info info) { return on_id(env, info, H5Dclose, "close dataset"); }
/* A dataset's cached rows, then its metadata; stops at the first failure (H5Fflush would write the metadata anyway). */
static napi_value dataset_flush(napi_env env, napi_callback_info info) { return on_id(env, info, H5Dflush, "flush"); }

/* datasetCreate(fid, path, dtype, rowShape, chunkRows, gzip) -> dataset id (kept open for appends). */
static napi_value dataset_create(napi_env env, napi_callback_info info) {
  ARGS(6);
  hid_t fid;
  hsize_t dims[MAX_RANK], maxdims[MAX_RANK], chunk[MAX_RANK];
  uint64_t chunk_rows, gzip;
  int row_rank = dims_arg(env, argv[3], dims + 1, MAX_RANK - 1);
  if (!id_arg(env, argv[0], &fid) || row_rank < 0 || !u64_arg(env, argv[4], &chunk_rows) || chunk_rows < 1 ||
      !u64_arg(env, argv[5], &gzip) || gzip > 9)
    return fail(env, "datasetCreate(fid, path, dtype, rowShape, chunkRows >= 1, gzip 0..9)");
  char *path = string_arg(env, argv[1]);
  if (!path) return fail(env, "datasetCreate: path must be a string");
  int rank = row_rank + 1;
  dims[0] = 0;
  maxdims[0] = H5S_UNLIMITED;
  chunk[0] = (hsize_t)chunk_rows;
  for (int i = 1; i < rank; i++) maxdims[i] = chunk[i] = dims[i];
  napi_value out = NULL;
  pthread_mutex_lock(&lock);
  hid_t type = make_type(env, argv[2]);
  if (type < 0) {
    pthread_mutex_unlock(&lock);
    free(path);
    return fail(env, "datasetCreate: unknown dtype");
  }
  hid_t space = H5Screate_simple(rank, dims, maxdims);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(dcpl, rank, chunk);
  if (gzip > 0) H5Pset_deflate(dcpl, (unsigned)gzip);
  /* Rows are always written after the extent grows: skip the fill (HDF5 refuses NEVER for vlen strings). */
  if (!H5Tis_variable_str(type)) H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
  hid_t dapl = uncached_dapl();
  hid_t did = H5Dcreate2(fid, path, type, space, H5P_DEFAULT, dcpl, dapl);
  if (did < 0) keep_error();
  H5Pclose(dapl);
  out = did < 0 ? h5_error(env, "create dataset") : id_value(env, did);
  H5Pclose(dcpl);
  H5Sclose(space);
  H5Tclose(type);
  pthread_mutex_unlock(&lock);
  free(path);
  return out;
}

/* groupCreate(fid, path) creates a group; datasetOpen(fid, path) -> dataset id opens a dataset (no chunk cache). */
static napi_value at_path(napi_env env, napi_callback_info info, bool group) {
  ARGS(2);
  hid_t fid;
  char *path = string_arg(env, argv[1]);
  if (!id_arg(env, argv[0], &fid) || !path) {
    free(path);
    return fail(env, group ? "groupCreate(fid, path)" : "datasetOpen(fid, path)");
  }
  pthread_mutex_lock(&lock);
  hid_t dapl = group ? -1 : uncached_dapl();
  hid_t id = group ? H5Gcreate2(fid, path, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : H5Dopen2(fid, path, dapl);
  if (id < 0) keep_error();
  if (dapl >= 0) H5Pclose(dapl);
  napi_value out = NULL;
  if (id < 0) out = h5_error(env, group ? "create group" : "open dataset");
  else if (group) H5Gclose(id);
  else out = id_value(env, id);
  pthread_mutex_unlock(&lock);
  free(path);
  return out;
}
static napi_value group_create(napi_env env, napi_callback_info info) { return at_path(env, info, true); }
static napi_value dataset_open(napi_env env, napi_callback_info info) { return at_path(env, info, false); }

/* Grows a dataset to `rows` rows (lock held). Returns the dataset's rank, or -1. */
static int grow(hid_t did, hsize_t rows, hsize_t *dims) {
  hid_t fspace = H5Dget_space(did);
  if (fspace < 0) return -1;
  int rank = H5Sget_simple_extent_dims(fspace, dims, NULL);
  H5Sclose(fspace);
  if (rank < 1 || rank > MAX_RANK) return -1;
  dims[0] = rows;
  return H5Dset_extent(did, dims) < 0 ? -1 : rank; /* no clean-up after the call: its stack is current */
}

/* Writes `rows` rows at row `at` of a dataset already grown to hold them (lock held). */
static int write_at(hid_t did, int rank, const hsize_t *dims, hsize_t at, hsize_t rows, const void *data) {
  hsize_t start[MAX_RANK] = {0}, count[MAX_RANK];
  memcpy(count, dims, (size_t)rank * sizeof(hsize_t));
  start[0] = at;
  count[0] = rows;
  hid_t fspace = H5Dget_space(did);
  hid_t mspace = H5Screate_simple(rank, count, NULL);
  hid_t type = H5Dget_type(did);
  herr_t st = H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
  if (st >= 0) st = H5Dwrite(did, type, mspace, fspace, H5P_DEFAULT, data);
  if (st < 0) keep_error();
  H5Tclose(type);
  H5Sclose(mspace);
  H5Sclose(fspace);
  return st < 0 ? -1 : 0;
}

/* Grows a dataset by `rows` and writes `data` (rows x row elements of its own type) at row `at`. Lock held. */
static int write_rows(hid_t did, hsize_t at, hsize_t rows, const void *data) {
  hsize_t dims[MAX_RANK];
  int rank = grow(did, at + rows, dims);
  return rank < 0 ? -1 : write_at(did, rank, dims, at, rows, data);
}

/* Rows per chunk of an unfiltered dataset, or 0 when it is filtered (gzip). Lock held. */
static hsize_t plain_chunk_rows(hid_t did, int rank) {
  hid_t dcpl = H5Dget_create_plist(did);
  if (dcpl < 0) return 0;
  hsize_t chunk[MAX_RANK];
  hsize_t rows = H5Pget_nfilters(dcpl) == 0 && H5Pget_chunk(dcpl, rank, chunk) == rank ? chunk[0] : 0;
  H5Pclose(dcpl);
  return rows;
}

/*
 * Writes `n` rows at row `at` from `data`. Whole chunks of an unfiltered dataset go to the file at once with
 * H5Dwrite_chunk (in SWMR mode H5Dwrite would keep even a whole chunk in memory, copied, until the next write or
 * flush); the rest with H5Dwrite. Lock held.
 */
static int write_span(hid_t did, int rank, const hsize_t *dims, hsize_t chunk_rows, hsize_t at, hsize_t n,
                      const uint8_t *data, size_t row_bytes) {
  if (chunk_rows > 0 && at % chunk_rows == 0 && n >= chunk_rows) {
    hsize_t whole = n - n % chunk_rows;
    hsize_t offset[MAX_RANK] = {0};
    size_t chunk_bytes = (size_t)chunk_rows * row_bytes;
    for (hsize_t r = 0; r < whole; r += chunk_rows) {
      offset[0] = at + r;
      if (H5Dwrite_chunk(did, H5P_DEFAULT, 0, offset, chunk_bytes, data + (size_t)r * row_bytes) < 0) {
        keep_error();
        return -1;
      }
    }
    at += whole;
    data += (size_t)whole * row_bytes;
    n -= whole;
  }
  return n == 0 ? 0 : write_at(did, rank, dims, at, n, data);
}

/*
 * datasetAppend(did, at, rows, arena, segments): writes rows `at..at+rows` from the arena's byte ranges
 * `segments` ([offset, length, offset, length, ...], in row order). Ranges of whole rows of 64 KiB or more on
 * average (frames, one per page) are written where they lie; smaller ones are gathered first (one write).
 */
static napi_value dataset_append(napi_env env, napi_callback_info info) {
  ARGS(5);
  hid_t did;
  uint64_t at, rows;
  uint8_t *arena;
  size_t arena_bytes;
  double *segs;
  size_t nsegs;
  bool is;
  napi_typedarray_type t;
  if (!id_arg(env, argv[0], &did) || !u64_arg(env, argv[1], &at) || !u64_arg(env, argv[2], &rows) || rows == 0 ||
      !bytes_arg(env, argv[3], &arena, &arena_bytes) || napi_is_typedarray(env, argv[4], &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, argv[4], &t, &nsegs, (void **)&segs, NULL, NULL) != napi_ok ||
      t != napi_float64_array || nsegs % 2 != 0 || nsegs == 0)
    return fail(env, "datasetAppend(did, at, rows >= 1, arena, segments: Float64Array of offset/length pairs)");
  size_t total = 0;
  for (size_t i = 0; i < nsegs; i += 2) {
    if (segs[i] < 0 || segs[i + 1] < 0 || segs[i] + segs[i + 1] > (double)arena_bytes)
      return fail(env, "datasetAppend: a segment lies outside the arena");
    total += (size_t)segs[i + 1];
  }
  if (total % rows != 0) return fail(env, "datasetAppend: the segments hold no whole number of rows");
  size_t row_bytes = total / rows;
  bool in_place = nsegs == 2 || (row_bytes > 0 && total / (nsegs / 2) >= 65536);
  for (size_t i = 0; in_place && i < nsegs; i += 2) in_place = (size_t)segs[i + 1] % row_bytes == 0;
  napi_value out = NULL;
  pthread_mutex_lock(&lock);
  hsize_t dims[MAX_RANK];
  int rank = grow(did, (hsize_t)(at + rows), dims);
  int st = rank < 0 ? -1 : 0;
  hsize_t chunk_rows = st == 0 ? plain_chunk_rows(did, rank) : 0;
  if (st == 0 && in_place) {
    for (size_t i = 0; st == 0 && i < nsegs; i += 2) {
      hsize_t n = (hsize_t)((size_t)segs[i + 1] / row_bytes);
      st = write_span(did, rank, dims, chunk_rows, (hsize_t)at, n, arena + (size_t)segs[i], row_bytes);
      at += n;
    }
  } else if (st == 0) {
    if (total > staging_bytes) {
      free(staging);
      staging = malloc(total);
      staging_bytes = staging ? total : 0;
    }
    if (!staging) {
      pthread_mutex_unlock(&lock);
      return fail(env, "datasetAppend: out of memory for the gather buffer");
    }
    size_t o = 0;
    for (size_t i = 0; i < nsegs; i += 2) {
      memcpy(staging + o, arena + (size_t)segs[i], (size_t)segs[i + 1]);
      o += (size_t)segs[i + 1];
    }
    st = write_span(did, rank, dims, chunk_rows, (hsize_t)at, (hsize_t)rows, staging, row_bytes);
  }
  if (st < 0) out = h5_error(env, "write");
  pthread_mutex_unlock(&lock);
  return out;
}

/* datasetAppendStrings(did, at, strings): rows of a variable-length string dataset. */
static napi_value dataset_append_strings(napi_env env, napi_callback_info info) {
  ARGS(3);
  hid_t did;
  uint64_t at;
  uint32_t n;
  if (!id_arg(env, argv[0], &did) || !u64_arg(env, argv[1], &at) || napi_get_array_length(env, argv[2], &n) != napi_ok)
    return fail(env, "datasetAppendStrings(did, at, strings)");
  char **ptrs = calloc(n ? n : 1, sizeof(char *));
  if (!ptrs) return fail(env, "datasetAppendStrings: out of memory");
  napi_value out = NULL;
  uint32_t i = 0;
  for (; i < n; i++) {
    napi_value e;
    napi_get_element(env, argv[2], i, &e);
    if (!(ptrs[i] = string_arg(env, e))) break;
  }
  if (i < n) out = fail(env, "datasetAppendStrings: every row must be a string");
  else {
    pthread_mutex_lock(&lock);
    if (write_rows(did, (hsize_t)at, n, ptrs) < 0) out = h5_error(env, "write");
    pthread_mutex_unlock(&lock);
  }
  for (uint32_t k = 0; k < i; k++) free(ptrs[k]);
  free(ptrs);
  return out;
}

/*
 * attrWrite(fid, objectPath, name, dtype, shape | null, data): creates or replaces an attribute. `dtype` is as for
 * datasets; "S" takes a string (scalar) or strings (shape [n]); others take a typed array of that type's bytes.
 */
static napi_value attr_write(napi_env env, napi_callback_info info) {
  ARGS(6);
  hid_t fid;
  hsize_t dims[MAX_RANK];
  napi_valuetype shape_type;
  napi_typeof(env, argv[4], &shape_type);
  int rank = shape_type == napi_null ? 0 : dims_arg(env, argv[4], dims, MAX_RANK);
  char *obj_path = string_arg(env, argv[1]);
  char *name = string_arg(env, argv[2]);
  napi_value out = NULL;
  char **strs = NULL;
  uint32_t nstrs = 0;
  const void *buf = NULL;
  uint8_t *bytes;
  size_t nbytes;
  if (!id_arg(env, argv[0], &fid) || rank < 0 || !obj_path || !name) {
    out = fail(env, "attrWrite(fid, objectPath, name, dtype, shape | null, data)");
    goto done;
  }
  napi_valuetype dt;
  napi_typeof(env, argv[5], &dt);
  bool is_array;
  napi_is_array(env, argv[5], &is_array);
  if (dt == napi_string || is_array) {
    nstrs = 1;
    if (is_array) napi_get_array_length(env, argv[5], &nstrs);
    strs = calloc(nstrs ? nstrs : 1, sizeof(char *));
    for (uint32_t i = 0; strs && i < nstrs; i++) {
      napi_value e = argv[5];
      if (is_array) napi_get_element(env, argv[5], i, &e);
      if (!(strs[i] = string_arg(env, e))) {
        out = fail(env, "attrWrite: string attributes hold strings only");
        goto done;
      }
    }
    buf = strs;
  } else if (bytes_arg(env, argv[5], &bytes, &nbytes)) {
    buf = bytes;
  } else {
    out = fail(env, "attrWrite: data must be a string, strings or a typed array");
    goto done;
  }
  pthread_mutex_lock(&lock);
  hid_t type = make_type(env, argv[3]);
  hid_t space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
  bool fits = type >= 0 && (strs ? (hsize_t)nstrs == (hsize_t)H5Sget_simple_extent_npoints(space)
                                 : nbytes == H5Tget_size(type) * (size_t)H5Sget_simple_extent_npoints(space));
  if (!fits) out = fail(env, "attrWrite: data do not match the dtype and shape");
  else {
    hid_t obj = H5Oopen(fid, obj_path, H5P_DEFAULT);
    htri_t exists = obj < 0 ? -1 : H5Aexists(obj, name);
    hid_t a = exists < 0 || (exists > 0 && H5Adelete(obj, name) < 0)
                  ? -1
                  : H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    bool empty = H5Sget_simple_extent_npoints(space) == 0;
    if (a < 0 || (!empty && H5Awrite(a, type, buf) < 0)) out = h5_error(env, "write attribute");
    else H5Eclear2(H5E_DEFAULT);
    if (a >= 0) H5Aclose(a);
    if (obj >= 0) H5Oclose(obj);
  }
  if (type >= 0) H5Tclose(type);
  H5Sclose(space);
  pthread_mutex_unlock(&lock);
done:
  for (uint32_t i = 0; strs && i < nstrs; i++) free(strs[i]);
  free(strs);
  free(obj_path);
  free(name);
  return out;
}

/*
 * fileAbandon(fid): closes a file after a failed write without writing to it again (a flush could point metadata at
 * data the disk refused): its descriptor is first pointed at /dev/null, so HDF5 closes it cleanly (a close that
 * fails leaves objects that crash HDF5's exit handler) while the file on disk stays as of its last flush.
 */
static napi_value file_abandon(napi_env env, napi_callback_info info) {
  ARGS(1);
  hid_t fid;
  if (!id_arg(env, argv[0], &fid)) return fail(env, "fileAbandon(fid)");
  pthread_mutex_lock(&lock);
  int *fd = NULL;
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull >= 0 && H5Fget_vfd_handle(fid, H5P_DEFAULT, (void **)&fd) >= 0 && fd) dup2(devnull, *fd);
  if (devnull >= 0) close(devnull);
  ssize_t n = H5Fget_obj_count(fid, H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE);
  if (n > 0) {
    hid_t *ids = malloc((size_t)n * sizeof(hid_t));
    if (ids) {
      n = H5Fget_obj_ids(fid, H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE, (size_t)n, ids);
      for (ssize_t i = 0; i < n; i++) H5Oclose(ids[i]);
      free(ids);
    }
  }
  H5Fclose(fid);
  H5Eclear2(H5E_DEFAULT);
  pthread_mutex_unlock(&lock);
  return NULL;
}

/* version() -> "1.10.8": the libhdf5 this addon runs with. */
static napi_value version(napi_env env, napi_callback_info info) {
  (void)info;
  unsigned maj, min, rel;
  H5get_libversion(&maj, &min, &rel);
  char s[32];
  snprintf(s, sizeof s, "%u.%u.%u", maj, min, rel);
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

NAPI_MODULE_INIT() {
  pthread_mutex_lock(&lock);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors are thrown with their stack, never printed */
  pthread_mutex_unlock(&lock);
  define(env, exports, "fileCreate", file_create);
  define(env, exports, "fileOpen", file_open);
  define(env, exports, "fileClose", file_close);
  define(env, exports, "fileFlush", file_flush);
  define(env, exports, "fileAbandon", file_abandon);
  define(env, exports, "startSwmr", start_swmr);
  define(env, exports, "groupCreate", group_create);
  define(env, exports, "datasetCreate", dataset_create);
  define(env, exports, "datasetOpen", dataset_open);
  define(env, exports, "datasetClose", dataset_close);
  define(env, exports, "datasetFlush", dataset_flush);
  define(env, exports, "datasetAppend", dataset_append);
  define(env, exports, "datasetAppendStrings", dataset_append_strings);
  define(env, exports, "attrWrite", attr_write);
  define(env, exports, "version", version);
  return exports;
}
