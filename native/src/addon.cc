#include "addon.h"

#include <string>
#include <vector>

#include "connection.h"
#include "reader.h"

extern "C" {
#include "hiredis.h"
#include "sds.h"
}

namespace cyredis {

namespace {

bool GetClass(Napi::Object classes, const char* name, napi_ref* out) {
  Napi::Value value = classes.Get(name);
  if (!value.IsFunction()) {
    Throw(classes.Env(), ErrorKind::Type, std::string("setup: ") + name + " must be a function");
    return false;
  }
  return napi_create_reference(classes.Env(), value, 1, out) == napi_ok;
}

}  // namespace

void Throw(napi_env env, ErrorKind kind, const std::string& message) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) != napi_ok || pending) return;
  switch (kind) {
    case ErrorKind::Type:
      napi_throw_type_error(env, nullptr, message.c_str());
      break;
    case ErrorKind::Range:
      napi_throw_range_error(env, nullptr, message.c_str());
      break;
    case ErrorKind::Error:
      napi_throw_error(env, nullptr, message.c_str());
      break;
  }
}

Addon::Addon(Napi::Env env, Napi::Object exports) {
  reader = Napi::Persistent(Reader::Define(env));
  DefineAddon(exports,
              {
                  InstanceMethod("setup", &Addon::Setup),
                  InstanceMethod("encodeCommand", &Addon::EncodeCommand),
                  InstanceValue("hiredisVersion",
                                Napi::String::New(env, std::to_string(HIREDIS_MAJOR) + "." +
                                                           std::to_string(HIREDIS_MINOR) + "." +
                                                           std::to_string(HIREDIS_PATCH))),
                  InstanceValue("NativeReader", reader.Value()),
                  InstanceValue("NativeConnection", Connection::Define(env)),
              });
}

Addon::~Addon() {
  // The env is being torn down (thread exit); references are released with it.
}

void Addon::DeleteRefs(napi_env env) {
  for (napi_ref* ref : {&js.replyError, &js.pushMessage, &js.attributed, &js.protocolError,
                        &js.mapCtor, &js.mapSet}) {
    if (*ref != nullptr) napi_delete_reference(env, *ref);
    *ref = nullptr;
  }
}

// setup({ ReplyError, PushMessage, AttributedReply, ProtocolError }): the JS classes replies
// are built from. Called once per env by runtime/protocol/native.ts; calling again replaces them.
Napi::Value Addon::Setup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) {
    Throw(env, ErrorKind::Type, "setup: classes must be an object");
    return env.Undefined();
  }
  DeleteRefs(env);
  Napi::Object classes = info[0].As<Napi::Object>();
  if (!GetClass(classes, "ReplyError", &js.replyError) ||
      !GetClass(classes, "PushMessage", &js.pushMessage) ||
      !GetClass(classes, "AttributedReply", &js.attributed) ||
      !GetClass(classes, "ProtocolError", &js.protocolError)) {
    return env.Undefined();
  }
  Napi::Function map = env.Global().Get("Map").As<Napi::Function>();
  Napi::Value set = map.Get("prototype").As<Napi::Object>().Get("set");
  napi_create_reference(env, map, 1, &js.mapCtor);
  napi_create_reference(env, set, 1, &js.mapSet);
  ready = true;
  return env.Undefined();
}

bool ReadOptions(Napi::Env env, Napi::Value value, ReaderOptions* out) {
  if (!value.IsObject()) {
    Throw(env, ErrorKind::Type, "options must be an object");
    return false;
  }
  Napi::Object o = value.As<Napi::Object>();
  out->returnBuffers = o.Get("returnBuffers").ToBoolean();
  out->mapAsMap = o.Get("mapAsMap").ToBoolean();
  out->attributes = o.Get("attributes").ToBoolean();
  struct {
    const char* name;
    double max;
    double* slot;
  } fields[] = {{"maxDepth", 4294967295.0, nullptr},
                {"maxBulkLength", 9007199254740991.0, nullptr},
                {"maxBufferedBytes", 9007199254740991.0, nullptr},
                {"maxAggregateLength", 4294967295.0, nullptr}};
  double values[4];
  for (int k = 0; k < 4; k++) {
    Napi::Value v = o.Get(fields[k].name);
    if (!v.IsNumber() || v.As<Napi::Number>().DoubleValue() < 0 ||
        v.As<Napi::Number>().DoubleValue() > fields[k].max) {
      Throw(env, ErrorKind::Range, std::string("options.") + fields[k].name + " is out of range");
      return false;
    }
    values[k] = v.As<Napi::Number>().DoubleValue();
  }
  out->limits.maxDepth = static_cast<uint32_t>(values[0]);
  out->limits.maxBulkLength = static_cast<uint64_t>(values[1]);
  out->limits.maxBufferedBytes = static_cast<uint64_t>(values[2]);
  out->limits.maxAggregateLength = static_cast<uint64_t>(values[3]);
  return true;
}

// encodeCommand(args): RESP array of bulk strings, binary safe. Strings are UTF-8 encoded,
// Buffers/Uint8Arrays copied as they are, anything else converted with String(x) (the TS
// wrapper has already rejected what is not a string, Buffer, number or bigint).
Napi::Value Addon::EncodeCommand(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) {
    Throw(env, ErrorKind::Type, "args must be an array");
    return env.Undefined();
  }
  Napi::Array args = info[0].As<Napi::Array>();
  uint32_t argc = args.Length();
  std::vector<std::string> owned(argc);
  std::vector<const char*> argv(argc);
  std::vector<size_t> argvlen(argc);
  for (uint32_t k = 0; k < argc; k++) {
    Napi::Value arg = args.Get(k);
    const char* data;
    size_t len;
    if (BytesOf(env, arg, &data, &len)) {
      argv[k] = data;
      argvlen[k] = len;
      continue;
    }
    Napi::String s = arg.IsString() ? arg.As<Napi::String>() : arg.ToString();
    if (env.IsExceptionPending()) return env.Undefined();
    owned[k] = s.Utf8Value();
    argv[k] = owned[k].data();
    argvlen[k] = owned[k].size();
  }
  sds target = nullptr;
  long long len = redisFormatSdsCommandArgv(&target, static_cast<int>(argc), argv.data(),
                                            argvlen.data());
  if (len < 0) {
    Throw(env, ErrorKind::Error, "Out of memory");
    return env.Undefined();
  }
  Napi::Buffer<char> out = Napi::Buffer<char>::Copy(env, target, static_cast<size_t>(len));
  sdsfree(target);
  return out;
}

}  // namespace cyredis

using CyRedisAddon = cyredis::Addon;
NODE_API_ADDON(CyRedisAddon)
