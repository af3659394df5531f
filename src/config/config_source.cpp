// gateway.configSource: where the entities made through the admin API are
// kept, the state dir ("local") or etcd ("etcd"). For etcd the key file is
// read and checked here, so --check-config finds a key file that the gateway
// could not use.
#include <algorithm>
#include <cctype>
#include <map>

#include "config/loader.hpp"
#include "fleet/sealed.hpp"
#include "net/url.hpp"

namespace ringgate::config::detail {
namespace {

constexpr std::string_view kEndpointExpectation =
    "expected \"http://host:port\" or \"https://host:port\"";

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// An endpoint as etcd's client would be given it: scheme and host in lower
// case, an IPv6 host in brackets, the port always written. nullopt after
// recording a problem at `path`.
std::optional<std::string> read_endpoint(element value, const std::string& path,
                                         Problems& problems) {
  std::optional<std::string> text = as_string(value, path, problems);
  if (!text) return std::nullopt;
  std::string reason;
  std::optional<net::HttpUrl> url = net::parse_http_url(*text, reason);
  if (url && !url->port) reason = "the port must be given";
  if (url && !url->path.empty() && url->path != "/") reason = "an etcd endpoint has no path";
  if (!url || !reason.empty()) {
    problems.add(path,
                 std::string(kEndpointExpectation) + " (" + reason + "), found " + quote(*text));
    return std::nullopt;
  }
  const std::string host =
      url->host.find(':') != std::string::npos ? "[" + url->host + "]" : lower(url->host);
  return std::string(url->tls ? "https://" : "http://") + host + ":" +
         std::to_string(url->port_or_default());
}

bool is_valid_prefix(std::string_view prefix) {
  if (prefix.empty() || prefix.front() != '/' || prefix.back() != '/') return false;
  return std::none_of(prefix.begin(), prefix.end(),
                      [](unsigned char c) { return c <= 0x20 || c == 0x7f; });
}

}  // namespace

void Loader::load_config_source(element value, const std::string& path, ConfigSource& source) {
  std::optional<ObjectReader> object = ObjectReader::open(
      value, path, {"type", "endpoints", "prefix", "caFile", "certificateId", "encryptionKeyFile"},
      problems_);
  if (!object) return;
  std::optional<element> type = object->require("type");
  if (!type) return;
  std::optional<std::string> name = as_string(*type, object->path_of("type"), problems_);
  if (!name) return;
  if (*name == "local") {
    // The etcd keys mean nothing here; reject them rather than ignore them.
    for (std::string_view key :
         {"endpoints", "prefix", "caFile", "certificateId", "encryptionKeyFile"}) {
      if (object->find(key)) {
        problems_.add(object->path_of(key), "only for \"type\": \"etcd\"");
      }
    }
    source = ConfigSource{};
    return;
  }
  if (*name != "etcd") {
    problems_.add(object->path_of("type"), "expected \"local\" or \"etcd\", found " + quote(*name));
    return;
  }
  source.type = ConfigSource::Type::kEtcd;
  load_etcd_source(*object, source);
}

void Loader::load_etcd_source(ObjectReader& object, ConfigSource& source) {
  if (std::optional<element> endpoints = object.require("endpoints")) {
    read_endpoints(*endpoints, object.path_of("endpoints"), source.endpoints);
  }
  if (std::optional<element> prefix = object.find("prefix")) {
    const std::string prefix_path = object.path_of("prefix");
    if (std::optional<std::string> text = as_string(*prefix, prefix_path, problems_)) {
      if (is_valid_prefix(*text)) {
        source.prefix = *text;
      } else {
        problems_.add(prefix_path,
                      "expected a key prefix that starts and ends with '/' and holds no spaces "
                      "or control characters, found " +
                          quote(*text));
      }
    }
  }
  if (object.require("encryptionKeyFile")) {
    if (std::optional<std::string> file = read_path(object, "encryptionKeyFile")) {
      source.encryption_key_file = *file;
      std::vector<std::string> key_problems;
      // Loaded only to be checked: the keys are read again where they are used.
      fleet::KeyRing::load(*file, key_problems);
      for (std::string& problem : key_problems) {
        problems_.add(object.path_of("encryptionKeyFile"), std::move(problem));
      }
    }
  }
  // TLS settings mean nothing without an https endpoint; a plain-http list
  // that carries them is most likely a mistyped scheme.
  const bool any_https =
      std::any_of(source.endpoints.begin(), source.endpoints.end(),
                  [](const std::string& endpoint) { return endpoint.starts_with("https://"); });
  for (std::string_view key : {"caFile", "certificateId"}) {
    if (object.find(key) && !source.endpoints.empty() && !any_https) {
      problems_.add(object.path_of(key), "only with an https:// endpoint");
    }
  }
  if (auto file = read_readable_file(object, "caFile")) source.ca_file = *file;
  if (std::optional<element> id = object.find("certificateId")) {
    const std::string id_path = object.path_of("certificateId");
    if (std::optional<std::string> text = as_string(*id, id_path, problems_)) {
      source.certificate_id = *text;
      certificate_references_.emplace_back(id_path, *text);
    }
  }
}

void Loader::read_endpoints(element value, const std::string& path,
                            std::vector<std::string>& endpoints) {
  std::optional<simdjson::dom::array> array = as_array(value, path, problems_);
  if (!array) return;
  std::map<std::string, std::string> paths_by_endpoint;
  size_t index = 0;
  for (element item : *array) {
    const std::string item_path = index_path(path, index++);
    std::optional<std::string> endpoint = read_endpoint(item, item_path, problems_);
    if (!endpoint) continue;
    if (auto [it, inserted] = paths_by_endpoint.emplace(*endpoint, item_path); !inserted) {
      problems_.add(item_path, "endpoint " + quote(*endpoint) + " is also at " + it->second);
      continue;
    }
    endpoints.push_back(std::move(*endpoint));
  }
  if (index == 0) problems_.add(path, "expected at least one etcd endpoint, found an empty array");
}

}  // namespace ringgate::config::detail
