#include "config/entities.hpp"

#include "net/url.hpp"

namespace ringgate::config {
namespace {

bool has_space_or_control(std::string_view text) {
  for (unsigned char c : text) {
    if (c <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

std::string normalize_api_path(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return std::string(path);
}

bool is_valid_api_path(std::string_view path) {
  return !has_space_or_control(path) && path.find_first_of("?#") == std::string_view::npos &&
         path.find("//") == std::string_view::npos;
}

std::optional<std::string> read_url(simdjson::dom::element value, const std::string& path,
                                    bool allow_path, Problems& problems) {
  std::optional<std::string> text = as_string(value, path, problems);
  if (!text) return std::nullopt;
  std::string reason;
  std::optional<net::HttpUrl> url = net::parse_http_url(*text, reason);
  if (url && !allow_path && !url->path.empty() && url->path != "/") {
    reason = "a backend url has no path";
    url.reset();
  }
  if (!url) {
    problems.add(path,
                 "expected an http:// or https:// URL (" + reason + "), found " + quote(*text));
    return std::nullopt;
  }
  std::string normalized = *text;
  while (!url->path.empty() && url->path.back() == '/') {
    url->path.pop_back();
    normalized.pop_back();
  }
  return normalized;
}

std::optional<std::string> read_api_path(simdjson::dom::element value, const std::string& path,
                                         Problems& problems) {
  std::optional<std::string> text = as_string(value, path, problems);
  if (!text) return std::nullopt;
  std::string normalized = normalize_api_path(*text);
  if (!is_valid_api_path(normalized)) {
    problems.add(path,
                 "expected a URL path such as \"orders\" or \"v1/orders\" (no spaces, '?', "
                 "'#' or empty segments), found " +
                     quote(*text));
    return std::nullopt;
  }
  return normalized;
}

void read_backend_tls(ObjectReader& object, BackendTls& tls) {
  std::optional<simdjson::dom::element> value = object.find("tls");
  if (!value) return;
  std::optional<ObjectReader> tls_object = ObjectReader::open(
      *value, object.path_of("tls"), {"validateCertificateChain", "validateCertificateName"},
      object.problems());
  if (!tls_object) return;
  tls_object->read("validateCertificateChain", tls.validate_certificate_chain);
  tls_object->read("validateCertificateName", tls.validate_certificate_name);
}

std::optional<Backend> read_backend_properties(simdjson::dom::element value,
                                               const std::string& path, Problems& problems) {
  const size_t before = problems.size();
  std::optional<ObjectReader> object =
      ObjectReader::open(value, path, {"url", "tls", "caCertificate"}, problems);
  if (!object) return std::nullopt;
  Backend backend;
  if (std::optional<simdjson::dom::element> url = object->require("url")) {
    if (auto text = read_url(*url, object->path_of("url"), /*allow_path=*/false, problems)) {
      backend.url = *text;
    }
  }
  read_backend_tls(*object, backend.tls);
  if (std::optional<simdjson::dom::element> pem = object->find("caCertificate")) {
    const std::string pem_path = object->path_of("caCertificate");
    if (std::optional<std::string> text = as_string(*pem, pem_path, problems)) {
      if (text->empty()) {
        problems.add(pem_path, "expected PEM certificates, found an empty string");
      } else {
        backend.ca_certificate = std::move(*text);
      }
    }
  }
  if (problems.size() != before) return std::nullopt;
  return backend;
}

std::optional<Api> read_api_properties(simdjson::dom::element value, const std::string& path,
                                       Problems& problems) {
  const size_t before = problems.size();
  std::optional<ObjectReader> object =
      ObjectReader::open(value, path, {"path", "serviceUrl"}, problems);
  if (!object) return std::nullopt;
  Api api;
  if (std::optional<simdjson::dom::element> api_path = object->require("path")) {
    if (auto text = read_api_path(*api_path, object->path_of("path"), problems)) api.path = *text;
  }
  if (std::optional<simdjson::dom::element> url = object->require("serviceUrl")) {
    if (auto text = read_url(*url, object->path_of("serviceUrl"), /*allow_path=*/true, problems)) {
      api.service_url = *text;
    }
  }
  if (problems.size() != before) return std::nullopt;
  return api;
}

}  // namespace ringgate::config
