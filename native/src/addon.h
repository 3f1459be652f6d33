// The cyredis native addon: per-env state. The addon is context-aware: every piece of state
// lives in this instance (one per main thread or worker thread), none in statics.
#pragma once

#include <napi.h>

#include <string>

#include "reply_builder.h"

namespace cyredis {

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports);
  ~Addon();

  JsClasses js{};                   // set by setup(); used by every reader of this env
  Napi::FunctionReference reader;   // the NativeReader class
  bool ready = false;               // setup() was called

 private:
  Napi::Value Setup(const Napi::CallbackInfo& info);
  Napi::Value EncodeCommand(const Napi::CallbackInfo& info);
  void DeleteRefs(napi_env env);
};

enum class ErrorKind { Error, Type, Range };

// Throws a JS error. Unlike Napi::Error::ThrowAsJavaScriptException (which aborts the process
// when the throw fails), a failure is ignored: while a worker thread is being terminated every
// N-API call fails, and the thread is going away anyway.
void Throw(napi_env env, ErrorKind kind, const std::string& message);

// Reads ReaderOptions from a JS object; throws (and returns false) on a bad field.
bool ReadOptions(Napi::Env env, Napi::Value value, ReaderOptions* out);

}  // namespace cyredis
