// The rules for the entities a configuration names (certificates, backends,
// APIs), wherever they are written: the config file, an admin API body, the
// state dir. One definition each, so the three cannot drift apart.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "config/json_reader.hpp"
#include "ringgate/config.hpp"
#include "ringgate/resource_id.hpp"

namespace ringgate::config {

// An API path as stored: without leading or trailing '/', so "/orders/" and
// "orders" are one path.
std::string normalize_api_path(std::string_view path);

// A normalized API path without spaces, control characters, '?', '#' or
// empty segments.
bool is_valid_api_path(std::string_view path);

// A URL-valued string: "http(s)://host[:port]" plus, with `allow_path`, a
// path. Returned as written less trailing '/' on its path (".../api/" and
// ".../api" route alike); nullopt after recording a problem at `path`.
std::optional<std::string> read_url(simdjson::dom::element value, const std::string& path,
                                    bool allow_path, Problems& problems);

// An API's "path" value, normalized; nullopt after recording a problem.
std::optional<std::string> read_api_path(simdjson::dom::element value, const std::string& path,
                                         Problems& problems);

// The optional "tls" object of a backend entity under `object`:
// {"validateCertificateChain": bool, "validateCertificateName": bool}.
void read_backend_tls(ObjectReader& object, BackendTls& tls);

// Entity properties as the admin API takes them and the state dir keeps them:
//   backend {"url": "https://host:port", "tls": {…}, "caCertificate": "<PEM>"}
//   api     {"path": "orders", "serviceUrl": "https://host:port/base"}
// `url` and `serviceUrl` are required, as is `path` (the empty string routes
// every request). Every problem (unknown key, wrong type, bad URL) is
// recorded under `path`; nullopt when there was any.
std::optional<Backend> read_backend_properties(simdjson::dom::element value,
                                               const std::string& path, Problems& problems);
std::optional<Api> read_api_properties(simdjson::dom::element value, const std::string& path,
                                       Problems& problems);

}  // namespace ringgate::config
