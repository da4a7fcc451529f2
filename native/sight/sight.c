/*
 * sealwatch's file and connection sight: the few Linux calls Node does not expose (inotify with IN_OPEN,
 * openat2 RESOLVE_IN_ROOT, setns for a sock_diag socket in another network namespace) and a readiness poll on
 * a raw descriptor. Everything else (parsing inotify_event and sock_diag messages, bounds, rules) is in
 * TypeScript: sidecar/sources/sight/native.ts is the only file that loads this addon.
 *
 * Conventions: functions that make a system call return a number, -errno on failure (never throw for an
 * errno); wrong argument types throw a TypeError.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/openat2.h>
#include <linux/sock_diag.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CHUNK (64 * 1024)
/* reads per readiness callback before yielding to the event loop (the poll is level-triggered: it comes back) */
#define MAX_READS_PER_WAKEUP 64

#define CHECK(call)                                                                                                   \
  do {                                                                                                                \
    if ((call) != napi_ok) {                                                                                          \
      napi_throw_error(env, NULL, "sight: N-API call failed: " #call);                                               \
      return NULL;                                                                                                    \
    }                                                                                                                 \
  } while (0)

static napi_value make_int(napi_env env, int64_t v) {
  napi_value out;
  if (napi_create_int64(env, v, &out) != napi_ok) return NULL;
  return out;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return -1;
  if (argc < want) {
    napi_throw_type_error(env, NULL, "sight: too few arguments");
    return -1;
  }
  return 0;
}

static int get_i32(napi_env env, napi_value v, int32_t *out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "sight: expected a number");
    return -1;
  }
  return 0;
}

static int get_u32(napi_env env, napi_value v, uint32_t *out) {
  if (napi_get_value_uint32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "sight: expected a number");
    return -1;
  }
  return 0;
}

/*
 * A path argument: a string (UTF-8) or a Buffer (raw bytes: names need not be UTF-8). Returns a NUL-terminated
 * malloc'd copy, or NULL with *err set: -EINVAL for an embedded NUL, -ENAMETOOLONG past PATH_MAX.
 */
static char *get_path(napi_env env, napi_value v, int *err) {
  bool is_buffer = false;
  napi_valuetype type;
  *err = 0;
  if (napi_is_buffer(env, v, &is_buffer) != napi_ok) return NULL;
  if (is_buffer) {
    void *data;
    size_t len;
    if (napi_get_buffer_info(env, v, &data, &len) != napi_ok) return NULL;
    if (len >= 4096) {
      *err = -ENAMETOOLONG;
      return NULL;
    }
    if (memchr(data, 0, len) != NULL) {
      *err = -EINVAL;
      return NULL;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL) {
      *err = -ENOMEM;
      return NULL;
    }
    memcpy(copy, data, len);
    copy[len] = 0;
    return copy;
  }
  if (napi_typeof(env, v, &type) != napi_ok || type != napi_string) {
    napi_throw_type_error(env, NULL, "sight: a path must be a string or a Buffer");
    return NULL;
  }
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  if (len >= 4096) {
    *err = -ENAMETOOLONG;
    return NULL;
  }
  char *copy = malloc(len + 1);
  if (copy == NULL) {
    *err = -ENOMEM;
    return NULL;
  }
  if (napi_get_value_string_utf8(env, v, copy, len + 1, &len) != napi_ok) {
    free(copy);
    return NULL;
  }
  if (strlen(copy) != len) {
    free(copy);
    *err = -EINVAL;
    return NULL;
  }
  return copy;
}

/* inotifyInit(): fd or -errno. Non-blocking, close-on-exec. */
static napi_value inotify_init_js(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  return make_int(env, fd < 0 ? -errno : fd);
}

/*
 * The watch itself: on `path`, or (root != NULL) on `path` resolved inside the directory `root` by the kernel with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): an absolute symlink and `..` stay inside the root, as they would
 * for the process that owns it, and no step can be swapped to lead out of it between resolution and watch, because
 * the watch is added to the descriptor that resolution opened (/proc/self/fd/N), not to a path resolved again.
 * Watch descriptor or -errno.
 */
static int add_watch(int fd, const char *root, const char *path, uint32_t mask) {
  if (root == NULL) {
    int wd = inotify_add_watch(fd, path, mask);
    return wd < 0 ? -errno : wd;
  }
  int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) return -errno;
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  int target = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof how);
  int result;
  if (target < 0) {
    result = -errno;
  } else {
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", target);
    /* the magic link is followed to the inode opened above (IN_DONT_FOLLOW would watch the link) */
    int wd = inotify_add_watch(fd, self, mask & ~(uint32_t)IN_DONT_FOLLOW);
    result = wd < 0 ? -errno : wd;
    close(target);
  }
  close(root_fd);
  return result;
}

/* (fd, [root,] path, mask) of the two watch calls: `in_root` says whether a root comes before the path. */
static napi_value add_watch_call(napi_env env, napi_callback_info info, bool in_root) {
  napi_value argv[4];
  size_t n = in_root ? 4 : 3;
  int32_t fd;
  uint32_t mask;
  int err;
  if (get_args(env, info, n, argv) || get_i32(env, argv[0], &fd) || get_u32(env, argv[n - 1], &mask)) return NULL;
  char *root = NULL;
  if (in_root && (root = get_path(env, argv[1], &err)) == NULL) return err ? make_int(env, err) : NULL;
  char *path = get_path(env, argv[n - 2], &err);
  if (path == NULL) {
    free(root);
    return err ? make_int(env, err) : NULL;
  }
  int result = add_watch(fd, root, path, mask);
  free(root);
  free(path);
  return make_int(env, result);
}

/* inotifyAddWatch(fd, path, mask): watch descriptor or -errno. */
static napi_value inotify_add_watch_js(napi_env env, napi_callback_info info) {
  return add_watch_call(env, info, false);
}

/* inotifyAddWatchInRoot(fd, root, path, mask): watch descriptor or -errno (see add_watch). */
static napi_value inotify_add_watch_in_root_js(napi_env env, napi_callback_info info) {
  return add_watch_call(env, info, true);
}

/* inotifyRmWatch(fd, wd): 0 or -errno. */
static napi_value inotify_rm_watch_js(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd, wd;
  if (get_args(env, info, 2, argv) || get_i32(env, argv[0], &fd) || get_i32(env, argv[1], &wd)) return NULL;
  int r = inotify_rm_watch(fd, wd);
  return make_int(env, r < 0 ? -errno : 0);
}

/* closeFd(fd): 0 or -errno. For descriptors this addon made; stop their poll first. */
static napi_value close_fd_js(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (get_args(env, info, 1, argv) || get_i32(env, argv[0], &fd)) return NULL;
  return make_int(env, close(fd) < 0 ? -errno : 0);
}

/* ---- sockDiagDestroy ---------------------------------------------------------------------------------- */

struct diag_job {
  const char *netns;
  int result;
};

static int open_diag_socket(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return -errno;
  /* a larger queue for bursts of closes; the kernel caps it at net.core.rmem_max (no error past that) */
  int size = 4 * 1024 * 1024;
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  struct sockaddr_nl addr;
  memset(&addr, 0, sizeof addr);
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = (1u << (SKNLGRP_INET_TCP_DESTROY - 1)) | (1u << (SKNLGRP_INET_UDP_DESTROY - 1)) |
                   (1u << (SKNLGRP_INET6_TCP_DESTROY - 1)) | (1u << (SKNLGRP_INET6_UDP_DESTROY - 1));
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    int saved = -errno;
    close(fd);
    return saved;
  }
  return fd;
}

/*
 * Runs on a thread of its own, which joins the target network namespace and ends: the socket keeps the
 * namespace it was made in, and no thread of Node's is ever moved out of its own namespace (so no
 * "move back" step can fail and leave the event loop in the neighbour's network).
 */
static void *diag_in_netns(void *arg) {
  struct diag_job *job = arg;
  int ns = open(job->netns, O_RDONLY | O_CLOEXEC);
  if (ns < 0) {
    job->result = -errno;
    return NULL;
  }
  if (setns(ns, CLONE_NEWNET) < 0) {
    job->result = -errno;
    close(ns);
    return NULL;
  }
  close(ns);
  job->result = open_diag_socket();
  return NULL;
}

/*
 * sockDiagDestroy(netnsPath | null): a NETLINK_SOCK_DIAG socket (non-blocking, close-on-exec) subscribed to the
 * TCP/UDP x IPv4/IPv6 destroy groups, in the network namespace of `netnsPath` (e.g. /proc/<pid>/ns/net; joining
 * it needs CAP_SYS_ADMIN) or in our own when null. fd or -errno. Read it with pollFd; close with closeFd.
 */
static napi_value sock_diag_destroy_js(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  napi_valuetype type;
  int err;
  if (get_args(env, info, 1, argv)) return NULL;
  CHECK(napi_typeof(env, argv[0], &type));
  if (type == napi_null || type == napi_undefined) return make_int(env, open_diag_socket());
  char *path = get_path(env, argv[0], &err);
  if (path == NULL) return err ? make_int(env, err) : NULL;
  struct diag_job job = {path, -EINVAL};
  pthread_t thread;
  int r = pthread_create(&thread, NULL, diag_in_netns, &job);
  if (r != 0) {
    free(path);
    return make_int(env, -r);
  }
  pthread_join(thread, NULL);
  free(path);
  return make_int(env, job.result);
}

/* ---- pollFd ---------------------------------------------------------------------------------------------- */

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_ref self;
  napi_async_context context;
  int fd;
  int closing;
  char buffer[CHUNK];
} poller_t;

static void poller_freed(uv_handle_t *handle) {
  free(handle->data);
}

static void poller_teardown(void *data) {
  /* Node is tearing this environment down (a worker ends) with the poll still open: release the libuv side */
  poller_t *p = data;
  p->closing = 1;
  uv_poll_stop(&p->poll);
  uv_close((uv_handle_t *)&p->poll, poller_freed);
}

static void poller_close(poller_t *p) {
  if (p->closing) return;
  p->closing = 1;
  napi_remove_env_cleanup_hook(p->env, poller_teardown, p);
  uv_poll_stop(&p->poll);
  napi_delete_reference(p->env, p->callback);
  napi_delete_reference(p->env, p->self);
  napi_async_destroy(p->env, p->context);
  uv_close((uv_handle_t *)&p->poll, poller_freed);
}

/* calls cb(err, buf); returns -1 when the callback threw */
static int deliver(poller_t *p, napi_value error, napi_value buffer) {
  napi_env env = p->env;
  napi_value cb, recv, argv[2], result;
  if (napi_get_reference_value(env, p->callback, &cb) != napi_ok || cb == NULL) return -1;
  napi_get_global(env, &recv); /* napi_make_callback wants an object as `this` */
  napi_get_null(env, &argv[0]);
  if (error != NULL) argv[0] = error;
  if (buffer != NULL) {
    argv[1] = buffer;
  } else {
    napi_get_undefined(env, &argv[1]);
  }
  if (napi_make_callback(env, p->context, recv, cb, 2, argv, &result) != napi_ok) {
    /* the callback threw: hand it to Node as an uncaught exception, as a throwing 'data' listener would be */
    bool pending = false;
    napi_value exception;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending &&
        napi_get_and_clear_last_exception(env, &exception) == napi_ok) {
      napi_fatal_exception(env, exception);
    }
    return -1;
  }
  return 0;
}

static napi_value errno_error(napi_env env, int code, const char *what) {
  napi_value msg, codev, error;
  char text[160];
  snprintf(text, sizeof text, "%s: %s", what, strerror(code));
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  char name[32];
  const char *known = code == ENOBUFS ? "ENOBUFS" : code == EBADF ? "EBADF" : NULL;
  if (known == NULL) {
    snprintf(name, sizeof name, "E%d", code);
    known = name;
  }
  napi_create_string_utf8(env, known, NAPI_AUTO_LENGTH, &codev);
  napi_create_error(env, codev, msg, &error);
  napi_value errnov;
  napi_create_int32(env, -code, &errnov);
  napi_set_named_property(env, error, "errno", errnov);
  return error;
}

static void on_ready(uv_poll_t *handle, int status, int events) {
  (void)events;
  poller_t *p = handle->data;
  if (p->closing) return;
  napi_env env = p->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  if (status < 0) {
    deliver(p, errno_error(env, -status, "poll"), NULL);
    napi_close_handle_scope(env, scope);
    return;
  }
  for (int i = 0; i < MAX_READS_PER_WAKEUP && !p->closing; i++) {
    ssize_t n = read(p->fd, p->buffer, CHUNK);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      /* ENOBUFS: a netlink socket's queue overflowed (messages lost); the socket still works: report, go on */
      int code = errno;
      if (deliver(p, errno_error(env, code, "read"), NULL) < 0) break;
      if (code != ENOBUFS) break;
      continue;
    }
    if (n == 0) break;
    napi_value chunk;
    if (napi_create_buffer_copy(env, (size_t)n, p->buffer, NULL, &chunk) != napi_ok) break;
    if (deliver(p, NULL, chunk) < 0) break;
  }
  napi_close_handle_scope(env, scope);
}

static napi_value poller_close_js(napi_env env, napi_callback_info info) {
  void *data;
  napi_value self;
  size_t argc = 0;
  CHECK(napi_get_cb_info(env, info, &argc, NULL, &self, &data));
  poller_t *p = NULL;
  if (napi_unwrap(env, self, (void **)&p) == napi_ok && p != NULL) {
    napi_remove_wrap(env, self, NULL);
    poller_close(p);
  }
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  return undefined;
}

/*
 * pollFd(fd, cb): watches `fd` for readability on Node's event loop; each time it is readable, reads it
 * until EAGAIN (at most 64 reads of 64 KiB per wakeup) and calls cb(null, chunk) with each chunk as a new
 * Buffer; cb(err) on a read or poll error (err.code, err.errno; ENOBUFS = a netlink queue overflowed, reading
 * goes on). Returns a handle { close() }: after close() no callback runs; close the fd itself afterwards.
 */
static napi_value poll_fd_js(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  napi_valuetype type;
  if (get_args(env, info, 2, argv) || get_i32(env, argv[0], &fd)) return NULL;
  CHECK(napi_typeof(env, argv[1], &type));
  if (type != napi_function) {
    napi_throw_type_error(env, NULL, "sight: pollFd needs a callback");
    return NULL;
  }
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  poller_t *p = calloc(1, sizeof *p);
  if (p == NULL) {
    napi_throw_error(env, "ENOMEM", "sight: out of memory");
    return NULL;
  }
  p->env = env;
  p->fd = fd;
  int r = uv_poll_init(loop, &p->poll, fd);
  if (r < 0) {
    free(p);
    napi_throw_error(env, uv_err_name(r), "sight: uv_poll_init failed (not a pollable descriptor?)");
    return NULL;
  }
  p->poll.data = p;
  napi_value handle, close_fn, name;
  CHECK(napi_create_object(env, &handle));
  CHECK(napi_create_function(env, "close", NAPI_AUTO_LENGTH, poller_close_js, NULL, &close_fn));
  CHECK(napi_set_named_property(env, handle, "close", close_fn));
  CHECK(napi_create_reference(env, argv[1], 1, &p->callback));
  CHECK(napi_create_string_utf8(env, "sealwatch:sight-poll", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, NULL, name, &p->context));
  /* the handle is held (a strong reference) until close(): a poll never stops because its handle was dropped */
  CHECK(napi_wrap(env, handle, p, NULL, NULL, NULL));
  CHECK(napi_create_reference(env, handle, 1, &p->self));
  CHECK(napi_add_env_cleanup_hook(env, poller_teardown, p));
  r = uv_poll_start(&p->poll, UV_READABLE, on_ready);
  if (r < 0) {
    napi_value undefined;
    napi_remove_wrap(env, handle, NULL);
    poller_close(p);
    napi_get_undefined(env, &undefined);
    napi_throw_error(env, uv_err_name(r), "sight: uv_poll_start failed");
    return NULL;
  }
  return handle;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"inotifyInit", NULL, inotify_init_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"inotifyAddWatch", NULL, inotify_add_watch_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"inotifyAddWatchInRoot", NULL, inotify_add_watch_in_root_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"inotifyRmWatch", NULL, inotify_rm_watch_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"closeFd", NULL, close_fd_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sockDiagDestroy", NULL, sock_diag_destroy_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pollFd", NULL, poll_fd_js, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
