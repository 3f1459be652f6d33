// The cyredis native addon: per-env state. The addon is context-aware: every piece of state
// lives in this instance (one per main thread or worker thread), none in statics.
#pragma once

#include <napi.h>

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

// Reads ReaderOptions from a JS object; throws (and returns false) on a bad field.
bool ReadOptions(Napi::Env env, Napi::Value value, ReaderOptions* out);

}  // namespace cyredis
