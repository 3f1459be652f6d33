// NativeConnection: one Redis socket driven by the libuv loop of the thread that creates it
// (main thread or a worker thread), read through a ReplyBuilder.
//
//   JS write(string) --1 crossing per batch--> uv_try_write (uv_write for what is left)
//   uv read (64 KiB) --> hiredis reader --> every complete reply --1 crossing--> onReplies([...])
//
// The JS side (runtime/client/transport-native.ts) batches all commands of a tick into one
// write() and resolves promises from the reply arrays. Events other than replies (connected,
// closed) go through onEvent, which is rare and not on the hot path.
#pragma once

#include <napi.h>
#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "reply_builder.h"

namespace cyredis {

class Connection;

// The libuv handle lives apart from the JS object so it can outlive it while uv_close runs.
struct Socket {
  union {
    uv_handle_t handle;
    uv_stream_t stream;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } h;                       // the stream: TCP or unix socket
  uv_connect_t connectReq;   // the pending connect request
  Connection* owner;         // null once the JS object is gone or detached
  bool tcp;                  // h is a uv_tcp_t (else a uv_pipe_t)
};

class Connection : public Napi::ObjectWrap<Connection> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Connection(const Napi::CallbackInfo& info);
  ~Connection() override;

 private:
  enum class State { Idle, Connecting, Open, Closing, Closed };

  Napi::Value ConnectTcp(const Napi::CallbackInfo& info);
  Napi::Value ConnectUnix(const Napi::CallbackInfo& info);
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value SetNoDelay(const Napi::CallbackInfo& info);
  Napi::Value SetKeepAlive(const Napi::CallbackInfo& info);
  Napi::Value ResetReader(const Napi::CallbackInfo& info);

  bool StartSocket(Napi::Env env, bool tcp);
  int WriteBytes(const char* data, size_t len);
  void Shutdown(const char* reason);
  void Emit(const char* event, napi_value arg);
  void ReleaseCallbacks();
  void OnRead(ssize_t nread, const uv_buf_t* buf);

  static void OnConnect(uv_connect_t* req, int status);
  static void OnAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void OnReadCb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void OnWrite(uv_write_t* req, int status);
  static void OnClosed(uv_handle_t* handle);
  static void OnEnvCleanup(napi_async_cleanup_hook_handle handle, void* arg);

  napi_env env_;
  State state_ = State::Idle;
  std::unique_ptr<ReplyBuilder> builder_;  // parses this socket's replies
  Socket* socket_ = nullptr;               // owned until uv_close completes
  std::vector<char> readBuf_;              // reused for every read
  std::vector<char> writeBuf_;             // reused to encode strings for uv_try_write
  size_t queuedBytes_ = 0;                 // bytes handed to uv_write and not yet written
  Napi::FunctionReference onReplies_;      // (replies: unknown[]) => void
  Napi::FunctionReference onEvent_;        // (event: string, arg?: unknown) => void
  napi_async_context asyncContext_ = nullptr;       // for napi_make_callback
  napi_async_cleanup_hook_handle cleanup_ = nullptr; // closes the socket on env teardown
  bool envGone_ = false;                   // the env is shutting down: never call JS again
  bool hasReason_ = false;                 // the close was caused by an error (closeReason_)
  std::string closeReason_;                // why the socket closed, for the 'close' event
};

}  // namespace cyredis
