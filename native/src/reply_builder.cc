#include "reply_builder.h"

#include <cstring>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace cyredis {

namespace {

// Returned for `|-1` (a nil attribute): hiredis needs a non-NULL object, and the attribute
// annotates nothing, so no node is recorded for it.
char kNoNode;

constexpr double kMaxSafeInteger = 9007199254740991.0;

// Bytes handed to hiredis per redisReaderFeed() call (see Feed).
constexpr size_t kFeedSlice = 4096;

// Most values moved into an array by one Array.prototype.push call (they go on the stack).
constexpr size_t kPushBatch = 1024;

// Whether every byte is below 0x80, so that Latin-1 reads the bytes as UTF-8 would. Large
// strings go 64 bytes per step through four independent SSE2 accumulators.
bool IsAscii(const char* p, size_t len) {
  size_t k = 0;
#if defined(__SSE2__)
  __m128i a = _mm_setzero_si128(), b = a, c = a, d = a;
  for (; k + 64 <= len; k += 64) {
    a = _mm_or_si128(a, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + k)));
    b = _mm_or_si128(b, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + k + 16)));
    c = _mm_or_si128(c, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + k + 32)));
    d = _mm_or_si128(d, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + k + 48)));
  }
  if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d))) != 0) return false;
#endif
  uint64_t any = 0;
  for (; k + 8 <= len; k += 8) {
    uint64_t w;
    memcpy(&w, p + k, 8);
    any |= w;
  }
  for (; k < len; k++) any |= static_cast<unsigned char>(p[k]);
  return (any & 0x8080808080808080ull) == 0;
}

bool IsBulkType(int type) {
  return type == REDIS_REPLY_STRING || type == REDIS_REPLY_VERB || type == REDIS_REPLY_BULK_ERROR;
}

// Parses a decimal length line as hiredis does (strict digits, optional '-').
bool ParseLength(const char* p, size_t len, long long* out) {
  if (len == 0 || len > 20) return false;
  bool negative = p[0] == '-';
  size_t i = negative ? 1 : 0;
  if (i == len) return false;
  unsigned long long v = 0;
  for (; i < len; i++) {
    if (p[i] < '0' || p[i] > '9') return false;
    v = v * 10 + static_cast<unsigned>(p[i] - '0');
  }
  *out = negative ? -static_cast<long long>(v) : static_cast<long long>(v);
  return true;
}

}  // namespace

const redisReplyObjectFunctions ReplyBuilder::kFunctions = {
    ReplyBuilder::OnString, ReplyBuilder::OnArray, ReplyBuilder::OnInteger,
    ReplyBuilder::OnDouble, ReplyBuilder::OnNil,   ReplyBuilder::OnBool,
    ReplyBuilder::OnFree,
};

ReplyBuilder::ReplyBuilder(const ReaderOptions& options) : options_(options) {
  reader_ = redisReaderCreateWithFunctions(const_cast<redisReplyObjectFunctions*>(&kFunctions));
  if (reader_ != nullptr) {
    reader_->privdata = this;
    reader_->maxelements = 0;  // our own limit (maxAggregateLength) applies in OnArray
  } else {
    error_ = "Out of memory";
  }
}

ReplyBuilder::~ReplyBuilder() {
  redisReaderFree(reader_);
  // Runs in the owning object's finalizer, while env_ is alive.
  if (assignerRef_ != nullptr) napi_delete_reference(env_, assignerRef_);
  if (pushRef_ != nullptr) napi_delete_reference(env_, pushRef_);
}

void ReplyBuilder::Expect(uint64_t count, bool buffers) {
  if (count == 0) return;
  if (!modes_.empty() && modes_.back().buffers == buffers) {
    modes_.back().count += count;
  } else {
    modes_.push_back({count, buffers});
  }
}

bool ReplyBuilder::PeekMode() const {
  return modes_.empty() ? options_.returnBuffers : modes_.front().buffers;
}

// The mode of the reply that just completed. A push frame answers no command: it takes none.
bool ReplyBuilder::TakeMode(bool push) {
  if (push || modes_.empty()) return options_.returnBuffers;
  bool buffers = modes_.front().buffers;
  if (--modes_.front().count == 0) modes_.pop_front();
  return buffers;
}

void ReplyBuilder::Reset() {
  modes_.clear();
  redisReaderFree(reader_);
  reader_ = redisReaderCreateWithFunctions(const_cast<redisReplyObjectFunctions*>(&kFunctions));
  nodes_.clear();
  bytes_.clear();
  refusal_.clear();
  fed_ = replyEnd_ = 0;
  if (reader_ == nullptr) {
    error_ = "Out of memory";
    return;
  }
  reader_->privdata = this;
  reader_->maxelements = 0;
  error_.clear();
}

void* ReplyBuilder::Push(const Node& node) {
  nodes_.push_back(node);
  return reinterpret_cast<void*>(nodes_.size());
}

void* ReplyBuilder::Refuse(std::string message) {
  refusal_ = std::move(message);
  return nullptr;  // hiredis turns NULL into an error and stops
}

void* ReplyBuilder::OnString(const redisReadTask* task, char* str, size_t len) {
  auto* self = static_cast<ReplyBuilder*>(task->privdata);
  if (IsBulkType(task->type) && len > self->options_.limits.maxBulkLength) {
    return self->Refuse("Bulk string length exceeds maxBulkLength (" +
                        std::to_string(self->options_.limits.maxBulkLength) + ")");
  }
  Node node{};
  node.type = static_cast<uint8_t>(task->type);
  node.len = len;
  // hiredis's buffer holds the last reader_->len bytes fed; the chunk being fed started at
  // stream offset chunkStart_. Bytes inside that chunk are read from it later (it outlives
  // this Feed() call's parsing, unlike hiredis's buffer); others are copied now, except for a
  // bulk that is the whole reply (a large GET that spanned chunks): its value is made now.
  const redisReader* r = self->reader_;
  uint64_t at = self->fed_ - r->len + static_cast<uint64_t>(str - r->buf);
  if (at >= self->chunkStart_) {
    node.where = Node::kInChunk;
    node.v.ptr = self->chunk_ + (at - self->chunkStart_);
    return self->Push(node);
  }
  if (task->parent == nullptr && task->type == REDIS_REPLY_STRING) {
    node.v.value = self->MakeString(self->feedEnv_, str, len, self->PeekMode());
    if (node.v.value != nullptr) {
      node.where = Node::kMade;
      return self->Push(node);
    }
  }
  node.where = Node::kInBytes;
  node.v.offset = self->bytes_.size();
  self->bytes_.append(str, len);
  return self->Push(node);
}

void* ReplyBuilder::OnArray(const redisReadTask* task, size_t elements) {
  auto* self = static_cast<ReplyBuilder*>(task->privdata);
  uint32_t depth = 1;
  for (const redisReadTask* p = task->parent; p != nullptr; p = p->parent) depth++;
  if (depth > self->options_.limits.maxDepth) {
    return self->Refuse("Reply nesting exceeds maxDepth (" +
                        std::to_string(self->options_.limits.maxDepth) + ")");
  }
  bool paired = task->type == REDIS_REPLY_MAP || task->type == REDIS_REPLY_ATTR;
  uint64_t declared = paired ? elements / 2 : elements;
  if (declared > self->options_.limits.maxAggregateLength) {
    return self->Refuse("Aggregate length exceeds maxAggregateLength (" +
                        std::to_string(self->options_.limits.maxAggregateLength) + ")");
  }
  Node node{};
  node.type = static_cast<uint8_t>(task->type);
  node.len = elements;
  return self->Push(node);
}

void* ReplyBuilder::OnInteger(const redisReadTask* task, long long value) {
  Node node{};
  node.type = REDIS_REPLY_INTEGER;
  node.v.integer = value;
  return static_cast<ReplyBuilder*>(task->privdata)->Push(node);
}

void* ReplyBuilder::OnDouble(const redisReadTask* task, double value, char*, size_t) {
  Node node{};
  node.type = REDIS_REPLY_DOUBLE;
  node.v.dbl = value;
  return static_cast<ReplyBuilder*>(task->privdata)->Push(node);
}

void* ReplyBuilder::OnNil(const redisReadTask* task) {
  if (task->type == REDIS_REPLY_ATTR) return &kNoNode;
  Node node{};
  node.type = REDIS_REPLY_NIL;
  return static_cast<ReplyBuilder*>(task->privdata)->Push(node);
}

void* ReplyBuilder::OnBool(const redisReadTask* task, int value) {
  auto* self = static_cast<ReplyBuilder*>(task->privdata);
  // hiredis validates the byte with strchr("tTfF", p[0]), which also matches the string's
  // terminator, so it reads "#\0\r\n" as false. Refuse that: readLine has just consumed
  // the byte and its CRLF, so the byte is the third one back.
  if (self->reader_->buf[self->reader_->pos - 3] == '\0') return self->Refuse("Bad bool value");
  Node node{};
  node.type = REDIS_REPLY_BOOL;
  node.v.integer = value ? 1 : 0;
  return self->Push(node);
}

void ReplyBuilder::OnFree(void*) {}  // nodes live in the arena, cleared per reply

// Enforces maxBulkLength as soon as a bulk header is readable, before its payload is
// buffered: a `$4000000000` header must not make us hold gigabytes first. "Readable" means
// its CRLF arrived, as for hiredis (and the TS reader), so both fail at the same feed().
void ReplyBuilder::CheckPendingBulk() {
  if (reader_->ridx < 0) return;
  const redisReadTask* task = reader_->task[reader_->ridx];
  if (!IsBulkType(task->type)) return;
  const char* p = reader_->buf + reader_->pos;
  size_t avail = reader_->len - reader_->pos;
  // hiredis stopped here with the header unparsed or parsed and valid (else it would have
  // failed), so the header is complete exactly when its first '\r' is followed by '\n'.
  const char* cr = static_cast<const char*>(memchr(p, '\r', avail));
  if (cr == nullptr || cr + 1 == p + avail || cr[1] != '\n') return;
  long long len;
  if (ParseLength(p, cr - p, &len) &&
      len > static_cast<long long>(options_.limits.maxBulkLength)) {
    error_ = "Bulk string length exceeds maxBulkLength (" +
             std::to_string(options_.limits.maxBulkLength) + ")";
  }
}

// A reply still incomplete when Feed() returns keeps its nodes for the next call: copy the
// bytes they borrow from the chunk, which the caller may reuse.
void ReplyBuilder::KeepPartialReply() {
  for (Node& node : nodes_) {
    if (node.where != Node::kInChunk) continue;  // kMade only for a reply already complete
    uint64_t offset = bytes_.size();
    bytes_.append(node.v.ptr, node.len);
    node.where = Node::kInBytes;
    node.v.offset = offset;
  }
}

bool ReplyBuilder::Feed(napi_env env, const JsClasses& js, const char* data, size_t len,
                        napi_value out, uint32_t* count) {
  if (!error_.empty()) return false;
  push_ = nullptr;  // looked up again in this call's handle scope when first needed
  feeds_++;         // the JS values cached by earlier calls are gone
  values_.clear();
  feedEnv_ = env;
  chunk_ = data;
  chunkStart_ = fed_;
  bool ok = Parse(env, js, data, len);
  KeepPartialReply();
  feedEnv_ = nullptr;
  chunk_ = nullptr;
  if (!ok) return false;
  size_t n = values_.size();
  if (!MoveValues(env, out, 0)) return false;
  *count += static_cast<uint32_t>(n);
  CheckPendingBulk();
  if (error_.empty() && fed_ - replyEnd_ > options_.limits.maxBufferedBytes) {
    error_ = "Incomplete reply exceeds maxBufferedBytes (" +
             std::to_string(options_.limits.maxBufferedBytes) + ")";
  }
  return error_.empty();
}

// Runs hiredis over the chunk, converting each complete reply into values_. hiredis moves its
// unread bytes to the front of its buffer after each reply once 1 KiB was consumed (read.c,
// sdsrange): fed 64 KiB at once, it would move tens of KiB per reply. Fed in slices, each
// move stays below one slice.
bool ReplyBuilder::Parse(napi_env env, const JsClasses& js, const char* data, size_t len) {
  for (size_t off = 0; off < len; off += kFeedSlice) {
    size_t n = len - off < kFeedSlice ? len - off : kFeedSlice;
    fed_ += n;
    if (redisReaderFeed(reader_, data + off, n) != REDIS_OK) {
      error_ = reader_->errstr;
      return false;
    }
    for (;;) {
      void* reply = nullptr;
      if (redisReaderGetReply(reader_, &reply) != REDIS_OK) {
        error_ = refusal_.empty() ? std::string(reader_->errstr) : refusal_;
        nodes_.clear();
        bytes_.clear();
        return false;
      }
      if (reply == nullptr) break;
      replyEnd_ = fed_ - (reader_->len - reader_->pos);
      buffers_ = TakeMode(nodes_[0].type == REDIS_REPLY_PUSH);
      size_t i = 0;
      napi_value value = Convert(env, js, &i);
      nodes_.clear();
      bytes_.clear();
      if (value == nullptr) return false;  // a JS exception is pending, or error_ is set
      values_.push_back(value);
    }
  }
  return true;
}

// Moves values_[base..] to the end of `array`. Array.prototype.push takes any number of
// arguments, so one call moves a whole batch, where napi_set_element pays a full property
// lookup (and often a store reallocation) per element. Even one value is cheaper pushed.
bool ReplyBuilder::MoveValues(napi_env env, napi_value array, size_t base) {
  size_t end = values_.size();
  if (end == base) return true;
  if (push_ == nullptr && (push_ = ArrayPush(env, array)) == nullptr) return false;
  for (size_t k = base; k < end; k += kPushBatch) {
    size_t n = end - k < kPushBatch ? end - k : kPushBatch;
    if (napi_call_function(env, array, push_, n, values_.data() + k, nullptr) != napi_ok) {
      return false;
    }
  }
  values_.resize(base);
  return true;
}

// Array.prototype.push, looked up once per builder: a lookup per read would cost about a
// quarter of a one-reply read.
napi_value ReplyBuilder::ArrayPush(napi_env env, napi_value array) {
  napi_value fn = nullptr;
  if (pushRef_ != nullptr) {
    napi_get_reference_value(env, pushRef_, &fn);
    return fn;
  }
  if (napi_get_named_property(env, array, "push", &fn) != napi_ok ||
      napi_create_reference(env, fn, 1, &pushRef_) != napi_ok) {
    return nullptr;
  }
  env_ = env;
  return fn;
}

napi_value ReplyBuilder::MakeProtocolError(napi_env env, const JsClasses& js) const {
  napi_value ctor, message, err = nullptr;
  napi_get_reference_value(env, js.protocolError, &ctor);
  napi_create_string_utf8(env, error_.data(), error_.size(), &message);
  napi_new_instance(env, ctor, 1, &message, &err);
  return err;
}

const char* ReplyBuilder::BytesOf(const Node& node) const {
  return node.where == Node::kInChunk ? node.v.ptr : bytes_.data() + node.v.offset;
}

napi_value ReplyBuilder::StringValue(napi_env env, const Node& node, bool asBuffer) {
  if (node.where == Node::kMade) return node.v.value;
  const char* p = BytesOf(node);
  size_t len = node.len;
  if (node.type == REDIS_REPLY_VERB) {  // "txt:" format prefix, validated by hiredis
    p += 4;
    len -= 4;
  }
  return MakeString(env, p, len, asBuffer);
}

napi_value ReplyBuilder::MakeString(napi_env env, const char* p, size_t len, bool asBuffer) {
  napi_value value = nullptr;
  napi_status status;
  if (asBuffer) {
    status = napi_create_buffer_copy(env, len, p, nullptr, &value);
  } else if (IsAscii(p, len)) {
    status = napi_create_string_latin1(env, p, len, &value);  // a plain copy, no decoding
  } else {
    status = napi_create_string_utf8(env, p, len, &value);
  }
  if (status != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    // V8 refuses strings over ~2^29 characters without throwing. The reply is lost, so the
    // stream cannot go on: a sticky error, worded as the TS reader words it.
    if (!pending) {
      error_ = "Reply string of " + std::to_string(len) +
               " bytes is too long for a JavaScript string";
    }
    return nullptr;
  }
  return value;
}

napi_value ReplyBuilder::Convert(napi_env env, const JsClasses& js, size_t* i) {
  // Attributes annotate the value after them; several may precede one value. Their maps wait
  // on values_ until the value is built, then wrap it, the first read outermost.
  size_t attrBase = values_.size();
  while (nodes_[*i].type == REDIS_REPLY_ATTR) {
    const Node& node = nodes_[(*i)++];
    napi_value map = ConvertMap(env, js, node, i);
    if (map == nullptr) return nullptr;
    if (options_.attributes) values_.push_back(map);
  }

  const Node& node = nodes_[(*i)++];
  napi_value value = nullptr;
  switch (node.type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_VERB:
      value = StringValue(env, node, buffers_);
      break;
    case REDIS_REPLY_STATUS:
      value = StringValue(env, node, false);
      break;
    case REDIS_REPLY_ERROR:
    case REDIS_REPLY_BULK_ERROR: {
      napi_value ctor, message = StringValue(env, node, false);
      if (message == nullptr) return nullptr;
      napi_get_reference_value(env, js.replyError, &ctor);
      napi_new_instance(env, ctor, 1, &message, &value);
      break;
    }
    case REDIS_REPLY_INTEGER: {
      double d = static_cast<double>(node.v.integer);
      if (d >= -kMaxSafeInteger && d <= kMaxSafeInteger) {
        napi_create_double(env, d, &value);
      } else {
        napi_create_bigint_int64(env, node.v.integer, &value);
      }
      break;
    }
    case REDIS_REPLY_DOUBLE:
      napi_create_double(env, node.v.dbl, &value);
      break;
    case REDIS_REPLY_NIL:
      napi_get_null(env, &value);
      break;
    case REDIS_REPLY_BOOL:
      napi_get_boolean(env, node.v.integer != 0, &value);
      break;
    case REDIS_REPLY_BIGNUM:
      value = BigNumValue(env, node);
      break;
    case REDIS_REPLY_ARRAY:
    case REDIS_REPLY_SET:
    case REDIS_REPLY_PUSH: {
      napi_create_array(env, &value);
      size_t base = values_.size();
      for (uint64_t k = 0; k < node.len; k++) {
        napi_value item = Convert(env, js, i);
        if (item == nullptr) return nullptr;
        values_.push_back(item);
      }
      if (!MoveValues(env, value, base)) return nullptr;
      if (node.type == REDIS_REPLY_PUSH) {
        napi_value ctor, array = value;
        napi_get_reference_value(env, js.pushMessage, &ctor);
        napi_new_instance(env, ctor, 1, &array, &value);
      }
      break;
    }
    case REDIS_REPLY_MAP:
      value = ConvertMap(env, js, node, i);
      break;
    default:
      break;
  }
  if (value == nullptr) return nullptr;

  if (values_.size() > attrBase) {
    napi_value ctor;
    napi_get_reference_value(env, js.attributed, &ctor);
    for (size_t k = values_.size(); k > attrBase; k--) {  // innermost: the last one read
      napi_value args[2] = {values_[k - 1], value};
      if (napi_new_instance(env, ctor, 2, args, &value) != napi_ok) return nullptr;
    }
    values_.resize(attrBase);
  }
  return value;
}

// Decimal digits (hiredis checked them) to little-endian 64-bit words.
napi_value ReplyBuilder::BigNumValue(napi_env env, const Node& node) {
  const char* p = BytesOf(node);
  size_t len = node.len, k = 0;
  int sign = 0;
  if (len > 0 && p[0] == '-') {
    sign = 1;
    k = 1;
  }
  std::vector<uint64_t> words{0};
  for (; k < len; k++) {
    unsigned __int128 carry = static_cast<unsigned>(p[k] - '0');
    for (auto& w : words) {
      unsigned __int128 t = static_cast<unsigned __int128>(w) * 10 + carry;
      w = static_cast<uint64_t>(t);
      carry = t >> 64;
    }
    if (carry) words.push_back(static_cast<uint64_t>(carry));
  }
  bool zero = words.size() == 1 && words[0] == 0;
  napi_value value = nullptr;
  napi_create_bigint_words(env, zero ? 0 : sign, words.size(), words.data(), &value);
  return value;
}

// Map keys repeat (HGETALL fields, XINFO names): within one Feed() call, a short key seen
// before reuses its JS string, which V8 then hashes and internalizes only once.
napi_value ReplyBuilder::KeyValue(napi_env env, const Node& node) {
  const char* p = BytesOf(node);
  size_t len = node.len;
  if (node.type == REDIS_REPLY_VERB) {
    p += 4;
    len -= 4;
  }
  if (len > KeyCacheEntry::kMaxLength) return StringValue(env, node, false);
  uint32_t h = 2166136261u;  // FNV-1a
  for (size_t k = 0; k < len; k++) h = (h ^ static_cast<unsigned char>(p[k])) * 16777619u;
  KeyCacheEntry& e = keys_[h % keys_.size()];
  if (e.feed == feeds_ && e.len == len && memcmp(e.bytes, p, len) == 0) return e.value;
  napi_value value = StringValue(env, node, false);
  if (value != nullptr) {
    e.feed = feeds_;
    e.len = static_cast<uint8_t>(len);
    memcpy(e.bytes, p, len);
    e.value = value;
  }
  return value;
}

// Assigns the pairs on values_ after `base` (which holds the object) and drops them.
bool ReplyBuilder::AssignPairs(napi_env env, napi_value assign, size_t base) {
  if (values_.size() - base == 1) return true;
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  if (napi_call_function(env, undefined, assign, values_.size() - base, values_.data() + base,
                         nullptr) != napi_ok) {
    return false;
  }
  values_.resize(base + 1);
  return true;
}

// A JS function that assigns key/value pairs to a plain object: `assign(obj, k1, v1, ...)`.
// Property stores from JIT-compiled JS reuse V8's inline caches for repeated shapes and are
// several times faster than napi_set_property, which takes the runtime's slow path each time.
// Keys are coerced as property keys are, and `__proto__` is defined, never assigned, so a
// reply cannot change the prototype (not even with a key like `*1 +__proto__`, an array that
// coerces to "__proto__"). Compiled once per builder, from a constant source.
napi_value ReplyBuilder::ObjectAssigner(napi_env env) {
  napi_value fn = nullptr;
  if (assignerRef_ != nullptr) {
    napi_get_reference_value(env, assignerRef_, &fn);
    return fn;
  }
  static const char kSource[] =
      "(() => {\n"
      "  'use strict';\n"
      "  const define = Object.defineProperty, toKey = String;\n"
      "  return function assignPairs(obj) {\n"
      "    for (let i = 1; i < arguments.length; i += 2) {\n"
      "      const key = toKey(arguments[i]);\n"
      "      if (key === '__proto__') {\n"
      "        define(obj, key, { value: arguments[i + 1], enumerable: true, writable: true,\n"
      "                           configurable: true });\n"
      "      } else {\n"
      "        obj[key] = arguments[i + 1];\n"
      "      }\n"
      "    }\n"
      "  };\n"
      "})()";
  napi_value source;
  if (napi_create_string_latin1(env, kSource, sizeof(kSource) - 1, &source) != napi_ok ||
      napi_run_script(env, source, &fn) != napi_ok ||
      napi_create_reference(env, fn, 1, &assignerRef_) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) napi_throw_error(env, nullptr, "cyredis: cannot create the map assigner");
    return nullptr;
  }
  env_ = env;
  return fn;
}

// Maps become plain objects (keys coerced to strings, as JS property keys are) or Map.
napi_value ReplyBuilder::ConvertMap(napi_env env, const JsClasses& js, const Node& node,
                                    size_t* i) {
  napi_value result;
  uint64_t pairs = node.len / 2;
  if (options_.mapAsMap) {
    napi_value ctor, set;
    napi_get_reference_value(env, js.mapCtor, &ctor);
    napi_get_reference_value(env, js.mapSet, &set);
    if (napi_new_instance(env, ctor, 0, nullptr, &result) != napi_ok) return nullptr;
    for (uint64_t k = 0; k < pairs; k++) {
      napi_value args[2];
      if ((args[0] = Convert(env, js, i)) == nullptr) return nullptr;
      if ((args[1] = Convert(env, js, i)) == nullptr) return nullptr;
      if (napi_call_function(env, result, set, 2, args, nullptr) != napi_ok) return nullptr;
    }
    return result;
  }
  napi_value assign = ObjectAssigner(env);
  if (assign == nullptr || napi_create_object(env, &result) != napi_ok) return nullptr;
  // The object, then its keys and values, collect on values_ and enter the object in batches.
  size_t base = values_.size();
  values_.push_back(result);
  for (uint64_t k = 0; k < pairs; k++) {
    const Node& kn = nodes_[*i];
    napi_value key, val;
    if (kn.type == REDIS_REPLY_STRING || kn.type == REDIS_REPLY_STATUS ||
        kn.type == REDIS_REPLY_VERB) {
      (*i)++;
      key = KeyValue(env, kn);  // a string even with returnBuffers: what String(buffer) gives
    } else {
      key = Convert(env, js, i);
    }
    if (key == nullptr || (val = Convert(env, js, i)) == nullptr) return nullptr;
    values_.push_back(key);
    values_.push_back(val);
    if (values_.size() - base > kPushBatch && !AssignPairs(env, assign, base)) return nullptr;
  }
  if (!AssignPairs(env, assign, base)) return nullptr;
  values_.resize(base);
  return result;
}

}  // namespace cyredis
