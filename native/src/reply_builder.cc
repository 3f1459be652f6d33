#include "reply_builder.h"

#include <cstring>
#include <limits>

namespace cyredis {

namespace {

// Returned for `|-1` (a nil attribute): hiredis needs a non-NULL object, and the attribute
// annotates nothing, so no node is recorded for it.
char kNoNode;

constexpr double kMaxSafeInteger = 9007199254740991.0;

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

ReplyBuilder::~ReplyBuilder() { redisReaderFree(reader_); }

void ReplyBuilder::Reset() {
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

bool ReplyBuilder::Feed(napi_env env, const JsClasses& js, const char* data, size_t len,
                        napi_value out, uint32_t* count) {
  if (!error_.empty()) return false;
  fed_ += len;
  if (redisReaderFeed(reader_, data, len) != REDIS_OK) {
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
    size_t i = 0;
    napi_value value = Convert(env, js, &i);
    nodes_.clear();
    bytes_.clear();
    if (value == nullptr) return false;  // a JS exception is pending
    if (napi_set_element(env, out, (*count)++, value) != napi_ok) return false;
  }
  CheckPendingBulk();
  if (error_.empty() && fed_ - replyEnd_ > options_.limits.maxBufferedBytes) {
    error_ = "Incomplete reply exceeds maxBufferedBytes (" +
             std::to_string(options_.limits.maxBufferedBytes) + ")";
  }
  return error_.empty();
}

napi_value ReplyBuilder::MakeProtocolError(napi_env env, const JsClasses& js) const {
  napi_value ctor, message, err = nullptr;
  napi_get_reference_value(env, js.protocolError, &ctor);
  napi_create_string_utf8(env, error_.data(), error_.size(), &message);
  napi_new_instance(env, ctor, 1, &message, &err);
  return err;
}

napi_value ReplyBuilder::StringValue(napi_env env, const Node& node, bool asBuffer) {
  const char* p = bytes_.data() + node.v.offset;
  size_t len = node.len;
  if (node.type == REDIS_REPLY_VERB) {  // "txt:" format prefix, validated by hiredis
    p += 4;
    len -= 4;
  }
  napi_value value = nullptr;
  if (asBuffer) {
    napi_create_buffer_copy(env, len, p, nullptr, &value);
  } else {
    napi_create_string_utf8(env, p, len, &value);
  }
  return value;
}

napi_value ReplyBuilder::Convert(napi_env env, const JsClasses& js, size_t* i) {
  // Attributes annotate the value after them; several may precede one value. They are walked
  // in a loop (not by recursion) so a long chain cannot exhaust the stack.
  napi_value attrs[8];
  std::vector<napi_value> moreAttrs;
  size_t nattrs = 0;
  while (nodes_[*i].type == REDIS_REPLY_ATTR) {
    const Node& node = nodes_[(*i)++];
    napi_value map = ConvertMap(env, js, node, i);
    if (map == nullptr) return nullptr;
    if (!options_.attributes) continue;
    if (nattrs < 8) {
      attrs[nattrs++] = map;
    } else {
      moreAttrs.push_back(map);
    }
  }

  const Node& node = nodes_[(*i)++];
  napi_value value = nullptr;
  switch (node.type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_VERB:
      value = StringValue(env, node, options_.returnBuffers);
      break;
    case REDIS_REPLY_STATUS:
      value = StringValue(env, node, false);
      break;
    case REDIS_REPLY_ERROR:
    case REDIS_REPLY_BULK_ERROR: {
      napi_value ctor, message = StringValue(env, node, false);
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
    case REDIS_REPLY_BIGNUM: {
      // Decimal digits (hiredis checked them) to little-endian 64-bit words.
      const char* p = bytes_.data() + node.v.offset;
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
      napi_create_bigint_words(env, zero ? 0 : sign, words.size(), words.data(), &value);
      break;
    }
    case REDIS_REPLY_ARRAY:
    case REDIS_REPLY_SET:
    case REDIS_REPLY_PUSH: {
      napi_create_array_with_length(env, node.len, &value);
      for (uint64_t k = 0; k < node.len; k++) {
        napi_value item = Convert(env, js, i);
        if (item == nullptr || napi_set_element(env, value, static_cast<uint32_t>(k), item) != napi_ok) return nullptr;
      }
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

  if (nattrs > 0) {  // innermost attribute is the last one read
    napi_value ctor;
    napi_get_reference_value(env, js.attributed, &ctor);
    for (size_t k = moreAttrs.size(); k > 0; k--) {
      napi_value args[2] = {moreAttrs[k - 1], value};
      if (napi_new_instance(env, ctor, 2, args, &value) != napi_ok) return nullptr;
    }
    for (size_t k = nattrs; k > 0; k--) {
      napi_value args[2] = {attrs[k - 1], value};
      if (napi_new_instance(env, ctor, 2, args, &value) != napi_ok) return nullptr;
    }
  }
  return value;
}

// Maps become plain objects (keys coerced to strings, as JS property keys are) or Map. A
// "__proto__" key is defined as an own property, never assigned, so a reply cannot change an
// object's prototype.
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
  napi_create_object(env, &result);
  for (uint64_t k = 0; k < pairs; k++) {
    napi_value key;
    bool isProto;
    const Node& kn = nodes_[*i];
    if (kn.type == REDIS_REPLY_STRING || kn.type == REDIS_REPLY_STATUS ||
        kn.type == REDIS_REPLY_VERB) {
      // Fast path: a string key becomes a JS string straight from its bytes (what
      // String(buffer) would give in returnBuffers mode) and is checked without a JS call.
      (*i)++;
      key = StringValue(env, kn, false);
      size_t skip = kn.type == REDIS_REPLY_VERB ? 4 : 0;
      isProto = kn.len - skip == 9 && memcmp(bytes_.data() + kn.v.offset + skip, "__proto__", 9) == 0;
    } else {
      if ((key = Convert(env, js, i)) == nullptr) return nullptr;
      if (napi_coerce_to_string(env, key, &key) != napi_ok) return nullptr;
      char probe[10];
      size_t plen = 0;
      napi_get_value_string_utf8(env, key, probe, sizeof(probe), &plen);
      isProto = plen == 9 && memcmp(probe, "__proto__", 9) == 0;
    }
    napi_value val = Convert(env, js, i);
    if (val == nullptr) return nullptr;
    if (isProto) {
      napi_property_descriptor d = {nullptr, key, nullptr, nullptr, nullptr, val,
                                    static_cast<napi_property_attributes>(napi_default_jsproperty),
                                    nullptr};
      if (napi_define_properties(env, result, 1, &d) != napi_ok) return nullptr;
    } else if (napi_set_property(env, result, key, val) != napi_ok) {
      return nullptr;
    }
  }
  return result;
}

}  // namespace cyredis
