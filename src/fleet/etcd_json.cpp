#include "fleet/etcd_json.hpp"

#include <charconv>
#include <nlohmann/json.hpp>

#include "files/base64.hpp"

namespace ringgate::fleet {
namespace {

using nlohmann::json;

const char* target_name(Compare::Target target) {
  switch (target) {
    case Compare::Target::kModRevision:
      return "MOD";
    case Compare::Target::kCreateRevision:
      return "CREATE";
    case Compare::Target::kVersion:
      return "VERSION";
  }
  return "MOD";
}

// The field that carries the compared value for each target.
const char* target_field(Compare::Target target) {
  switch (target) {
    case Compare::Target::kModRevision:
      return "mod_revision";
    case Compare::Target::kCreateRevision:
      return "create_revision";
    case Compare::Target::kVersion:
      return "version";
  }
  return "mod_revision";
}

const char* result_name(Compare::Result result) {
  switch (result) {
    case Compare::Result::kEqual:
      return "EQUAL";
    case Compare::Result::kNotEqual:
      return "NOT_EQUAL";
    case Compare::Result::kLess:
      return "LESS";
    case Compare::Result::kGreater:
      return "GREATER";
  }
  return "EQUAL";
}

json operations_json(const std::vector<Operation>& operations) {
  json out = json::array();
  for (const auto& op : operations) {
    if (op.kind == Operation::Kind::kPut) {
      out.push_back(
          {{"request_put",
            {{"key", files::base64_encode(op.key)}, {"value", files::base64_encode(op.value)}}}});
    } else {
      out.push_back({{"request_delete_range", {{"key", files::base64_encode(op.key)}}}});
    }
  }
  return out;
}

// An int64 field: the gateway writes them as strings; absent means 0.
int64_t int_field(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (!it->is_string()) throw std::invalid_argument(std::string(name) + " is not an integer");
  const auto& text = it->get_ref<const std::string&>();
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw std::invalid_argument(std::string(name) + " is not an integer");
  }
  return value;
}

// A base64 field; absent means empty.
std::string bytes_field(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end()) return {};
  if (!it->is_string()) throw std::invalid_argument(std::string(name) + " is not a string");
  std::string decoded;
  if (!files::base64_decode(it->get_ref<const std::string&>(), decoded)) {
    throw std::invalid_argument(std::string(name) + " is not base64");
  }
  return decoded;
}

bool bool_field(const json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

KeyValue key_value(const json& kv) {
  KeyValue out;
  out.key = bytes_field(kv, "key");
  out.value = bytes_field(kv, "value");
  out.create_revision = int_field(kv, "create_revision");
  out.mod_revision = int_field(kv, "mod_revision");
  out.version = int_field(kv, "version");
  return out;
}

int64_t header_revision(const json& object) {
  auto it = object.find("header");
  return it == object.end() || !it->is_object() ? 0 : int_field(*it, "revision");
}

json parse_object(std::string_view body) {
  json parsed = json::parse(body.begin(), body.end(), nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    throw std::invalid_argument("the answer is not a JSON object");
  }
  return parsed;
}

}  // namespace

std::string prefix_range_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

std::string range_request_json(std::string_view key, std::string_view range_end) {
  json body = {{"key", files::base64_encode(key)}};
  if (!range_end.empty()) body["range_end"] = files::base64_encode(range_end);
  return body.dump();
}

std::string txn_request_json(const std::vector<Compare>& compares,
                             const std::vector<Operation>& on_success,
                             const std::vector<Operation>& on_failure) {
  json compare = json::array();
  for (const auto& c : compares) {
    json one = {{"key", files::base64_encode(c.key)},
                {"target", target_name(c.target)},
                {"result", result_name(c.result)},
                {target_field(c.target), std::to_string(c.value)}};
    if (!c.range_end.empty()) one["range_end"] = files::base64_encode(c.range_end);
    compare.push_back(std::move(one));
  }
  json body = {{"compare", std::move(compare)},
               {"success", operations_json(on_success)},
               {"failure", operations_json(on_failure)}};
  return body.dump();
}

std::string watch_request_json(std::string_view key, std::string_view range_end,
                               int64_t start_revision) {
  json create = {{"key", files::base64_encode(key)}, {"progress_notify", true}};
  if (!range_end.empty()) create["range_end"] = files::base64_encode(range_end);
  if (start_revision > 0) create["start_revision"] = std::to_string(start_revision);
  return json{{"create_request", std::move(create)}}.dump();
}

RangeResult parse_range_response(std::string_view body) {
  RangeResult out;
  try {
    json parsed = parse_object(body);
    out.revision = header_revision(parsed);
    auto kvs = parsed.find("kvs");
    if (kvs != parsed.end() && kvs->is_array()) {
      for (const auto& kv : *kvs) out.kvs.push_back(key_value(kv));
    }
  } catch (const std::exception& e) {
    out = RangeResult{};
    out.error = std::string("unreadable range answer: ") + e.what();
  }
  return out;
}

TxnResult parse_txn_response(std::string_view body) {
  TxnResult out;
  try {
    json parsed = parse_object(body);
    out.revision = header_revision(parsed);
    out.succeeded = bool_field(parsed, "succeeded");
  } catch (const std::exception& e) {
    out = TxnResult{};
    out.error = std::string("unreadable txn answer: ") + e.what();
  }
  return out;
}

std::string parse_status_response(std::string_view body) {
  json parsed = json::parse(body.begin(), body.end(), nullptr, false);
  if (!parsed.is_object()) return "unreadable status answer: not a JSON object";
  // Member ids are uint64s (written as strings): any non-zero one will do.
  auto leader = parsed.find("leader");
  bool none = leader == parsed.end() ||
              (leader->is_string() && (*leader == "0" || *leader == "")) ||
              (leader->is_number() && *leader == 0);
  return none ? "the member has no leader" : "";
}

GatewayError parse_gateway_error(std::string_view body) {
  GatewayError out;
  json parsed = json::parse(body.begin(), body.end(), nullptr, false);
  if (parsed.is_object()) {
    for (const char* name : {"message", "error"}) {
      auto it = parsed.find(name);
      if (it != parsed.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
        out.message = it->get<std::string>();
        break;
      }
    }
    auto code = parsed.find("code");
    if (code != parsed.end() && code->is_number_integer()) out.code = code->get<int>();
    if (!out.message.empty()) return out;
  }
  out.message = std::string(body.substr(0, 200));
  return out;
}

WatchMessage parse_watch_message(std::string_view object) {
  WatchMessage out;
  try {
    json parsed = parse_object(object);
    auto error = parsed.find("error");
    if (error != parsed.end()) {
      out.error = "the gateway ended the watch: " +
                  (error->is_object() ? parse_gateway_error(error->dump()).message : error->dump());
      return out;
    }
    auto result = parsed.find("result");
    if (result == parsed.end() || !result->is_object()) {
      throw std::invalid_argument("a watch message without \"result\"");
    }
    out.revision = header_revision(*result);
    out.created = bool_field(*result, "created");
    out.canceled = bool_field(*result, "canceled");
    out.compact_revision = int_field(*result, "compact_revision");
    auto reason = result->find("cancel_reason");
    if (reason != result->end() && reason->is_string())
      out.cancel_reason = reason->get<std::string>();
    auto events = result->find("events");
    if (events != result->end() && events->is_array()) {
      for (const auto& e : *events) {
        WatchEvent event;
        auto type = e.find("type");
        // PUT is the enum's default, so the gateway leaves it out.
        if (type != e.end() && type->is_string() && *type == "DELETE") {
          event.type = WatchEvent::Type::kDelete;
        }
        auto kv = e.find("kv");
        if (kv != e.end() && kv->is_object()) event.kv = key_value(*kv);
        out.events.push_back(std::move(event));
      }
    }
  } catch (const std::exception& e) {
    out = WatchMessage{};
    out.error = std::string("unreadable watch message: ") + e.what();
  }
  return out;
}

size_t json_object_length(std::string_view bytes, size_t& skipped) {
  size_t i = 0;
  while (i < bytes.size() &&
         (bytes[i] == ' ' || bytes[i] == '\n' || bytes[i] == '\r' || bytes[i] == '\t')) {
    ++i;
  }
  skipped = i;
  if (i == bytes.size()) return 0;
  if (bytes[i] != '{') return std::string_view::npos;
  int depth = 0;
  bool in_string = false;
  for (size_t j = i; j < bytes.size(); ++j) {
    char c = bytes[j];
    if (in_string) {
      if (c == '\\') {
        ++j;  // the escaped character, whatever it is
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return j + 1 - i;
    }
  }
  return 0;
}

}  // namespace ringgate::fleet
