// The config file loader (DESIGN §6): JSON text → validated, immutable Config.
// One pass over the simdjson DOM reads every section and records every
// problem with its JSON path; checks that need the whole document (references
// between sections) run at the end. A Config is handed out only when no
// problem was found.
#include "ringgate/config.hpp"

#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <map>
#include <set>
#include <system_error>
#include <utility>

#include "config/entities.hpp"
#include "config/json_reader.hpp"
#include "config/loader.hpp"
#include "files/read_file.hpp"

namespace ringgate::config {
namespace detail {

void Loader::load(element root, Config& config) {
  std::optional<ObjectReader> top =
      ObjectReader::open(root, "$", {"gateway", "certificates", "backends", "apis"}, problems_);
  if (!top) return;
  load_gateway(top->find("gateway"), config.gateway);
  if (std::optional<element> value = top->find("certificates")) {
    load_certificates(*value, config.certificates);
  }
  if (std::optional<element> value = top->find("backends")) load_backends(*value, config.backends);
  if (std::optional<element> value = top->find("apis")) load_apis(*value, config.apis);
  check_certificate_references(config);
}

template <typename LoadEntry>
void Loader::for_each_entry(element value, const std::string& path, LoadEntry&& load_entry) {
  std::optional<simdjson::dom::object> object = as_object(value, path, problems_);
  if (!object) return;
  std::set<std::string_view> seen;
  for (simdjson::dom::key_value_pair field : *object) {
    const std::string entry_path = member_path(path, field.key);
    if (!is_valid_resource_id(field.key)) {
      problems_.add(entry_path, invalid_resource_id_message(field.key));
    } else if (!seen.insert(field.key).second) {
      problems_.add(entry_path, "duplicate id");
    } else {
      load_entry(std::string(field.key), field.value, entry_path);
    }
  }
}

void Loader::load_certificates(element value, std::map<std::string, Certificate>& certificates) {
  for_each_entry(value, "$.certificates",
                 [&](const std::string& id, element entry, const std::string& path) {
                   // Registered even when invalid, so references to it are not
                   // reported a second time as dangling.
                   Certificate& certificate = certificates[id];
                   std::optional<ObjectReader> object =
                       ObjectReader::open(entry, path, {"pfxFile", "passwordFile"}, problems_);
                   if (!object) return;
                   if (object->require("pfxFile")) {
                     if (auto file = read_readable_file(*object, "pfxFile")) {
                       certificate.pfx_file = *file;
                     }
                   }
                   if (auto file = read_readable_file(*object, "passwordFile")) {
                     certificate.password_file = *file;
                   }
                 });
}

void Loader::load_backends(element value, std::map<std::string, Backend>& backends) {
  std::map<std::string, std::string> ids_by_url;
  for_each_entry(
      value, "$.backends", [&](const std::string& id, element entry, const std::string& path) {
        Backend& backend = backends[id];
        std::optional<ObjectReader> object =
            ObjectReader::open(entry, path, {"url", "tls", "caFile"}, problems_);
        if (!object) return;
        if (std::optional<element> url = object->require("url")) {
          if (auto text = read_url(*url, object->path_of("url"), /*allow_path=*/false, problems_)) {
            backend.url = *text;
            // Backends match request URLs by prefix; two with one url are ambiguous.
            auto [it, inserted] = ids_by_url.emplace(*text, id);
            if (!inserted) {
              problems_.add(
                  object->path_of("url"),
                  "url " + quote(*text) + " is already used by backend " + quote(it->second));
            }
          }
        }
        read_backend_tls(*object, backend.tls);
        if (auto file = read_readable_file(*object, "caFile")) backend.ca_file = *file;
      });
}

void Loader::load_apis(element value, std::map<std::string, Api>& apis) {
  std::map<std::string, std::string> ids_by_path;
  for_each_entry(
      value, "$.apis", [&](const std::string& id, element entry, const std::string& path) {
        Api& api = apis[id];
        std::optional<ObjectReader> object =
            ObjectReader::open(entry, path, {"path", "serviceUrl", "policy"}, problems_);
        if (!object) return;
        if (read_api_path(*object, api)) {
          auto [it, inserted] = ids_by_path.emplace(api.path, id);
          if (!inserted) {
            problems_.add(
                object->path_of("path"),
                "path " + quote(api.path) + " is already used by API " + quote(it->second));
          }
        }
        if (std::optional<element> url = object->require("serviceUrl")) {
          if (auto text =
                  read_url(*url, object->path_of("serviceUrl"), /*allow_path=*/true, problems_)) {
            api.service_url = *text;
          }
        }
        // Stored as written; the policy module parses and checks the XML.
        object->read("policy", api.policy);
      });
}

// Reads the optional "path" key, normalized; absent means "" (every request).
// Returns false when a problem was recorded.
bool Loader::read_api_path(ObjectReader& object, Api& api) {
  std::optional<element> value = object.find("path");
  if (!value) return true;
  std::optional<std::string> normalized =
      config::read_api_path(*value, object.path_of("path"), problems_);
  if (!normalized) return false;
  api.path = std::move(*normalized);
  return true;
}

void Loader::check_certificate_references(const Config& config) {
  for (const auto& [path, id] : certificate_references_) {
    if (!config.certificates.contains(id)) {
      problems_.add(path, "unknown certificate " + quote(id) + " (not in $.certificates)");
    }
  }
}

std::optional<SocketAddress> Loader::read_address(element value, const std::string& path,
                                                  bool allow_port_zero) {
  std::optional<std::string> text = as_string(value, path, problems_);
  if (!text) return std::nullopt;
  std::string error;
  std::optional<SocketAddress> address = parse_socket_address(*text, error);
  if (!address) {
    problems_.add(path, error);
    return std::nullopt;
  }
  if (address->port == 0 && !allow_port_zero) {
    problems_.add(path, "port must be between 1 and 65535, found " + quote(*text));
    return std::nullopt;
  }
  return address;
}

// An optional path-valued key, resolved to an absolute path. Not checked on
// disk (a state dir or log file may not exist yet).
std::optional<std::string> Loader::read_path(ObjectReader& object, std::string_view key) {
  std::optional<element> value = object.find(key);
  if (!value) return std::nullopt;
  const std::string path = object.path_of(key);
  std::optional<std::string> text = as_string(*value, path, problems_);
  if (!text) return std::nullopt;
  if (text->empty()) {
    problems_.add(path, "expected a path, found an empty string");
    return std::nullopt;
  }
  return resolve(*text);
}

// Like read_path(), and the file must exist and be readable now.
std::optional<std::string> Loader::read_readable_file(ObjectReader& object, std::string_view key) {
  std::optional<std::string> file = read_path(object, key);
  if (!file) return std::nullopt;
  const files::FileResult checked = files::check_regular_file(*file);
  if (!checked.ok()) {
    problems_.add(object.path_of(key), checked.message());
    return std::nullopt;
  }
  return file;
}

std::string Loader::resolve(std::string_view path) const {
  fs::path resolved(path);
  if (resolved.is_relative()) resolved = base_dir_ / resolved;
  return resolved.lexically_normal().string();
}

}  // namespace detail
namespace {

using detail::Loader;
namespace fs = std::filesystem;
using simdjson::dom::element;

constexpr size_t kMaxConfigBytes = 16 * 1024 * 1024;

LoadResult load_document(const std::string& json, const std::string& base_dir,
                         std::string source_path) {
  LoadResult result;
  Problems problems;
  // The loader itself reports through `problems`; this only turns allocation
  // or filesystem failures into a problem, keeping the no-throw contract.
  try {
    fs::path base = base_dir.empty() ? fs::current_path() : fs::absolute(base_dir);
    simdjson::dom::parser parser;
    element root;
    if (simdjson::error_code error = parser.parse(json).get(root)) {
      problems.add("$", std::string("invalid JSON: ") + simdjson::error_message(error));
    } else {
      auto config = std::make_shared<Config>();
      config->source_path = std::move(source_path);
      Loader(base.lexically_normal(), problems).load(root, *config);
      if (problems.empty()) result.config = std::move(config);
    }
  } catch (const std::exception& e) {
    problems.add("$", std::string("internal error while loading: ") + e.what());
  }
  result.problems = problems.take();
  return result;
}

}  // namespace

LoadResult load_file(const std::string& path) {
  std::string absolute;
  try {
    absolute = fs::absolute(path).lexically_normal().string();
  } catch (const std::exception& e) {
    return LoadResult{nullptr, {Problem{"$", "cannot resolve " + quote(path) + ": " + e.what()}}};
  }
  const files::FileResult file = files::read_regular_file(absolute, kMaxConfigBytes);
  if (!file.ok()) {
    return LoadResult{
        nullptr, {Problem{"$", "cannot read config file " + quote(absolute) + ": " + file.reason}}};
  }
  return load_document(file.contents, fs::path(absolute).parent_path().string(), absolute);
}

LoadResult load_string(const std::string& json, const std::string& base_dir) {
  return load_document(json, base_dir, "");
}

}  // namespace ringgate::config
