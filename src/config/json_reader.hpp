// Typed, path-aware reading of a simdjson DOM for the config loader. Every
// reader records a Problem (JSON path + "expected …, found …") instead of
// failing, so one pass reports every mistake in a document. Strings are copied
// out of the parser's buffer; nothing returned here refers to it except the
// dom::element / dom::object handles, which live as long as the parser.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ringgate/config.hpp"

namespace ringgate::config {

// The problems found so far, in the order they were found.
class Problems {
 public:
  void add(std::string path, std::string message);
  bool empty() const { return list_.empty(); }
  size_t size() const { return list_.size(); }
  std::vector<Problem> take() { return std::move(list_); }

 private:
  std::vector<Problem> list_;
};

// "$.a" + "b" → "$.a.b"; a key that is not made of [A-Za-z0-9_-] only is
// written as "$.a[\"b c\"]" so that the path stays unambiguous.
std::string member_path(std::string_view parent, std::string_view key);

// "$.a" + 2 → "$.a[2]".
std::string index_path(std::string_view parent, size_t index);

// `text` as a JSON string literal, with its quotes and escapes.
std::string quote(std::string_view text);

// What a value is, for the "found …" part of a message: `string "four"`,
// `number -3`, `boolean true`, `null`, `an object`, `an array`. Strings
// longer than 80 characters are cut, with "..." after the closing quote.
std::string describe(simdjson::dom::element value);

// Typed views of one value. Each returns nullopt and records a problem at
// `path` when the value has another type (or, for numbers, lies outside
// [min, max]).
std::optional<simdjson::dom::object> as_object(simdjson::dom::element value,
                                               const std::string& path, Problems& problems);
std::optional<simdjson::dom::array> as_array(simdjson::dom::element value, const std::string& path,
                                             Problems& problems);
std::optional<std::string> as_string(simdjson::dom::element value, const std::string& path,
                                     Problems& problems);
std::optional<bool> as_bool(simdjson::dom::element value, const std::string& path,
                            Problems& problems);
std::optional<uint64_t> as_unsigned(simdjson::dom::element value, const std::string& path,
                                    uint64_t min, uint64_t max, Problems& problems);

// One JSON object whose allowed keys are known up front. Opening it reports
// every unknown and every duplicated key; lookups then go by name. Holds a
// reference to `problems`, so it must not outlive it.
class ObjectReader {
 public:
  // Returns nullopt (after recording a problem) when `value` is not an object.
  static std::optional<ObjectReader> open(simdjson::dom::element value, std::string path,
                                          std::initializer_list<std::string_view> keys,
                                          Problems& problems);

  const std::string& path() const { return path_; }
  std::string path_of(std::string_view key) const { return member_path(path_, key); }

  // The value under `key`, or nullopt when the key is absent.
  std::optional<simdjson::dom::element> find(std::string_view key) const;

  // Like find(), but records "required key is missing" when absent.
  std::optional<simdjson::dom::element> require(std::string_view key);

  // Typed reads of an optional key: `out` keeps its value (the default) when
  // the key is absent or its value is invalid.
  void read(std::string_view key, bool& out);
  void read(std::string_view key, std::string& out);
  void read(std::string_view key, uint32_t& out, uint32_t min, uint32_t max);
  void read(std::string_view key, uint64_t& out, uint64_t min, uint64_t max);

  Problems& problems() { return *problems_; }

 private:
  ObjectReader(simdjson::dom::object object, std::string path, Problems& problems)
      : object_(object), path_(std::move(path)), problems_(&problems) {}

  simdjson::dom::object object_;
  std::string path_;
  Problems* problems_;
};

}  // namespace ringgate::config
