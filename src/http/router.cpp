#include "http/router.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <initializer_list>

#include "http/message.hpp"
#include "net/url.hpp"

namespace ringgate::http {
namespace {

constexpr uint64_t kFnvOffset = 14695981039346656037ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

// FNV-1a works byte by byte, so the hash of a path prefix extends to the hash
// of a longer prefix: match() hashes every segment boundary in one pass.
constexpr uint64_t fnv_step(uint64_t h, char c) noexcept {
  return (h ^ static_cast<unsigned char>(c)) * kFnvPrime;
}

uint64_t fnv_hash(std::string_view s) noexcept {
  uint64_t h = kFnvOffset;
  for (char c : s) h = fnv_step(h, c);
  return h;
}

std::string_view strip_slashes(std::string_view path) noexcept {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return path;
}

uint32_t segment_count(std::string_view key) noexcept {
  uint32_t n = 1;
  for (char c : key) n += c == '/' ? 1 : 0;
  return n;
}

}  // namespace

Router::Router(const std::vector<std::string>& api_paths) {
  size_t capacity = std::bit_ceil(std::max<size_t>(16, api_paths.size() * 2));
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
  for (size_t i = 0; i < api_paths.size(); ++i) {
    std::string_view key = strip_slashes(api_paths[i]);
    if (key.empty()) {
      if (!root_api_) root_api_ = static_cast<uint32_t>(i);
      ++route_count_;
      continue;
    }
    uint32_t depth = segment_count(key);
    if (depth > kMaxSegments) continue;
    insert(key, static_cast<uint32_t>(i));
    depths_.set(depth);
    max_depth_ = std::max(max_depth_, depth);
  }
}

void Router::insert(std::string_view key, uint32_t api_index) {
  uint64_t hash = fnv_hash(key);
  if (find(hash, key) != nullptr) return;  // an earlier API owns this path
  size_t i = hash & mask_;
  while (slots_[i].api_index != kEmptySlot) i = (i + 1) & mask_;
  slots_[i] =
      Slot{hash, static_cast<uint32_t>(keys_.size()), static_cast<uint32_t>(key.size()), api_index};
  keys_.append(key);
  ++route_count_;
}

const Router::Slot* Router::find(uint64_t hash, std::string_view key) const noexcept {
  if (slots_.empty()) return nullptr;
  size_t i = hash & mask_;
  while (slots_[i].api_index != kEmptySlot) {
    const Slot& s = slots_[i];
    if (s.hash == hash && std::string_view(keys_).substr(s.key_offset, s.key_length) == key)
      return &s;
    i = (i + 1) & mask_;
  }
  return nullptr;
}

std::optional<RouteMatch> Router::match(std::string_view target) const noexcept {
  if (target.empty() || target.front() != '/') return std::nullopt;
  RouteMatch m;
  std::string_view path = target;
  if (size_t q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    m.query = target.substr(q + 1);
    m.has_query = true;
  }

  // ends[d]: index in `path` just past segment d; hashes[d]: hash of the
  // bytes between the leading '/' and ends[d].
  std::array<uint32_t, kMaxSegments + 1> ends;
  std::array<uint64_t, kMaxSegments + 1> hashes;
  uint32_t depth = 0;
  uint64_t h = kFnvOffset;
  for (size_t i = 1; depth < max_depth_;) {
    size_t j = i;
    while (j < path.size() && path[j] != '/') h = fnv_step(h, path[j++]);
    ++depth;
    ends[depth] = static_cast<uint32_t>(j);
    hashes[depth] = h;
    if (j >= path.size()) break;
    h = fnv_step(h, '/');
    i = j + 1;
  }
  for (uint32_t d = depth; d >= 1; --d) {
    if (!depths_.test(d)) continue;
    if (const Slot* s = find(hashes[d], path.substr(1, ends[d] - 1))) {
      m.api_index = s->api_index;
      m.remainder = path.substr(ends[d]);
      return m;
    }
  }
  if (!root_api_) return std::nullopt;
  m.api_index = *root_api_;
  m.remainder = path;
  return m;
}

std::string ServiceUrl::origin() const {
  std::string out = tls ? "https://" : "http://";
  bool ipv6 = host.find(':') != std::string::npos;
  if (ipv6) out += '[';
  out += host;
  if (ipv6) out += ']';
  out += ':';
  out += std::to_string(port);
  return out;
}

namespace {

// Joins parts into one string. (Also sidesteps GCC 12's false -Wrestrict on
// `"literal" + std::string`.)
std::string concat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

}  // namespace

std::optional<ServiceUrl> parse_service_url(std::string_view url, std::string& error) {
  std::string reason;
  std::optional<net::HttpUrl> parsed = net::parse_http_url(url, reason);
  if (!parsed) {
    error = concat({"URL '", url, "': ", reason});
    return std::nullopt;
  }
  ServiceUrl out;
  out.tls = parsed->tls;
  out.host = std::move(parsed->host);
  out.port = parsed->port_or_default();
  std::string_view path = parsed->path;
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  out.base_path = std::string(path);
  const bool ipv6 = out.host.find(':') != std::string::npos;
  out.host_header = ipv6 ? concat({"[", out.host, "]"}) : out.host;
  if (parsed->port && *parsed->port != (out.tls ? 443 : 80)) {
    out.host_header += ':';
    out.host_header += std::to_string(out.port);
  }
  return out;
}

void append_backend_target(std::string& out, std::string_view base_path, const RouteMatch& m) {
  std::string_view remainder = m.remainder;
  if (!base_path.empty() && base_path.back() == '/' && !remainder.empty() &&
      remainder.front() == '/') {
    remainder.remove_prefix(1);
  }
  out.append(base_path);
  out.append(remainder);
  if (base_path.empty() && remainder.empty()) out.push_back('/');
  if (m.has_query) {
    out.push_back('?');
    out.append(m.query);
  }
}

}  // namespace ringgate::http
