// A read-only JSON tree for libpg_query's parse trees. Internal to the guard.
//
// The guard reads every statement of a masked session as libpg_query's JSON. Building
// that tree with nlohmann/json cost about 40 us for a 3 KB tree (one std::map and one
// std::string per object and key); RapidJSON's SAX reader fills this compact tree in a
// few microseconds. The node type keeps the small part of nlohmann's interface the walk
// uses (is_object, contains, value, operator[], iteration over arrays), so the walker
// reads the same either way.
//
// Nodes live in the JsonTree that built them and are valid while it lives. A missing key
// or index yields a null node, never an exception. Not thread-safe to build; a finished
// tree may be read from several threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <string>
#include <string_view>

namespace pgveil::guard {

class json {
 public:
  enum class Kind : uint8_t { kNull, kBool, kInt, kDouble, kString, kArray, kObject };

  json() : i_(0) {}

  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_boolean() const { return kind_ == Kind::kBool; }
  bool is_number_integer() const { return kind_ == Kind::kInt; }
  bool is_number() const { return kind_ == Kind::kInt || kind_ == Kind::kDouble; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }

  // As in nlohmann/json: elements of an array, members of an object, 0 for null and 1
  // for any other value.
  size_t size() const { return is_array() || is_object() ? n_ : is_null() ? 0 : 1; }
  bool empty() const { return size() == 0; }

  // Array elements (or object member values), in order.
  const json* begin() const { return is_array() || is_object() ? items_ : nullptr; }
  const json* end() const { return is_array() || is_object() ? items_ + n_ : nullptr; }
  const json& operator[](size_t i) const {
    return (is_array() || is_object()) && i < n_ ? items_[i] : Null();
  }

  // The member `key` of an object, or null.
  const json* find(std::string_view key) const;
  const json& operator[](std::string_view key) const {
    const json* v = find(key);
    return v != nullptr ? *v : Null();
  }
  bool contains(std::string_view key) const { return find(key) != nullptr; }

  // The first member of an object: libpg_query writes a node as {"Type": {...}}.
  std::string_view first_key() const { return is_object() && n_ > 0 ? keys_[0] : ""; }
  const json& first_value() const { return is_object() && n_ > 0 ? items_[0] : Null(); }

  std::string_view str() const { return is_string() ? std::string_view(s_, n_) : ""; }
  int64_t integer() const { return kind_ == Kind::kInt ? i_ : 0; }
  bool boolean() const { return kind_ == Kind::kBool && b_; }

  // The member `key` when it has the wanted type, else `fallback` (nlohmann's value()).
  bool value(std::string_view key, bool fallback) const;
  int64_t value(std::string_view key, int64_t fallback) const;
  int value(std::string_view key, int fallback) const {
    return static_cast<int>(value(key, static_cast<int64_t>(fallback)));
  }
  // An integer member converted as nlohmann/json does (-1 becomes SIZE_MAX).
  size_t value(std::string_view key, size_t fallback) const {
    const json* v = find(key);
    return v != nullptr && v->is_number_integer() ? static_cast<size_t>(v->i_) : fallback;
  }
  std::string value(std::string_view key, const char* fallback) const;

  static const json& Null();

 private:
  friend class JsonTree;
  friend class JsonTreeBuilder;

  Kind kind_ = Kind::kNull;
  bool b_ = false;
  uint32_t n_ = 0;  // string length, element or member count
  union {
    int64_t i_;
    double d_;
    const char* s_;
    const json* items_;
  };
  const std::string_view* keys_ = nullptr;  // objects: the n_ keys, parallel to items_
};

// Owns a parsed tree: the text (parsed in place) and the nodes.
class JsonTree {
 public:
  // Parses `text`. On malformed JSON, ok() is false and root() is null.
  explicit JsonTree(std::string_view text);
  JsonTree(const JsonTree&) = delete;
  JsonTree& operator=(const JsonTree&) = delete;

  bool ok() const { return ok_; }
  const json& root() const { return *root_; }

 private:
  std::string text_;
  std::pmr::monotonic_buffer_resource arena_;
  const json* root_ = &json::Null();
  bool ok_ = false;
};

}  // namespace pgveil::guard
