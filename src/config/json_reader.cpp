#include "config/json_reader.hpp"

#include <algorithm>
#include <set>

namespace ringgate::config {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

constexpr size_t kQuoteLimit = 80;

bool is_plain_key(std::string_view key) {
  if (key.empty()) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

std::string expected_keys(std::initializer_list<std::string_view> keys) {
  std::string text;
  for (std::string_view key : keys) {
    if (!text.empty()) text += ", ";
    text += key;
  }
  return text;
}

}  // namespace

void Problems::add(std::string path, std::string message) {
  list_.push_back(Problem{std::move(path), std::move(message)});
}

std::string member_path(std::string_view parent, std::string_view key) {
  std::string path(parent);
  if (is_plain_key(key)) {
    path += '.';
    path += key;
  } else {
    path += '[';
    path += quote(key);
    path += ']';
  }
  return path;
}

std::string index_path(std::string_view parent, size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

std::string quote(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

std::string describe(element value) {
  switch (value.type()) {
    case element_type::STRING: {
      std::string_view text;
      if (value.get_string().get(text) != simdjson::SUCCESS) return "a string";
      // A long string (a policy, say) is cut so the message stays readable.
      if (text.size() > kQuoteLimit) return "string " + quote(text.substr(0, kQuoteLimit)) + "...";
      return "string " + quote(text);
    }
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      return "number " + simdjson::minify(value);
    case element_type::BOOL:
      return "boolean " + simdjson::minify(value);
    case element_type::NULL_VALUE:
      return "null";
    case element_type::OBJECT:
      return "an object";
    case element_type::ARRAY:
      return "an array";
  }
  return "an unknown value";
}

std::optional<simdjson::dom::object> as_object(element value, const std::string& path,
                                               Problems& problems) {
  simdjson::dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) {
    problems.add(path, "expected an object, found " + describe(value));
    return std::nullopt;
  }
  return object;
}

std::optional<simdjson::dom::array> as_array(element value, const std::string& path,
                                             Problems& problems) {
  simdjson::dom::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS) {
    problems.add(path, "expected an array, found " + describe(value));
    return std::nullopt;
  }
  return array;
}

std::optional<std::string> as_string(element value, const std::string& path, Problems& problems) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) {
    problems.add(path, "expected a string, found " + describe(value));
    return std::nullopt;
  }
  return std::string(text);
}

std::optional<bool> as_bool(element value, const std::string& path, Problems& problems) {
  bool flag = false;
  if (value.get_bool().get(flag) != simdjson::SUCCESS) {
    problems.add(path, "expected true or false, found " + describe(value));
    return std::nullopt;
  }
  return flag;
}

std::optional<uint64_t> as_unsigned(element value, const std::string& path, uint64_t min,
                                    uint64_t max, Problems& problems) {
  uint64_t number = 0;
  const element_type type = value.type();
  const bool integral = type == element_type::INT64 || type == element_type::UINT64;
  if (!integral || value.get_uint64().get(number) != simdjson::SUCCESS) {
    problems.add(path, "expected an unsigned integer, found " + describe(value));
    return std::nullopt;
  }
  if (number < min || number > max) {
    problems.add(path, "expected an integer from " + std::to_string(min) + " to " +
                           std::to_string(max) + ", found " + std::to_string(number));
    return std::nullopt;
  }
  return number;
}

std::optional<ObjectReader> ObjectReader::open(element value, std::string path,
                                               std::initializer_list<std::string_view> keys,
                                               Problems& problems) {
  std::optional<simdjson::dom::object> object = as_object(value, path, problems);
  if (!object) return std::nullopt;
  std::set<std::string_view> seen;
  for (simdjson::dom::key_value_pair field : *object) {
    if (std::find(keys.begin(), keys.end(), field.key) == keys.end()) {
      problems.add(member_path(path, field.key),
                   "unknown key (expected one of: " + expected_keys(keys) + ")");
    } else if (!seen.insert(field.key).second) {
      problems.add(member_path(path, field.key), "duplicate key");
    }
  }
  return ObjectReader(*object, std::move(path), problems);
}

std::optional<element> ObjectReader::find(std::string_view key) const {
  element value;
  if (object_.at_key(key).get(value) != simdjson::SUCCESS) return std::nullopt;
  return value;
}

std::optional<element> ObjectReader::require(std::string_view key) {
  std::optional<element> value = find(key);
  if (!value) problems_->add(path_of(key), "required key is missing");
  return value;
}

void ObjectReader::read(std::string_view key, bool& out) {
  if (std::optional<element> value = find(key)) {
    if (std::optional<bool> flag = as_bool(*value, path_of(key), *problems_)) out = *flag;
  }
}

void ObjectReader::read(std::string_view key, std::string& out) {
  if (std::optional<element> value = find(key)) {
    if (std::optional<std::string> text = as_string(*value, path_of(key), *problems_)) {
      out = std::move(*text);
    }
  }
}

void ObjectReader::read(std::string_view key, uint32_t& out, uint32_t min, uint32_t max) {
  if (std::optional<element> value = find(key)) {
    if (std::optional<uint64_t> n = as_unsigned(*value, path_of(key), min, max, *problems_)) {
      out = static_cast<uint32_t>(*n);
    }
  }
}

void ObjectReader::read(std::string_view key, uint64_t& out, uint64_t min, uint64_t max) {
  if (std::optional<element> value = find(key)) {
    if (std::optional<uint64_t> n = as_unsigned(*value, path_of(key), min, max, *problems_)) {
      out = *n;
    }
  }
}

}  // namespace ringgate::config
