#include "reader.h"

#include "addon.h"

namespace cyredis {

bool BytesOf(napi_env env, napi_value value, const char** data, size_t* len) {
  bool is = false;
  if (napi_is_typedarray(env, value, &is) != napi_ok || !is) return false;
  napi_typedarray_type type;
  void* ptr = nullptr;
  if (napi_get_typedarray_info(env, value, &type, len, &ptr, nullptr, nullptr) != napi_ok ||
      type != napi_uint8_array) {
    return false;
  }
  *data = static_cast<const char*>(ptr);
  return true;
}

Napi::Function Reader::Define(Napi::Env env) {
  return DefineClass(env, "NativeReader",
                     {InstanceMethod<&Reader::Feed>("feed"), InstanceMethod<&Reader::Reset>("reset"),
                      InstanceMethod<&Reader::Expect>("expect")});
}

Reader::Reader(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Reader>(info) {
  Napi::Env env = info.Env();
  if (!env.GetInstanceData<Addon>()->ready) {
    Throw(env, ErrorKind::Error, "cyredis native: setup() must run before readers are created");
    return;
  }
  ReaderOptions options{};
  if (!ReadOptions(env, info[0], &options)) return;
  builder_ = std::make_unique<ReplyBuilder>(options);
}

Napi::Value Reader::Feed(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  const JsClasses& js = info.Env().GetInstanceData<Addon>()->js;
  if (builder_->failed()) {
    napi_throw(env, builder_->MakeProtocolError(env, js));
    return Napi::Value();
  }
  const char* data;
  size_t len;
  if (!BytesOf(env, info[0], &data, &len)) {
    Throw(info.Env(), ErrorKind::Type, "chunk must be a Buffer or Uint8Array");
    return Napi::Value();
  }
  napi_value out;
  napi_create_array(env, &out);
  uint32_t count = 0;
  if (!builder_->Feed(env, js, data, len, out, &count)) {
    if (builder_->failed()) napi_throw(env, builder_->MakeProtocolError(env, js));
    return Napi::Value();
  }
  return Napi::Value(env, out);
}

Napi::Value Reader::Reset(const Napi::CallbackInfo& info) {
  builder_->Reset();
  return info.Env().Undefined();
}

// expect(count: number, returnBuffers: boolean)
Napi::Value Reader::Expect(const Napi::CallbackInfo& info) {
  ExpectRuns(info, 0, builder_.get());
  return info.Env().Undefined();
}

// Reads (count, buffers) from info[at], info[at + 1], or runs [count, flag, count, flag, ...]
// from an array at info[at], into `builder`.
void ExpectRuns(const Napi::CallbackInfo& info, size_t at, ReplyBuilder* builder) {
  if (info.Length() <= at || builder == nullptr) return;
  Napi::Value first = info[at];
  if (first.IsNumber()) {
    builder->Expect(static_cast<uint64_t>(first.As<Napi::Number>().Int64Value()),
                    info.Length() > at + 1 && info[at + 1].ToBoolean());
    return;
  }
  if (!first.IsArray()) return;
  Napi::Array runs = first.As<Napi::Array>();
  for (uint32_t k = 0; k + 1 < runs.Length(); k += 2) {
    builder->Expect(static_cast<uint64_t>(runs.Get(k).ToNumber().Int64Value()),
                    runs.Get(k + 1).ToBoolean());
  }
}

}  // namespace cyredis
