// UDP receive in C: one IPv4 socket polled by libuv, drained with recvmmsg into a batch of typed arrays that
// JavaScript reads, one call per batch (no Buffer, no RemoteInfo, no callback per datagram). The dgram path of
// src/sources/target-c/udp-receiver.ts is the fallback and gives the same datagrams.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "hutch_native.h"

/* Bytes of one datagram's slot in the batch: the largest IPv4 UDP payload (65507) fits. */
#define SLOT_BYTES 65536
/* Batches read per readable event before returning to the loop (the poll is level-triggered: it comes back). */
#define MAX_ROUNDS 8

typedef struct {
  napi_env env;
  uv_poll_t poll;
  int fd;
  /* Owners of this struct: the JS handle (its finalizer) and the uv handle (its close callback). */
  int owners;
  bool open;
  /* inside napi_make_callback: destroying the async context is deferred until it returns */
  bool in_callback;
  bool destroy_async;
  napi_ref self, on_batch, on_error, bytes_ref, meta_ref, time_ref;
  napi_async_context async;
  uint8_t *bytes;
  uint32_t *meta; /* per datagram: length, IPv4 source (host order), source port, flags (1: truncated) */
  double *time_ms;
  size_t slots;
  struct mmsghdr *msgs;
  struct iovec *iov;
  struct sockaddr_in *from;
} udp_rx;

static void release(udp_rx *rx) {
  if (--rx->owners > 0) return;
  free(rx->msgs);
  free(rx->iov);
  free(rx->from);
  free(rx);
}

static void on_uv_closed(uv_handle_t *h) { release((udp_rx *)h->data); }

/*
 * Stops polling and closes the socket at once, so its port is free when close() returns (uv_close stops the
 * poll synchronously; only its callback, which frees the handle, waits for the loop). Idempotent.
 */
static void stop(udp_rx *rx, bool from_js) {
  if (!rx->open) return;
  rx->open = false;
  uv_poll_stop(&rx->poll);
  uv_close((uv_handle_t *)&rx->poll, on_uv_closed);
  close(rx->fd);
  rx->fd = -1;
  if (!from_js) return; /* env teardown: JS references go with the env */
  napi_env env = rx->env;
  napi_ref *refs[] = {&rx->self, &rx->on_batch, &rx->on_error, &rx->bytes_ref, &rx->meta_ref, &rx->time_ref};
  for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
    if (*refs[i]) napi_delete_reference(env, *refs[i]);
    *refs[i] = NULL;
  }
  if (rx->in_callback) rx->destroy_async = true;
  else napi_async_destroy(env, rx->async);
}

static void on_env_cleanup(void *arg) { stop((udp_rx *)arg, false); }

/* Calls fn(arg) as a top-level callback (microtasks and nextTicks run after it); true when it threw (cleared). */
static bool call(udp_rx *rx, napi_ref fn_ref, napi_value arg, napi_value *exc) {
  napi_env env = rx->env;
  napi_value fn, recv, result;
  if (napi_get_reference_value(env, fn_ref, &fn) != napi_ok || napi_get_global(env, &recv) != napi_ok) return false;
  rx->in_callback = true;
  napi_status st = napi_make_callback(env, rx->async, recv, fn, 1, &arg, &result);
  rx->in_callback = false;
  if (rx->destroy_async) {
    rx->destroy_async = false;
    napi_async_destroy(env, rx->async);
  }
  bool pending = false;
  if (st != napi_ok) napi_is_exception_pending(env, &pending);
  if (!pending) return false;
  napi_get_and_clear_last_exception(env, exc);
  return true;
}

/* Hands an error to onError; an exception thrown there is cleared and printed: never crash the process. */
static void report(udp_rx *rx, napi_value err) {
  napi_value exc;
  if (rx->open && call(rx, rx->on_error, err, &exc))
    fprintf(stderr, "hutch udp_recv: the onError callback threw; exception dropped\n");
}

static void report_errno(udp_rx *rx, const char *what, int e) {
  napi_env env = rx->env;
  char text[160];
  snprintf(text, sizeof text, "%s: %s", what, strerror(e));
  napi_value msg, code, err;
  if (napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg) != napi_ok ||
      napi_create_string_utf8(env, "HUTCH_ERR_IO", NAPI_AUTO_LENGTH, &code) != napi_ok ||
      napi_create_error(env, code, msg, &err) != napi_ok)
    return;
  report(rx, err);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  (void)events;
  udp_rx *rx = h->data;
  napi_env env = rx->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  if (status < 0) {
    report_errno(rx, "UDP poll failed", -status);
  } else {
    for (int round = 0; round < MAX_ROUNDS && rx->open; round++) {
      for (size_t i = 0; i < rx->slots; i++) rx->msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
      int n = recvmmsg(rx->fd, rx->msgs, (unsigned)rx->slots, MSG_DONTWAIT, NULL);
      if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) report_errno(rx, "recvmmsg failed", errno);
        break;
      }
      if (n == 0) break;
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      const double now_ms = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
      for (int i = 0; i < n; i++) {
        uint32_t *m = rx->meta + 4 * (size_t)i;
        m[0] = rx->msgs[i].msg_len;
        m[1] = ntohl(rx->from[i].sin_addr.s_addr);
        m[2] = ntohs(rx->from[i].sin_port);
        m[3] = (rx->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? 1 : 0;
        rx->time_ms[i] = now_ms;
      }
      napi_value count, exc;
      napi_create_uint32(env, (uint32_t)n, &count);
      if (call(rx, rx->on_batch, count, &exc)) report(rx, exc);
      if ((size_t)n < rx->slots) break;
    }
  }
  napi_close_handle_scope(env, scope);
}

static udp_rx *unwrap_this(napi_env env, napi_callback_info info) {
  napi_value self;
  void *p = NULL;
  if (napi_get_cb_info(env, info, NULL, NULL, &self, NULL) != napi_ok || napi_unwrap(env, self, &p) != napi_ok)
    return NULL;
  return p;
}

/* handle.close(): stops polling and closes the socket; safe inside onBatch and when called twice. */
static napi_value udp_close(napi_env env, napi_callback_info info) {
  udp_rx *rx = unwrap_this(env, info);
  if (!rx) return fail(env, "close() must be called on a handle of udpRecvOpen");
  if (rx->open) {
    napi_remove_env_cleanup_hook(env, on_env_cleanup, rx);
    stop(rx, true);
  }
  return NULL;
}

static void on_handle_finalized(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  release((udp_rx *)data);
}

static napi_value throw_errno(napi_env env, const char *what, int e) {
  char text[160];
  snprintf(text, sizeof text, "%s: %s", what, strerror(e));
  napi_throw_error(env, "HUTCH_ERR_IO", text);
  return NULL;
}

static bool set_number(napi_env env, napi_value obj, const char *name, double v) {
  napi_value x;
  return napi_create_double(env, v, &x) == napi_ok && napi_set_named_property(env, obj, name, x) == napi_ok;
}

/*
 * udpRecvOpen(host: IPv4 string, port, recvBufferBytes, bytes: Uint8Array, meta: Uint32Array,
 *             timeMs: Float64Array, onBatch(count), onError(err)) -> { port, recvBufferBytes, close() }
 * Datagram i of a batch is at bytes[i * 65536 ..], its length, source address and port at meta[4i .. 4i+2].
 */
static napi_value udp_open(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  char host[64];
  size_t host_len;
  double port_d, rcvbuf_d;
  uint8_t *bytes;
  uint32_t *meta;
  double *time_ms;
  size_t nbytes, nmeta, ntime;
  napi_valuetype t6, t7;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 8 ||
      napi_get_value_string_utf8(env, argv[0], host, sizeof host, &host_len) != napi_ok ||
      napi_get_value_double(env, argv[1], &port_d) != napi_ok ||
      napi_get_value_double(env, argv[2], &rcvbuf_d) != napi_ok ||
      !typed(env, argv[3], napi_uint8_array, (void **)&bytes, &nbytes) ||
      !typed(env, argv[4], napi_uint32_array, (void **)&meta, &nmeta) ||
      !typed(env, argv[5], napi_float64_array, (void **)&time_ms, &ntime) || napi_typeof(env, argv[6], &t6) != napi_ok ||
      napi_typeof(env, argv[7], &t7) != napi_ok || t6 != napi_function || t7 != napi_function)
    return fail(env, "udpRecvOpen takes (host, port, recvBufferBytes, Uint8Array, Uint32Array, Float64Array, "
                     "onBatch, onError)");
  const size_t slots = ntime;
  if (slots == 0 || nmeta != 4 * slots || nbytes != slots * (size_t)SLOT_BYTES)
    return fail(env, "udpRecvOpen: expected bytes of slots x 65536, meta of slots x 4, timeMs of slots");
  if (!(port_d >= 0 && port_d <= 65535) || !(rcvbuf_d >= 0 && rcvbuf_d <= 2147483647))
    return fail(env, "udpRecvOpen: port or recvBufferBytes out of range");
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port_d);
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) return fail(env, "udpRecvOpen: host must be an IPv4 address");

  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  int asked = (int)rcvbuf_d;
  /* as dgram's recvBufferSize: the kernel caps it at net.core.rmem_max (the caller compares and warns) */
  if (asked > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &asked, sizeof asked);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "bind", e);
  }
  int got = 0;
  socklen_t gl = sizeof got;
  getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &gl);
  struct sockaddr_in bound;
  socklen_t bl = sizeof bound;
  getsockname(fd, (struct sockaddr *)&bound, &bl);

  udp_rx *rx = calloc(1, sizeof *rx);
  if (rx) {
    rx->msgs = calloc(slots, sizeof *rx->msgs);
    rx->iov = calloc(slots, sizeof *rx->iov);
    rx->from = calloc(slots, sizeof *rx->from);
  }
  uv_loop_t *loop = NULL;
  if (!rx || !rx->msgs || !rx->iov || !rx->from || napi_get_uv_event_loop(env, &loop) != napi_ok ||
      uv_poll_init(loop, &rx->poll, fd) != 0) {
    close(fd);
    if (rx) {
      free(rx->msgs);
      free(rx->iov);
      free(rx->from);
      free(rx);
    }
    return fail(env, "udpRecvOpen: out of memory or no event loop");
  }
  rx->env = env;
  rx->fd = fd;
  rx->bytes = bytes;
  rx->meta = meta;
  rx->time_ms = time_ms;
  rx->slots = slots;
  rx->poll.data = rx;
  rx->owners = 2;
  rx->open = true;
  for (size_t i = 0; i < slots; i++) {
    rx->iov[i].iov_base = bytes + i * SLOT_BYTES;
    rx->iov[i].iov_len = SLOT_BYTES;
    rx->msgs[i].msg_hdr.msg_iov = &rx->iov[i];
    rx->msgs[i].msg_hdr.msg_iovlen = 1;
    rx->msgs[i].msg_hdr.msg_name = &rx->from[i];
  }

  napi_value obj, close_fn, resource_name;
  napi_create_object(env, &obj);
  napi_wrap(env, obj, rx, on_handle_finalized, NULL, NULL);
  napi_create_function(env, "close", NAPI_AUTO_LENGTH, udp_close, NULL, &close_fn);
  napi_set_named_property(env, obj, "close", close_fn);
  set_number(env, obj, "port", ntohs(bound.sin_port));
  set_number(env, obj, "recvBufferBytes", got);
  /* while open, the handle, callbacks and batch arrays are kept alive from here */
  napi_create_reference(env, obj, 1, &rx->self);
  napi_create_reference(env, argv[6], 1, &rx->on_batch);
  napi_create_reference(env, argv[7], 1, &rx->on_error);
  napi_create_reference(env, argv[3], 1, &rx->bytes_ref);
  napi_create_reference(env, argv[4], 1, &rx->meta_ref);
  napi_create_reference(env, argv[5], 1, &rx->time_ref);
  napi_create_string_utf8(env, "HutchUdpRecv", NAPI_AUTO_LENGTH, &resource_name);
  napi_async_init(env, NULL, resource_name, &rx->async);
  napi_add_env_cleanup_hook(env, on_env_cleanup, rx);
  uv_poll_start(&rx->poll, UV_READABLE, on_readable);
  return obj;
}

void register_udp_recv(napi_env env, napi_value exports) { define(env, exports, "udpRecvOpen", udp_open); }
