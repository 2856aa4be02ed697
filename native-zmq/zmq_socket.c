// ZeroMQ sockets for Hutch's data path, on the system's libzmq (Debian libzmq3-dev), polled by Node's event loop.
//
// Why not only zeromq.js: it reads one message per call and reports every received frame to V8 as external
// memory on top of V8's own ArrayBuffer accounting, so 64 KiB pages set off a full mark-compact every ~64 MB
// (30-40 a second at 2 GB/s). Here a readable event drains up to MAX_BATCH messages into one JavaScript call,
// large frames stay in libzmq's buffer (V8 counts them once and young ones die in scavenges), and sends go out
// in one call per message. The wire is plain ZMTP: pyzmq and zeromq.js peers talk to it unchanged.
//
// Ownership: a socket struct is shared by the JS handle (its finalizer), the poll handle and the idle handle
// (their close callbacks); the last owner frees it. Frames sent without copying hold a napi reference that
// libzmq's I/O thread hands back on a mutex-guarded list; the JS thread deletes them at its next send, or from
// a timer while any are out (no wake-up of the loop per frame).
#include <errno.h>
#include <node_api.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include <zmq.h>

#include "hutch_native.h"

/* `call` again while a signal interrupted it (EINTR: Node's CPU profiler, a child exiting); then its result. */
#define NO_EINTR(call)                                                                                             \
  __extension__({                                                                                                  \
    int rc_;                                                                                                       \
    while ((rc_ = (call)) == -1 && zmq_errno() == EINTR) {                                                         \
    }                                                                                                              \
    rc_;                                                                                                           \
  })

/* Messages read per JavaScript call; more wait for the next turn of the loop (an idle handle brings it). */
#define MAX_BATCH 256
/* ... and up to about this many bytes (a batch ends after the message that crosses it). */
#define BATCH_BYTES (4u << 20)
/* Frames up to this size are copied (cheaper than a reference and a finalizer); larger ones are not. */
#define COPY_MAX 8192
/* Frames in one message sent (Hutch's documents have a topic, a header and one frame per array). */
#define MAX_FRAMES 64

struct env_state;

typedef struct trash_item {
  napi_ref ref;
  struct env_state *st;
  struct trash_item *next;
} trash_item;

/* How often released frames are collected while some are out and nothing is sent, in ms. */
#define TRASH_MS 20

/* Per Node environment (the main thread and each worker): one ZeroMQ context and the list of released frames. */
typedef struct env_state {
  napi_env env;
  void *ctx;
  uv_timer_t trash_timer;
  pthread_mutex_t mu;
  trash_item *trash; /* released by libzmq, references not yet deleted */
  size_t lent;       /* frames sent without copying whose references are not yet deleted (JS thread only) */
  bool timing;
} env_state;

typedef struct {
  env_state *st;
  void *zs;
  uv_poll_t poll;
  uv_idle_t idle;
  int owners;
  bool open, reading, want_write, polling, idling, in_callback, destroy_async;
  napi_ref self, on_messages, on_writable, on_error;
  napi_async_context async;
} zsock;

/* ---- frames released by libzmq (any thread) ---- */

static void on_frame_sent(void *data, void *hint) {
  (void)data;
  trash_item *t = hint;
  env_state *st = t->st;
  pthread_mutex_lock(&st->mu);
  t->next = st->trash;
  st->trash = t;
  pthread_mutex_unlock(&st->mu);
}

/* Deletes the references of frames libzmq is done with (JS thread); the timer stops once none are out. */
static void empty_trash(env_state *st, bool delete_refs) {
  pthread_mutex_lock(&st->mu);
  trash_item *t = st->trash;
  st->trash = NULL;
  pthread_mutex_unlock(&st->mu);
  while (t) {
    trash_item *next = t->next;
    if (delete_refs) napi_delete_reference(st->env, t->ref);
    free(t);
    st->lent--;
    t = next;
  }
  if (st->lent == 0 && st->timing) {
    uv_timer_stop(&st->trash_timer);
    st->timing = false;
  }
}

static void on_trash_timer(uv_timer_t *h) { empty_trash(h->data, true); }

/* A frame went out without copying: its reference is deleted once libzmq releases it. */
static void lend(env_state *st) {
  st->lent++;
  if (!st->timing) {
    uv_timer_start(&st->trash_timer, on_trash_timer, TRASH_MS, TRASH_MS);
    st->timing = true;
  }
}

/* ---- errors ---- */

static napi_value make_error(napi_env env, const char *code, const char *what, int e) {
  char text[256];
  if (e) snprintf(text, sizeof text, "%s: %s", what, zmq_strerror(e));
  else snprintf(text, sizeof text, "%s", what);
  napi_value msg, c, err, errno_name;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
  napi_create_error(env, c, msg, &err);
  if (e == EADDRINUSE) {
    napi_create_string_utf8(env, "EADDRINUSE", NAPI_AUTO_LENGTH, &errno_name);
    napi_set_named_property(env, err, "code", errno_name);
  }
  return err;
}

static napi_value throw_zmq(napi_env env, const char *what) {
  napi_throw(env, make_error(env, "HUTCH_ERR_IO", what, zmq_errno()));
  return NULL;
}

/* ---- lifetime ---- */

static void release(zsock *s) {
  if (--s->owners > 0) return;
  free(s);
}

static void on_uv_closed(uv_handle_t *h) { release(h->data); }

/* Closes the ZeroMQ socket (its linger applies) and the loop handles. From JS, or at env teardown. */
static void stop(zsock *s, bool from_js) {
  if (!s->open) return;
  s->open = false;
  s->reading = s->want_write = false;
  uv_close((uv_handle_t *)&s->poll, on_uv_closed);
  uv_close((uv_handle_t *)&s->idle, on_uv_closed);
  zmq_close(s->zs);
  s->zs = NULL;
  if (!from_js) return;
  napi_env env = s->st->env;
  napi_ref *refs[] = {&s->self, &s->on_messages, &s->on_writable, &s->on_error};
  for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
    if (*refs[i]) napi_delete_reference(env, *refs[i]);
    *refs[i] = NULL;
  }
  if (s->in_callback) s->destroy_async = true;
  else napi_async_destroy(env, s->async);
}

static void on_sock_cleanup(void *arg) { stop(arg, false); }

/* ---- calls into JavaScript ---- */

/* fn(arg) as a top-level callback (microtasks run after it); an exception goes to onError, or is printed. */
static void call(zsock *s, napi_ref *fn_ref, size_t argc, napi_value *argv) {
  napi_env env = s->st->env;
  napi_value fn, recv, result;
  if (!*fn_ref || napi_get_reference_value(env, *fn_ref, &fn) != napi_ok || napi_get_global(env, &recv) != napi_ok)
    return;
  s->in_callback = true;
  napi_status st = napi_make_callback(env, s->async, recv, fn, argc, argv, &result);
  s->in_callback = false;
  if (s->destroy_async) {
    s->destroy_async = false;
    napi_async_destroy(env, s->async);
  }
  bool pending = false;
  if (st != napi_ok) napi_is_exception_pending(env, &pending);
  if (!pending) return;
  napi_value exc;
  napi_get_and_clear_last_exception(env, &exc);
  if (fn_ref != &s->on_error && s->open) {
    call(s, &s->on_error, 1, &exc);
  } else {
    fprintf(stderr, "hutch zmq: an exception thrown in onError was dropped\n");
  }
}

/* ---- polling: ZMQ_FD signals that ZMQ_EVENTS may have changed; it is edge-like, so state is re-read ---- */

static void on_poll(uv_poll_t *h, int status, int events);
static void on_idle(uv_idle_t *h);

static int zevents(zsock *s) {
  int ev = 0;
  size_t len = sizeof ev;
  if (!s->open) return 0;
  int rc = NO_EINTR(zmq_getsockopt(s->zs, ZMQ_EVENTS, &ev, &len));
  return rc == 0 ? ev : 0;
}

/* Polls while someone waits; keeps the idle handle running while work is ready now (events already seen). */
static void update(zsock *s) {
  if (!s->open) return;
  bool wait = s->reading || s->want_write;
  if (wait && !s->polling) uv_poll_start(&s->poll, UV_READABLE, on_poll);
  if (!wait && s->polling) uv_poll_stop(&s->poll);
  s->polling = wait;
  int ev = wait ? zevents(s) : 0;
  bool ready = (s->reading && (ev & ZMQ_POLLIN)) || (s->want_write && (ev & ZMQ_POLLOUT));
  if (ready && !s->idling) uv_idle_start(&s->idle, on_idle);
  if (!ready && s->idling) uv_idle_stop(&s->idle);
  s->idling = ready;
}

static void msg_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  zmq_msg_close(hint);
  free(hint);
}

/* One received frame as a Buffer: copied when small, else lent from libzmq until the Buffer is collected. */
static bool frame_value(napi_env env, zmq_msg_t *m, napi_value *out) {
  size_t n = zmq_msg_size(m);
  if (n <= COPY_MAX) {
    void *copy;
    bool ok = napi_create_buffer_copy(env, n, zmq_msg_data(m), &copy, out) == napi_ok;
    zmq_msg_close(m);
    return ok;
  }
  zmq_msg_t *kept = malloc(sizeof *kept);
  if (!kept) {
    zmq_msg_close(m);
    return false;
  }
  zmq_msg_init(kept);
  zmq_msg_move(kept, m); /* the data stays where libzmq put it */
  if (napi_create_external_buffer(env, n, zmq_msg_data(kept), msg_finalize, kept, out) != napi_ok) {
    zmq_msg_close(kept);
    free(kept);
    return false;
  }
  return true;
}

/* Reads up to MAX_BATCH whole messages and hands them to onMessages as one array of frame arrays. */
static void drain(zsock *s) {
  napi_env env = s->st->env;
  napi_value batch;
  if (napi_create_array(env, &batch) != napi_ok) return;
  uint32_t n = 0;
  size_t bytes = 0;
  int err = 0;
  while (s->open && n < MAX_BATCH && bytes < BATCH_BYTES) {
    napi_value frames;
    napi_create_array(env, &frames);
    uint32_t k = 0;
    for (;;) {
      zmq_msg_t m;
      zmq_msg_init(&m);
      /* after the first frame the rest of the message is already here: DONTWAIT never splits a message; a
         signal (EINTR: Node's profiler, a child exiting) is retried, so a message is never cut in two */
      int rc = NO_EINTR(zmq_msg_recv(&m, s->zs, ZMQ_DONTWAIT));
      if (rc < 0) {
        int e = zmq_errno();
        zmq_msg_close(&m);
        if (e != EAGAIN || k > 0) err = e;
        break;
      }
      int more = zmq_msg_more(&m);
      bytes += zmq_msg_size(&m);
      napi_value buf;
      if (!frame_value(env, &m, &buf)) {
        err = ENOMEM;
        break;
      }
      napi_set_element(env, frames, k++, buf);
      if (!more) break;
    }
    if (k == 0 || err) break;
    napi_set_element(env, batch, n++, frames);
  }
  if (n > 0) call(s, &s->on_messages, 1, &batch);
  if (err && s->open) {
    napi_value e = make_error(env, "HUTCH_ERR_IO", "ZeroMQ receive failed", err);
    call(s, &s->on_error, 1, &e);
  }
}

static void process(zsock *s) {
  napi_env env = s->st->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  s->owners++; /* a callback may close the socket: keep the struct until this returns */
  int ev = zevents(s);
  if (s->want_write && (ev & ZMQ_POLLOUT)) {
    s->want_write = false;
    call(s, &s->on_writable, 0, NULL);
  }
  if (s->reading && (ev & ZMQ_POLLIN)) drain(s);
  update(s);
  napi_close_handle_scope(env, scope);
  release(s);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  (void)events;
  zsock *s = h->data;
  if (status < 0 && s->open) {
    napi_handle_scope scope;
    napi_open_handle_scope(s->st->env, &scope);
    napi_value e = make_error(s->st->env, "HUTCH_ERR_IO", "ZeroMQ socket poll failed", 0);
    call(s, &s->on_error, 1, &e);
    napi_close_handle_scope(s->st->env, scope);
    return;
  }
  process(s);
}

static void on_idle(uv_idle_t *h) { process(h->data); }

/* ---- methods of a socket handle ---- */

static zsock *this_sock(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  void *p = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok || napi_unwrap(env, self, &p) != napi_ok)
    return NULL;
  return p;
}

/* A method's one string argument into `buf`; NULL (with a RangeError thrown) when it is not one. */
static zsock *string_arg(napi_env env, napi_callback_info info, char *buf, size_t size, size_t *len,
                         const char *usage) {
  size_t argc = 1;
  napi_value argv[1];
  zsock *s = this_sock(env, info, &argc, argv);
  if (!s || argc != 1 || napi_get_value_string_utf8(env, argv[0], buf, size, len) != napi_ok || *len >= size - 1) {
    fail(env, usage);
    return NULL;
  }
  return s;
}

static napi_value closed_error(napi_env env) {
  napi_throw(env, make_error(env, "HUTCH_ERR_CLOSED", "the ZeroMQ socket is closed", 0));
  return NULL;
}

/* bind(endpoint) -> the endpoint bound (a port of 0 resolved). Throws with code EADDRINUSE when taken. */
static napi_value m_bind(napi_env env, napi_callback_info info) {
  char ep[512], last[512];
  size_t len;
  zsock *s = string_arg(env, info, ep, sizeof ep, &len, "bind takes an endpoint string (up to 510 bytes)");
  if (!s) return NULL;
  if (!s->open) return closed_error(env);
  int rc = NO_EINTR(zmq_bind(s->zs, ep));
  if (rc != 0) {
    int e = zmq_errno();
    char what[600];
    snprintf(what, sizeof what, "bind %s", ep);
    napi_throw(env, make_error(env, "HUTCH_ERR_IO", what, e));
    return NULL;
  }
  size_t ll = sizeof last;
  if (zmq_getsockopt(s->zs, ZMQ_LAST_ENDPOINT, last, &ll) != 0) return throw_zmq(env, "ZMQ_LAST_ENDPOINT");
  napi_value out;
  napi_create_string_utf8(env, last, NAPI_AUTO_LENGTH, &out);
  return out;
}

static napi_value m_connect(napi_env env, napi_callback_info info) {
  char ep[512];
  size_t len;
  zsock *s = string_arg(env, info, ep, sizeof ep, &len, "connect takes an endpoint string (up to 510 bytes)");
  if (!s) return NULL;
  if (!s->open) return closed_error(env);
  int rc = NO_EINTR(zmq_connect(s->zs, ep));
  if (rc != 0) {
    char what[600];
    snprintf(what, sizeof what, "connect %s", ep);
    return throw_zmq(env, what);
  }
  return NULL;
}

/* The bytes of a Buffer, TypedArray or DataView frame. */
static bool frame_bytes(napi_env env, napi_value v, void **data, size_t *len) {
  bool is;
  if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
    napi_typedarray_type t;
    size_t count;
    if (napi_get_typedarray_info(env, v, &t, &count, data, NULL, NULL) != napi_ok) return false;
    static const size_t width[] = {1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8};
    *len = count * ((size_t)t < sizeof width / sizeof width[0] ? width[t] : 1);
    return true;
  }
  if (napi_is_dataview(env, v, &is) == napi_ok && is)
    return napi_get_dataview_info(env, v, len, data, NULL, NULL) == napi_ok;
  return false;
}

/*
 * send(frames) -> true when the whole message was queued, false when the high-water mark refused its first frame
 * (nothing was sent: wait for onWritable and call again). Frames over COPY_MAX are sent without copying: never
 * change a frame after sending it.
 */
static napi_value m_send(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  uint32_t count = 0;
  bool is_array = false;
  zsock *s = this_sock(env, info, &argc, argv);
  if (!s || argc != 1 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[0], &count) != napi_ok || count == 0)
    return fail(env, "send takes a non-empty array of Buffers");
  if (!s->open) return closed_error(env);
  if (s->st->lent) empty_trash(s->st, true);
  if (count > MAX_FRAMES) return fail(env, "send: more than 64 frames in one message");
  napi_value values[MAX_FRAMES];
  void *data[MAX_FRAMES];
  size_t len[MAX_FRAMES];
  for (uint32_t i = 0; i < count; i++) /* every frame is checked before the first is sent */
    if (napi_get_element(env, argv[0], i, &values[i]) != napi_ok || !frame_bytes(env, values[i], &data[i], &len[i]))
      return fail(env, "send: every frame must be a Buffer or a typed array");
  for (uint32_t i = 0; i < count; i++) {
    zmq_msg_t m;
    if (len[i] > COPY_MAX) {
      trash_item *t = malloc(sizeof *t);
      if (!t || napi_create_reference(env, values[i], 1, &t->ref) != napi_ok) {
        free(t);
        return fail(env, "send: out of memory");
      }
      t->st = s->st;
      lend(s->st);
      zmq_msg_init_data(&m, data[i], len[i], on_frame_sent, t);
    } else {
      zmq_msg_init_size(&m, len[i]);
      if (len[i]) memcpy(zmq_msg_data(&m), data[i], len[i]);
    }
    int flags = ZMQ_DONTWAIT | (i + 1 < count ? ZMQ_SNDMORE : 0);
    int rc = NO_EINTR(zmq_msg_send(&m, s->zs, flags));
    if (rc < 0) {
      int e = zmq_errno();
      zmq_msg_close(&m);
      if (e == EAGAIN && i == 0) {
        napi_value f;
        napi_get_boolean(env, false, &f);
        return f;
      }
      napi_throw(env, make_error(env, "HUTCH_ERR_IO", i == 0 ? "ZeroMQ send failed" : "ZeroMQ send failed mid-message", e));
      return NULL;
    }
  }
  napi_value t;
  napi_get_boolean(env, true, &t);
  return t;
}

/* subscribe(prefix): a SUB socket receives messages whose first frame starts with `prefix` (UTF-8). */
static napi_value m_subscribe(napi_env env, napi_callback_info info) {
  char prefix[1024];
  size_t len;
  zsock *s = string_arg(env, info, prefix, sizeof prefix, &len, "subscribe takes a prefix string (up to 1022 bytes)");
  if (!s) return NULL;
  if (!s->open) return closed_error(env);
  int rc = NO_EINTR(zmq_setsockopt(s->zs, ZMQ_SUBSCRIBE, prefix, len));
  if (rc != 0) return throw_zmq(env, "subscribe");
  return NULL;
}

/* read(on): starts or stops handing messages to onMessages (stopped, the high-water marks push back). */
static napi_value m_read(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  bool on;
  zsock *s = this_sock(env, info, &argc, argv);
  if (!s || argc != 1 || napi_get_value_bool(env, argv[0], &on) != napi_ok) return fail(env, "read takes a boolean");
  if (!s->open) return NULL;
  s->reading = on;
  update(s);
  return NULL;
}

/* watchWritable(): onWritable is called once, when a send may succeed. */
static napi_value m_watch_writable(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  zsock *s = this_sock(env, info, &argc, NULL);
  if (!s) return fail(env, "watchWritable must be called on a socket handle");
  if (!s->open) return closed_error(env);
  s->want_write = true;
  update(s);
  return NULL;
}

static napi_value m_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  zsock *s = this_sock(env, info, &argc, NULL);
  if (!s) return fail(env, "close must be called on a socket handle");
  if (s->open) {
    napi_remove_env_cleanup_hook(env, on_sock_cleanup, s);
    stop(s, true);
  }
  return NULL;
}

static void on_handle_finalized(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  release(data);
}

static const int TYPES[] = {ZMQ_PUSH, ZMQ_PULL, ZMQ_PUB, ZMQ_SUB};
static const char *TYPE_NAMES[] = {"push", "pull", "pub", "sub"};

/*
 * zmqSocket(type: "push" | "pull" | "pub" | "sub", sendHighWaterMark, receiveHighWaterMark, lingerMs,
 *           onMessages(batch: Buffer[][]), onWritable(), onError(err))
 *   -> { bind(endpoint): string, connect(endpoint), send(frames): boolean, read(on), subscribe(prefix),
 *        watchWritable(), close() }
 */
static napi_value zmq_socket_open(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  char type[8];
  size_t tl;
  int32_t sndhwm, rcvhwm, linger;
  napi_valuetype t4, t5, t6;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 7 ||
      napi_get_value_string_utf8(env, argv[0], type, sizeof type, &tl) != napi_ok ||
      napi_get_value_int32(env, argv[1], &sndhwm) != napi_ok ||
      napi_get_value_int32(env, argv[2], &rcvhwm) != napi_ok ||
      napi_get_value_int32(env, argv[3], &linger) != napi_ok || napi_typeof(env, argv[4], &t4) != napi_ok ||
      napi_typeof(env, argv[5], &t5) != napi_ok || napi_typeof(env, argv[6], &t6) != napi_ok ||
      t4 != napi_function || t5 != napi_function || t6 != napi_function)
    return fail(env, "zmqSocket takes (type, sendHighWaterMark, receiveHighWaterMark, lingerMs, onMessages, "
                     "onWritable, onError)");
  int zt = -1;
  for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
    if (strcmp(type, TYPE_NAMES[i]) == 0) zt = TYPES[i];
  if (zt < 0) return fail(env, "zmqSocket: type must be push, pull, pub or sub");
  if (sndhwm < 0 || rcvhwm < 0 || linger < -1) return fail(env, "zmqSocket: negative high-water mark or linger");
  env_state *st = NULL;
  if (napi_get_instance_data(env, (void **)&st) != napi_ok || !st) return fail(env, "zmqSocket: addon not set up");
  void *zs = zmq_socket(st->ctx, zt);
  if (!zs) return throw_zmq(env, "zmq_socket");
  zmq_setsockopt(zs, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm);
  zmq_setsockopt(zs, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm);
  zmq_setsockopt(zs, ZMQ_LINGER, &linger, sizeof linger);
  int fd;
  size_t fl = sizeof fd;
  uv_loop_t *loop = NULL;
  zsock *s = calloc(1, sizeof *s);
  if (!s || zmq_getsockopt(zs, ZMQ_FD, &fd, &fl) != 0 || napi_get_uv_event_loop(env, &loop) != napi_ok ||
      uv_poll_init_socket(loop, &s->poll, fd) != 0) {
    free(s);
    zmq_close(zs);
    return fail(env, "zmqSocket: out of memory or no event loop");
  }
  uv_idle_init(loop, &s->idle);
  s->st = st;
  s->zs = zs;
  s->poll.data = s->idle.data = s;
  s->owners = 3; /* the JS handle, the poll handle, the idle handle */
  s->open = true;

  napi_value obj, resource_name;
  napi_create_object(env, &obj);
  napi_property_descriptor methods[] = {
      {"bind", NULL, m_bind, NULL, NULL, NULL, napi_default, NULL},
      {"connect", NULL, m_connect, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, m_send, NULL, NULL, NULL, napi_default, NULL},
      {"read", NULL, m_read, NULL, NULL, NULL, napi_default, NULL},
      {"subscribe", NULL, m_subscribe, NULL, NULL, NULL, napi_default, NULL},
      {"watchWritable", NULL, m_watch_writable, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, m_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, obj, sizeof methods / sizeof methods[0], methods);
  napi_wrap(env, obj, s, on_handle_finalized, NULL, NULL);
  /* while open, the handle and its callbacks are kept alive from here (a socket is closed explicitly) */
  napi_create_reference(env, obj, 1, &s->self);
  napi_create_reference(env, argv[4], 1, &s->on_messages);
  napi_create_reference(env, argv[5], 1, &s->on_writable);
  napi_create_reference(env, argv[6], 1, &s->on_error);
  napi_create_string_utf8(env, "HutchZmqSocket", NAPI_AUTO_LENGTH, &resource_name);
  napi_async_init(env, NULL, resource_name, &s->async);
  napi_add_env_cleanup_hook(env, on_sock_cleanup, s);
  return obj;
}

/* zmqVersion() -> "4.3.4": the libzmq this addon runs on. */
static napi_value zmq_version_js(napi_env env, napi_callback_info info) {
  (void)info;
  int a, b, c;
  zmq_version(&a, &b, &c);
  char v[32];
  snprintf(v, sizeof v, "%d.%d.%d", a, b, c);
  napi_value out;
  napi_create_string_utf8(env, v, NAPI_AUTO_LENGTH, &out);
  return out;
}

static void on_timer_closed(uv_handle_t *h) {
  env_state *st = h->data;
  pthread_mutex_destroy(&st->mu);
  free(st);
}

/*
 * Env teardown (after every socket's own cleanup hook, which ran first: hooks run in reverse order): the context
 * is terminated, which waits out the sockets' linger, and the state goes with the timer handle.
 */
static void on_env_teardown(void *arg) {
  env_state *st = arg;
  zmq_ctx_term(st->ctx); /* every frame is released by now */
  empty_trash(st, false);
  uv_close((uv_handle_t *)&st->trash_timer, on_timer_closed);
}

static napi_value init(napi_env env, napi_value exports) {
  env_state *st = calloc(1, sizeof *st);
  uv_loop_t *loop = NULL;
  if (!st || napi_get_uv_event_loop(env, &loop) != napi_ok) {
    free(st);
    return fail(env, "hutch_zmq: out of memory");
  }
  st->env = env;
  st->ctx = zmq_ctx_new();
  pthread_mutex_init(&st->mu, NULL);
  uv_timer_init(loop, &st->trash_timer);
  st->trash_timer.data = st;
  uv_unref((uv_handle_t *)&st->trash_timer);
  napi_set_instance_data(env, st, NULL, NULL);
  napi_add_env_cleanup_hook(env, on_env_teardown, st);
  define(env, exports, "zmqSocket", zmq_socket_open);
  define(env, exports, "zmqVersion", zmq_version_js);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
