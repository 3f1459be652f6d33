#include "connection.h"

#include <cstdlib>
#include <cstring>

#include "addon.h"
#include "reader.h"

namespace cyredis {

namespace {

constexpr size_t kReadBufferSize = 64 * 1024;
constexpr size_t kKeepWriteBuffer = 1024 * 1024;  // larger write buffers are freed after use

// A write that uv_try_write could not finish: the rest of the bytes, owned until OnWrite.
struct WriteReq {
  uv_write_t req;  // libuv request; req.data is unused
  size_t len;      // bytes in data
  char data[1];    // the bytes (allocated past the end of the struct)
};

uv_loop_t* LoopOf(napi_env env) {
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  return loop;
}

}  // namespace

Napi::Function Connection::Define(Napi::Env env) {
  return DefineClass(env, "NativeConnection",
                     {
                         InstanceMethod<&Connection::ConnectTcp>("connectTcp"),
                         InstanceMethod<&Connection::ConnectUnix>("connectUnix"),
                         InstanceMethod<&Connection::Write>("write"),
                         InstanceMethod<&Connection::Close>("close"),
                         InstanceMethod<&Connection::SetNoDelay>("setNoDelay"),
                         InstanceMethod<&Connection::SetKeepAlive>("setKeepAlive"),
                         InstanceMethod<&Connection::ResetReader>("resetReader"),
                     });
}

// new NativeConnection(readerOptions, onReplies, onEvent)
Connection::Connection(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<Connection>(info), env_(info.Env()) {
  Napi::Env env = info.Env();
  if (!env.GetInstanceData<Addon>()->ready) {
    Throw(env, ErrorKind::Error, "cyredis native: setup() must run first");
    return;
  }
  ReaderOptions options{};
  if (!ReadOptions(env, info[0], &options)) return;
  if (!info[1].IsFunction() || !info[2].IsFunction()) {
    Throw(env, ErrorKind::Type, "onReplies and onEvent must be functions");
    return;
  }
  builder_ = std::make_unique<ReplyBuilder>(options);
  onReplies_ = Napi::Persistent(info[1].As<Napi::Function>());
  onEvent_ = Napi::Persistent(info[2].As<Napi::Function>());
  readBuf_.resize(kReadBufferSize);
  napi_value name;
  napi_create_string_utf8(env, "cyredis.NativeConnection", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, nullptr, name, &asyncContext_);
}

Connection::~Connection() {
  if (socket_ != nullptr) {  // only on env teardown: an open socket keeps us referenced
    socket_->owner = nullptr;
    if (!uv_is_closing(&socket_->h.handle)) uv_close(&socket_->h.handle, OnClosed);
    socket_ = nullptr;
  }
  if (asyncContext_ != nullptr && !envGone_) napi_async_destroy(env_, asyncContext_);
}

bool Connection::StartSocket(Napi::Env env, bool tcp) {
  if (state_ != State::Idle) {
    Throw(env, ErrorKind::Error, "connection already used");
    return false;
  }
  socket_ = static_cast<Socket*>(calloc(1, sizeof(Socket)));
  socket_->owner = this;
  socket_->tcp = tcp;
  int rc = tcp ? uv_tcp_init(LoopOf(env), &socket_->h.tcp) : uv_pipe_init(LoopOf(env), &socket_->h.pipe, 0);
  if (rc != 0) {
    free(socket_);
    socket_ = nullptr;
    Throw(env, ErrorKind::Error, uv_strerror(rc));
    return false;
  }
  socket_->h.handle.data = socket_;
  state_ = State::Connecting;
  Ref();  // the JS object stays alive while its socket is open
  napi_add_async_cleanup_hook(env, OnEnvCleanup, this, &cleanup_);
  return true;
}

// connectTcp(ip: string, port: number, family: 4 | 6): the caller resolved the host name.
Napi::Value Connection::ConnectTcp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string ip = info[0].ToString().Utf8Value();
  int port = info[1].ToNumber().Int32Value();
  int family = info[2].ToNumber().Int32Value();
  struct sockaddr_storage addr;
  int rc = family == 6 ? uv_ip6_addr(ip.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr))
                       : uv_ip4_addr(ip.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr));
  if (rc != 0) {
    Throw(env, ErrorKind::Error, std::string("bad address ") + ip + ": " + uv_strerror(rc));
    return env.Undefined();
  }
  if (!StartSocket(env, true)) return env.Undefined();
  rc = uv_tcp_connect(&socket_->connectReq, &socket_->h.tcp, reinterpret_cast<sockaddr*>(&addr),
                      OnConnect);
  if (rc != 0) Shutdown(uv_strerror(rc));
  return env.Undefined();
}

// connectUnix(path: string)
Napi::Value Connection::ConnectUnix(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].ToString().Utf8Value();
  if (!StartSocket(env, false)) return env.Undefined();
  uv_pipe_connect(&socket_->connectReq, &socket_->h.pipe, path.c_str(), OnConnect);
  return env.Undefined();
}

void Connection::OnConnect(uv_connect_t* req, int status) {
  Socket* s = static_cast<Socket*>(req->handle->data);
  Connection* self = s->owner;
  if (self == nullptr || self->state_ != State::Connecting) return;
  if (status < 0) {
    self->Shutdown(uv_strerror(status));
    return;
  }
  self->state_ = State::Open;
  if (s->tcp) uv_tcp_nodelay(&s->h.tcp, 1);
  int rc = uv_read_start(&s->h.stream, OnAlloc, OnReadCb);
  if (rc != 0) {
    self->Shutdown(uv_strerror(rc));
    return;
  }
  napi_handle_scope scope;
  napi_open_handle_scope(self->env_, &scope);
  self->Emit("connect", nullptr);
  napi_close_handle_scope(self->env_, scope);
}

void Connection::OnAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  Connection* self = static_cast<Socket*>(handle->data)->owner;
  if (self == nullptr) {
    *buf = uv_buf_init(nullptr, 0);
    return;
  }
  *buf = uv_buf_init(self->readBuf_.data(), static_cast<unsigned>(self->readBuf_.size()));
}

void Connection::OnReadCb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  Connection* self = static_cast<Socket*>(stream->data)->owner;
  if (self != nullptr) self->OnRead(nread, buf);
}

void Connection::OnRead(ssize_t nread, const uv_buf_t* buf) {
  if (nread == 0 || state_ != State::Open) return;
  if (nread < 0) {
    Shutdown(nread == UV_EOF ? "connection closed by the server" : uv_strerror(static_cast<int>(nread)));
    return;
  }
  napi_handle_scope scope;
  napi_open_handle_scope(env_, &scope);
  const JsClasses& js = Napi::Env(env_).GetInstanceData<Addon>()->js;
  napi_value replies;
  napi_create_array(env_, &replies);
  uint32_t count = 0;
  bool ok = builder_->Feed(env_, js, buf->base, static_cast<size_t>(nread), replies, &count);
  if (ok && count > 0 && !onReplies_.IsEmpty()) {
    napi_value fn, recv = Value(), result;
    napi_get_reference_value(env_, onReplies_.operator napi_ref(), &fn);
    if (napi_make_callback(env_, asyncContext_, recv, fn, 1, &replies, &result) ==
        napi_pending_exception) {
      napi_value err;
      napi_get_and_clear_last_exception(env_, &err);
      napi_fatal_exception(env_, err);
    }
  } else if (!ok) {
    napi_value err;
    if (builder_->failed()) {
      err = builder_->MakeProtocolError(env_, js);
    } else {
      napi_get_and_clear_last_exception(env_, &err);
    }
    Emit("error", err);
    Shutdown("protocol error");
  }
  napi_close_handle_scope(env_, scope);
}

// write(data: string | Buffer, count?: number, buffers?: boolean | runs?: number[]): queued
// bytes after this write (0 when all went out at once), or -1 when the socket is not open.
// count/runs announce the replies the written commands expect (ReplyBuilder::Expect).
Napi::Value Connection::Write(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  napi_value arg = info[0];
  napi_value result;
  if (state_ != State::Open) {
    napi_create_int32(env, -1, &result);
    return Napi::Value(env, result);
  }
  ExpectRuns(info, 1, builder_.get());
  const char* data;
  size_t len;
  int queued;
  if (BytesOf(env, arg, &data, &len)) {
    queued = WriteBytes(data, len);
  } else {
    size_t units = 0;
    if (napi_get_value_string_utf16(env, arg, nullptr, 0, &units) != napi_ok) {
      Throw(info.Env(), ErrorKind::Type, "data must be a string or Buffer");
      return Napi::Value();
    }
    size_t cap = units * 3 + 1;  // UTF-8 needs at most 3 bytes per UTF-16 unit
    if (writeBuf_.size() < cap) writeBuf_.resize(cap);
    napi_get_value_string_utf8(env, arg, writeBuf_.data(), cap, &len);
    queued = WriteBytes(writeBuf_.data(), len);
    // Whatever was not written at once was copied: a huge buffer need not stay allocated.
    if (writeBuf_.size() > kKeepWriteBuffer) std::vector<char>().swap(writeBuf_);
  }
  napi_create_int32(env, queued, &result);
  return Napi::Value(env, result);
}

int Connection::WriteBytes(const char* data, size_t len) {
  size_t done = 0;
  if (queuedBytes_ == 0) {  // nothing queued: try to write it all now, without a copy
    uv_buf_t buf = uv_buf_init(const_cast<char*>(data), static_cast<unsigned>(len));
    int rc = uv_try_write(&socket_->h.stream, &buf, 1);
    if (rc >= 0) {
      done = static_cast<size_t>(rc);
    } else if (rc != UV_EAGAIN && rc != UV_ENOSYS) {
      Shutdown(uv_strerror(rc));
      return -1;
    }
    if (done == len) return 0;
  }
  size_t rest = len - done;
  auto* req = static_cast<WriteReq*>(malloc(sizeof(WriteReq) + rest));
  req->len = rest;
  memcpy(req->data, data + done, rest);
  uv_buf_t buf = uv_buf_init(req->data, static_cast<unsigned>(rest));
  int rc = uv_write(&req->req, &socket_->h.stream, &buf, 1, OnWrite);
  if (rc != 0) {
    free(req);
    Shutdown(uv_strerror(rc));
    return -1;
  }
  queuedBytes_ += rest;
  return static_cast<int>(queuedBytes_ > 0x7fffffff ? 0x7fffffff : queuedBytes_);
}

void Connection::OnWrite(uv_write_t* req, int status) {
  auto* w = reinterpret_cast<WriteReq*>(req);
  Connection* self = static_cast<Socket*>(req->handle->data)->owner;
  if (self != nullptr) {
    self->queuedBytes_ -= w->len;
    if (status < 0 && status != UV_ECANCELED) self->Shutdown(uv_strerror(status));
  }
  free(w);
}

// close(): stop reading and close the socket; the 'close' event follows with a null reason.
Napi::Value Connection::Close(const Napi::CallbackInfo& info) {
  if (socket_ == nullptr) {
    // Never connected (the host name was still being resolved), or already closed: nothing
    // will call back, so the callbacks can go now.
    state_ = State::Closed;
    ReleaseCallbacks();
  } else {
    Shutdown(nullptr);
  }
  return info.Env().Undefined();
}

// The callbacks are closures over the JS transport, which holds this object: held in
// persistent references they would keep each other alive forever. Dropped once the socket is
// gone, so a closed connection can be collected.
void Connection::ReleaseCallbacks() {
  onReplies_.Reset();
  onEvent_.Reset();
}

// Closes the socket; the 'close' event follows from OnClosed with `reason` (null when the JS
// side asked for the close). Never calls into JS itself, so it is safe inside write().
void Connection::Shutdown(const char* reason) {
  if (socket_ == nullptr || state_ == State::Closing || state_ == State::Closed) return;
  state_ = State::Closing;
  hasReason_ = reason != nullptr;
  if (hasReason_) closeReason_ = reason;
  uv_read_stop(&socket_->h.stream);
  uv_close(&socket_->h.handle, OnClosed);
}

void Connection::OnClosed(uv_handle_t* handle) {
  Socket* s = static_cast<Socket*>(handle->data);
  Connection* self = s->owner;
  free(s);
  if (self == nullptr) return;
  self->socket_ = nullptr;
  self->state_ = State::Closed;
  if (self->cleanup_ != nullptr) {
    napi_remove_async_cleanup_hook(self->cleanup_);
    self->cleanup_ = nullptr;
  }
  if (self->envGone_) return;
  napi_handle_scope scope;
  napi_open_handle_scope(self->env_, &scope);
  napi_value reason = nullptr;
  if (self->hasReason_) {
    napi_create_string_utf8(self->env_, self->closeReason_.data(), self->closeReason_.size(), &reason);
  }
  self->Emit("close", reason);
  napi_close_handle_scope(self->env_, scope);
  self->ReleaseCallbacks();
  self->Unref();
}

void Connection::OnEnvCleanup(napi_async_cleanup_hook_handle handle, void* arg) {
  auto* self = static_cast<Connection*>(arg);
  self->envGone_ = true;
  self->cleanup_ = handle;
  if (self->socket_ != nullptr && !uv_is_closing(&self->socket_->h.handle)) {
    self->state_ = State::Closing;
    uv_read_stop(&self->socket_->h.stream);
    uv_close(&self->socket_->h.handle, OnClosed);  // OnClosed removes the hook
  } else if (self->socket_ == nullptr) {
    napi_remove_async_cleanup_hook(handle);
    self->cleanup_ = nullptr;
  }
}

void Connection::Emit(const char* event, napi_value arg) {
  if (envGone_ || onEvent_.IsEmpty()) return;
  napi_value fn, name, result, recv = Value();
  napi_get_reference_value(env_, onEvent_.operator napi_ref(), &fn);
  napi_create_string_utf8(env_, event, NAPI_AUTO_LENGTH, &name);
  napi_value argv[2] = {name, arg};
  if (arg == nullptr) napi_get_undefined(env_, &argv[1]);
  if (napi_make_callback(env_, asyncContext_, recv, fn, 2, argv, &result) ==
      napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env_, &err);
    napi_fatal_exception(env_, err);
  }
}

Napi::Value Connection::SetNoDelay(const Napi::CallbackInfo& info) {
  if (socket_ != nullptr && socket_->tcp) uv_tcp_nodelay(&socket_->h.tcp, info[0].ToBoolean() ? 1 : 0);
  return info.Env().Undefined();
}

// setKeepAlive(enable: boolean, delaySeconds: number)
Napi::Value Connection::SetKeepAlive(const Napi::CallbackInfo& info) {
  if (socket_ != nullptr && socket_->tcp) {
    uv_tcp_keepalive(&socket_->h.tcp, info[0].ToBoolean() ? 1 : 0,
                     info[1].ToNumber().Uint32Value());
  }
  return info.Env().Undefined();
}

Napi::Value Connection::ResetReader(const Napi::CallbackInfo& info) {
  builder_->Reset();
  return info.Env().Undefined();
}

}  // namespace cyredis
