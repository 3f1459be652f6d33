// NativeReader: the JS-facing wrapper of ReplyBuilder (runtime/protocol uses it as RespReader).
#pragma once

#include <napi.h>

#include <memory>

#include "reply_builder.h"

namespace cyredis {

class Reader : public Napi::ObjectWrap<Reader> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Reader(const Napi::CallbackInfo& info);

 private:
  Napi::Value Feed(const Napi::CallbackInfo& info);
  Napi::Value Reset(const Napi::CallbackInfo& info);
  Napi::Value Expect(const Napi::CallbackInfo& info);
  std::unique_ptr<ReplyBuilder> builder_;  // null if the constructor threw
};

// Announces reply modes to `builder` from arguments at `at` (see Reader::Expect).
void ExpectRuns(const Napi::CallbackInfo& info, size_t at, ReplyBuilder* builder);

// Gets the bytes of a Buffer / Uint8Array argument; false if it is neither.
bool BytesOf(napi_env env, napi_value value, const char** data, size_t* len);

}  // namespace cyredis
