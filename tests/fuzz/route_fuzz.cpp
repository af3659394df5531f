// Path normalisation (http::normalize_target), then routing (http::Router)
// against a plain reference implementation of DESIGN §4.3's rule, and the
// backend URL helpers.
//
// Input: lines separated by '\n': the request-target, a service URL, then up
// to 16 API paths.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "http/message.hpp"
#include "http/path.hpp"
#include "http/router.hpp"

namespace {

using ringgate::fuzz::Input;
using ringgate::fuzz::printable;
using ringgate::http::RouteMatch;
using ringgate::http::Router;

constexpr size_t kMaxApis = 16;

std::string_view strip_slashes(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return path;
}

size_t segment_count(std::string_view key) {
  size_t n = 1;
  for (char c : key) n += c == '/' ? 1 : 0;
  return n;
}

// The rule, written the slow and obvious way: the longest API path equal to
// the request path (after its '/') or followed there by '/'; on a tie the
// lower index; the API with path "" when nothing else matches.
std::optional<RouteMatch> reference_match(const std::vector<std::string>& apis,
                                          std::string_view target) {
  if (target.empty() || target.front() != '/') return std::nullopt;
  RouteMatch m;
  std::string_view path = target;
  if (size_t q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    m.query = target.substr(q + 1);
    m.has_query = true;
  }
  const std::string_view rest = path.substr(1);
  std::optional<uint32_t> best;
  size_t best_length = 0;
  std::optional<uint32_t> root;
  for (uint32_t i = 0; i < apis.size(); ++i) {
    const std::string_view key = strip_slashes(apis[i]);
    if (key.empty()) {
      if (!root) root = i;
      continue;
    }
    if (segment_count(key) > Router::kMaxSegments) continue;
    const bool whole = rest == key || (rest.size() > key.size() && rest.starts_with(key) &&
                                       rest[key.size()] == '/');
    if (whole && (!best || key.size() > best_length)) {
      best = i;
      best_length = key.size();
    }
  }
  if (best) {
    m.api_index = *best;
    m.remainder = path.substr(1 + best_length);
    return m;
  }
  if (!root) return std::nullopt;
  m.api_index = *root;
  m.remainder = path;
  return m;
}

std::string describe(const std::optional<RouteMatch>& m) {
  if (!m) return "no match";
  return "api " + std::to_string(m->api_index) + " remainder '" + printable(m->remainder) +
         "' query " + (m->has_query ? "'" + printable(m->query) + "'" : "none");
}

void check_routing(const std::vector<std::string>& apis, std::string_view target) {
  const Router router(apis);
  const std::optional<RouteMatch> got = router.match(target);
  const std::optional<RouteMatch> want = reference_match(apis, target);
  const bool same =
      got.has_value() == want.has_value() &&
      (!got || (got->api_index == want->api_index && got->remainder == want->remainder &&
                got->query == want->query && got->has_query == want->has_query));
  FUZZ_CHECK(same, "target '" + printable(target) + "': router " + describe(got) + ", reference " +
                       describe(want));
  if (got) {
    FUZZ_CHECK(got->remainder.empty() || got->remainder.front() == '/' ||
               strip_slashes(apis[got->api_index]).empty());
  }
}

void check_service_url(std::string_view text, const std::optional<RouteMatch>& match) {
  std::string error;
  const std::optional<ringgate::http::ServiceUrl> url =
      ringgate::http::parse_service_url(text, error);
  FUZZ_CHECK(url.has_value() == error.empty(), printable(text));
  if (!url) return;
  FUZZ_CHECK(!url->host.empty() && url->port != 0, printable(text));
  FUZZ_CHECK(
      url->base_path.empty() || (url->base_path.front() == '/' && url->base_path.back() != '/'),
      printable(text));
  // What origin() prints parses back to the same endpoint.
  const std::string again_text = url->origin() + url->base_path;
  const std::optional<ringgate::http::ServiceUrl> again =
      ringgate::http::parse_service_url(again_text, error);
  FUZZ_CHECK(again && again->tls == url->tls && again->host == url->host &&
                 again->port == url->port && again->base_path == url->base_path &&
                 again->host_header == url->host_header,
             printable(text) + " -> " + printable(again_text));
  if (!match) return;
  std::string target;
  ringgate::http::append_backend_target(target, url->base_path, *match);
  // The backend sees its base path, then exactly what followed the API path.
  const std::string_view path = std::string_view(target).substr(0, target.find('?'));
  FUZZ_CHECK(path.starts_with('/') && path.starts_with(url->base_path), printable(target));
  FUZZ_CHECK(path.substr(url->base_path.size()) == match->remainder ||
                 (match->remainder.empty() && path == "/"),
             printable(target));
}

bool contains_ignore_case(std::string_view text, std::string_view needle) {
  for (size_t i = 0; i + needle.size() <= text.size(); ++i) {
    if (ringgate::http::equals_ignore_case(text.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

// What DESIGN §4.3 promises of a path that passed normalisation: nothing in
// it can take a backend outside the API's base or be decoded into a
// separator there.
void check_normalized(std::string_view target, const std::string& out) {
  const std::string where = printable(target) + " -> " + printable(out);
  const std::string_view path = std::string_view(out).substr(0, out.find('?'));
  FUZZ_CHECK(path.starts_with('/'), where);
  FUZZ_CHECK(out.size() <= target.size(), where);
  for (std::string_view bad : {"%2F", "%5C", "%00"}) {
    FUZZ_CHECK(!contains_ignore_case(path, bad), where);
  }
  FUZZ_CHECK(path.find('\\') == std::string_view::npos, where);
  FUZZ_CHECK(path.find('\0') == std::string_view::npos, where);
  FUZZ_CHECK(path.find("//") == std::string_view::npos, where);
  size_t start = 1;
  while (start <= path.size()) {
    const size_t end = std::min(path.find('/', start), path.size());
    const std::string_view segment = path.substr(start, end - start);
    FUZZ_CHECK(segment != "." && segment != "..", where);
    start = end + 1;
  }
  std::string again;
  FUZZ_CHECK(ringgate::http::normalize_target(out, again) == ringgate::http::PathError::kNone,
             where);
  FUZZ_CHECK(again == out, where + " -> " + printable(again));
}

// Normalises `target`; on success checks the result and returns it.
std::optional<std::string> normalize(std::string_view target) {
  std::string out;
  out.reserve(target.size());
  const size_t capacity = out.capacity();
  const ringgate::http::PathError error = ringgate::http::normalize_target(target, out);
  FUZZ_CHECK(ringgate::http::describe(error) != nullptr);
  if (error != ringgate::http::PathError::kNone) return std::nullopt;
  FUZZ_CHECK(out.capacity() == capacity, "normalising allocated: " + printable(target));
  check_normalized(target, out);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input input(data, size);
  const std::string_view target = input.take_until('\n');
  const std::string_view service_url = input.take_until('\n');
  std::vector<std::string> apis;
  while (!input.empty() && apis.size() < kMaxApis) apis.emplace_back(input.take_until('\n'));

  check_routing(apis, target);
  const std::optional<std::string> normalized = normalize(target);
  if (normalized) check_routing(apis, *normalized);
  const Router router(apis);
  check_service_url(service_url, router.match(normalized ? *normalized : target));
  return 0;
}
