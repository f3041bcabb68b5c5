#include "guard/json_tree.h"

#include <rapidjson/reader.h>

#include <cstring>
#include <limits>
#include <vector>

namespace pgveil::guard {

const json& json::Null() {
  static const json kNull;
  return kNull;
}

const json* json::find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (uint32_t k = 0; k < n_; ++k) {
    if (keys_[k] == key) return &items_[k];
  }
  return nullptr;
}

bool json::value(std::string_view key, bool fallback) const {
  const json* v = find(key);
  return v != nullptr && v->is_boolean() ? v->b_ : fallback;
}

int64_t json::value(std::string_view key, int64_t fallback) const {
  const json* v = find(key);
  return v != nullptr && v->is_number_integer() ? v->i_ : fallback;
}

std::string json::value(std::string_view key, const char* fallback) const {
  const json* v = find(key);
  return v != nullptr && v->is_string() ? std::string(v->str()) : std::string(fallback);
}

// RapidJSON SAX handler: values wait on a stack until their container ends, then move
// into one contiguous array of the arena.
class JsonTreeBuilder {
 public:
  explicit JsonTreeBuilder(std::pmr::memory_resource* arena) : arena_(arena) {}

  bool Null() { return Push(json()); }
  bool Bool(bool b) {
    json v;
    v.kind_ = json::Kind::kBool;
    v.b_ = b;
    return Push(v);
  }
  bool Int(int i) { return Int64(i); }
  bool Uint(unsigned u) { return Int64(u); }
  bool Int64(int64_t i) {
    json v;
    v.kind_ = json::Kind::kInt;
    v.i_ = i;
    return Push(v);
  }
  bool Uint64(uint64_t u) {
    if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Int64(static_cast<int64_t>(u));
    }
    return Double(static_cast<double>(u));
  }
  bool Double(double d) {
    json v;
    v.kind_ = json::Kind::kDouble;
    v.d_ = d;
    return Push(v);
  }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return false; }
  bool String(const char* s, rapidjson::SizeType len, bool copy) {
    json v;
    v.kind_ = json::Kind::kString;
    v.s_ = copy ? Copy(s, len) : s;
    v.n_ = len;
    return Push(v);
  }
  bool Key(const char* s, rapidjson::SizeType len, bool copy) {
    keys_.emplace_back(copy ? Copy(s, len) : s, len);
    return true;
  }
  bool StartObject() { return Start(); }
  bool StartArray() { return Start(); }
  bool EndObject(rapidjson::SizeType members) { return End(json::Kind::kObject, members); }
  bool EndArray(rapidjson::SizeType elements) { return End(json::Kind::kArray, elements); }

  const json* Root() {
    if (values_.size() != 1) return nullptr;
    return new (arena_->allocate(sizeof(json), alignof(json))) json(values_[0]);
  }

 private:
  struct Frame {
    size_t values, keys;
  };

  bool Push(const json& v) {
    values_.push_back(v);
    return true;
  }
  bool Start() {
    frames_.push_back({values_.size(), keys_.size()});
    return true;
  }
  bool End(json::Kind kind, size_t n) {
    if (frames_.empty()) return false;
    Frame f = frames_.back();
    frames_.pop_back();
    if (values_.size() - f.values != n) return false;
    if (kind == json::Kind::kObject && keys_.size() - f.keys != n) return false;
    json v;
    v.kind_ = kind;
    v.n_ = static_cast<uint32_t>(n);
    json* items = static_cast<json*>(arena_->allocate(sizeof(json) * (n ? n : 1), alignof(json)));
    for (size_t k = 0; k < n; ++k) new (items + k) json(values_[f.values + k]);
    v.items_ = items;
    if (kind == json::Kind::kObject) {
      auto* keys = static_cast<std::string_view*>(
          arena_->allocate(sizeof(std::string_view) * (n ? n : 1), alignof(std::string_view)));
      for (size_t k = 0; k < n; ++k) new (keys + k) std::string_view(keys_[f.keys + k]);
      v.keys_ = keys;
      keys_.resize(f.keys);
    }
    values_.resize(f.values);
    return Push(v);
  }
  const char* Copy(const char* s, size_t len) {
    char* out = static_cast<char*>(arena_->allocate(len + 1, 1));
    std::memcpy(out, s, len);
    out[len] = '\0';
    return out;
  }

  std::pmr::memory_resource* arena_;
  std::vector<json> values_;
  std::vector<std::string_view> keys_;
  std::vector<Frame> frames_;
};

// Iterative parsing: the tree of a deeply nested statement must not exhaust the stack.
JsonTree::JsonTree(std::string_view text) : text_(text), arena_(text.size() * 4 + 1024) {
  JsonTreeBuilder builder(&arena_);
  rapidjson::Reader reader;
  rapidjson::InsituStringStream in(text_.data());
  rapidjson::ParseResult r =
      reader.Parse<rapidjson::kParseInsituFlag | rapidjson::kParseStopWhenDoneFlag |
                   rapidjson::kParseIterativeFlag>(in, builder);
  if (!r) return;
  const json* root = builder.Root();
  if (root == nullptr) return;
  root_ = root;
  ok_ = true;
}

}  // namespace pgveil::guard
