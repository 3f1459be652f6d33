// ReplyBuilder: RESP2/RESP3 bytes in, JavaScript values out, over the hiredis reader.
//
// hiredis calls our create* callbacks as it parses. They do not create JS values (a reply may
// span several reads, and JS handles do not outlive one call); they append compact nodes in
// pre-order to an arena that lives across reads:
//
//   *2\r\n$1\r\na\r\n%1\r\n+k\r\n:1\r\n   ->   nodes: [ARRAY 2][STRING "a"][MAP 2][STATUS "k"][INT 1]
//
// A string node points into the caller's chunk, which stays put for the whole Feed() call
// (hiredis's own buffer is compacted as it goes). Only bytes that must outlive the call are
// copied to `bytes_`: those of a string that began in an earlier chunk, and, when Feed()
// returns, those of the reply still incomplete. A bulk that is a whole reply and began in an
// earlier chunk (a large GET) becomes its JS value at once, from hiredis's buffer.
//
// When hiredis reports a complete reply, one pass over the nodes builds the JS value, then the
// arena is cleared. Elements collect on a value stack and enter their array through one
// Array.prototype.push call per batch. One Feed() call returns every complete reply of the
// chunk in one JS array, so a read costs one native-to-JS crossing however many replies it
// carries.
#pragma once

#include <node_api.h>

#include <array>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

extern "C" {
#include "read.h"
}

namespace cyredis {

// Limits: see runtime/protocol/limits.ts for the defaults and the reasons behind them.
struct ReaderLimits {
  uint32_t maxDepth;          // deepest aggregate nesting accepted (root aggregate = 1)
  uint64_t maxBulkLength;     // longest bulk/verbatim string or blob error, in bytes
  uint64_t maxBufferedBytes;  // most bytes held for one incomplete reply
  uint64_t maxAggregateLength;// most elements one aggregate may declare
};

struct ReaderOptions {
  bool returnBuffers;  // bulk and verbatim strings as Buffer instead of string
  bool mapAsMap;       // RESP3 maps as Map instead of null-prototype-safe plain objects
  bool attributes;     // wrap values that carry RESP3 attributes in AttributedReply
  ReaderLimits limits;
};

// JS constructors and helpers the builder needs, owned by the addon instance of one env.
struct JsClasses {
  napi_ref replyError;      // class ReplyError(message)
  napi_ref pushMessage;     // class PushMessage(data)
  napi_ref attributed;      // class AttributedReply(attributes, value)
  napi_ref protocolError;   // class ProtocolError(message)
  napi_ref mapCtor;         // globalThis.Map
  napi_ref mapSet;          // Map.prototype.set
};

class ReplyBuilder {
 public:
  explicit ReplyBuilder(const ReaderOptions& options);
  ~ReplyBuilder();
  ReplyBuilder(const ReplyBuilder&) = delete;
  ReplyBuilder& operator=(const ReplyBuilder&) = delete;

  // Parses `len` bytes; appends every complete reply to the JS array `out` (whose length must
  // be *count) and adds their number to *count.
  // Returns false on a protocol error: error() then holds the message and stays set (sticky).
  // Returns false with an empty error() if a JS call failed (an exception is pending).
  bool Feed(napi_env env, const JsClasses& js, const char* data, size_t len, napi_value out,
            uint32_t* count);
  const std::string& error() const { return error_; }
  bool failed() const { return !error_.empty(); }
  // Forgets buffered bytes, a partial reply, expected modes and a sticky error.
  void Reset();
  // The next `count` replies (push frames aside) decode their bulk strings as Buffers when
  // `buffers`, else as strings. Replies nobody announced use options.returnBuffers. The client
  // announces every command it writes, so one call can ask for Buffers (getBuffer).
  void Expect(uint64_t count, bool buffers);
  // Creates a JS ProtocolError carrying error().
  napi_value MakeProtocolError(napi_env env, const JsClasses& js) const;

 private:
  struct Node {
    enum Where : uint8_t { kInBytes, kInChunk, kMade };
    uint8_t type;    // REDIS_REPLY_* (REDIS_REPLY_BULK_ERROR from our hiredis patch)
    Where where;     // string types: where v points (bytes_, the chunk, or a made JS value)
    uint64_t len;    // aggregates: declared elements (maps: 2 x pairs); strings: byte length
    union {
      int64_t integer;   // REDIS_REPLY_INTEGER and REDIS_REPLY_BOOL (0/1)
      double dbl;        // REDIS_REPLY_DOUBLE
      uint64_t offset;   // kInBytes: start of the bytes in bytes_
      const char* ptr;   // kInChunk: the bytes in the caller's chunk
      napi_value value;  // kMade: the finished bulk, valid during this Feed() call
    } v;
  };

  // A map key converted during the current Feed() call (see KeyValue).
  struct KeyCacheEntry {
    static constexpr size_t kMaxLength = 39;
    uint64_t feed;                // feeds_ when cached; other values mean empty
    uint8_t len;                  // key length in bytes
    char bytes[kMaxLength];       // the key
    napi_value value;             // its JS string, valid during that Feed() call
  };

  static void* OnString(const redisReadTask* task, char* str, size_t len);
  static void* OnArray(const redisReadTask* task, size_t elements);
  static void* OnInteger(const redisReadTask* task, long long value);
  static void* OnDouble(const redisReadTask* task, double value, char* str, size_t len);
  static void* OnNil(const redisReadTask* task);
  static void* OnBool(const redisReadTask* task, int value);
  static void OnFree(void* obj);
  static const redisReplyObjectFunctions kFunctions;

  void* Push(const Node& node);
  void* Refuse(std::string message);
  void CheckPendingBulk();
  void KeepPartialReply();
  bool Parse(napi_env env, const JsClasses& js, const char* data, size_t len);
  bool MoveValues(napi_env env, napi_value array, size_t base);
  napi_value ArrayPush(napi_env env, napi_value array);
  const char* BytesOf(const Node& node) const;
  napi_value Convert(napi_env env, const JsClasses& js, size_t* i);
  napi_value ConvertMap(napi_env env, const JsClasses& js, const Node& node, size_t* i);
  napi_value StringValue(napi_env env, const Node& node, bool asBuffer);
  napi_value MakeString(napi_env env, const char* p, size_t len, bool asBuffer);
  napi_value BigNumValue(napi_env env, const Node& node);
  napi_value KeyValue(napi_env env, const Node& node);
  napi_value ObjectAssigner(napi_env env);
  bool AssignPairs(napi_env env, napi_value assign, size_t base);

  // Runs of replies announced by Expect(), oldest first.
  struct ModeRun {
    uint64_t count;  // replies in this run
    bool buffers;    // their bulk strings as Buffers
  };
  bool PeekMode() const;
  bool TakeMode(bool push);

  ReaderOptions options_;
  std::deque<ModeRun> modes_;       // announced reply modes (see Expect)
  bool buffers_ = false;            // the mode of the reply being converted
  redisReader* reader_;
  std::vector<Node> nodes_;         // pre-order nodes of the reply being read
  std::string bytes_;               // string payloads of kInBytes nodes
  std::vector<napi_value> values_;  // converted values waiting for their array (or attribute)
  napi_value push_ = nullptr;       // ArrayPush() during one Feed() call
  std::array<KeyCacheEntry, 64> keys_{};  // recent map keys, by hash
  uint64_t feeds_ = 0;                    // Feed() calls so far: tags keys_ entries
  napi_env env_ = nullptr;                // the env of the references below
  napi_ref pushRef_ = nullptr;            // Array.prototype.push (see ArrayPush)
  napi_ref assignerRef_ = nullptr;        // the JS pair assigner (see ObjectAssigner)
  napi_env feedEnv_ = nullptr;      // the env, during one Feed() call
  const char* chunk_ = nullptr;     // the chunk being fed, during one Feed() call
  uint64_t chunkStart_ = 0;         // value of fed_ where that chunk starts
  std::string error_;               // sticky protocol error; empty while healthy
  std::string refusal_;             // why a callback refused (limit), reported instead of OOM
  uint64_t fed_ = 0;                // bytes handed to hiredis since the last Reset()
  uint64_t replyEnd_ = 0;           // value of fed_ at the end of the last complete reply
};

}  // namespace cyredis
