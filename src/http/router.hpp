// Routing of a request-target to an API (DESIGN §4.3) and the backend URL
// helpers that turn the match into the backend's request-target.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ringgate::http {

struct RouteMatch {
  uint32_t api_index = 0;
  std::string_view remainder;  // path after the API path: "" or starts with '/'
  std::string_view query;      // after '?', without it
  bool has_query = false;
};

// Maps request paths to API indexes: longest API path that matches on whole
// segments. Immutable after construction, so one instance may be shared by
// readers. Lookup cost: one pass over the path plus one hash probe per
// segment depth that some API actually has.
class Router {
 public:
  // Routes deeper than this many segments are never matched.
  static constexpr uint32_t kMaxSegments = 128;

  Router() = default;

  // api_paths[i] is API i's path as configured ("orders", "v1/orders", "" =
  // everything); leading and trailing '/' are ignored. When two APIs have the
  // same path the lower index wins.
  explicit Router(const std::vector<std::string>& api_paths);

  // Longest match on whole path segments: "orders" matches "/orders",
  // "/orders/", "/orders/1", "/orders?x" but not "/ordersx". The target must be
  // origin-form (start with '/'), otherwise nullopt. Matching is on the raw
  // (undecoded) path and case-sensitive. Views point into `target`.
  std::optional<RouteMatch> match(std::string_view target) const noexcept;

  size_t size() const noexcept { return route_count_; }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t key_offset = 0;
    uint32_t key_length = 0;
    uint32_t api_index = kEmptySlot;
  };
  static constexpr uint32_t kEmptySlot = UINT32_MAX;

  void insert(std::string_view key, uint32_t api_index);
  const Slot* find(uint64_t hash, std::string_view key) const noexcept;

  std::vector<Slot> slots_;  // open addressing, power-of-two size
  std::string keys_;         // all keys back to back
  uint64_t mask_ = 0;
  std::bitset<kMaxSegments + 1> depths_;  // depths_[d]: some API has d segments
  uint32_t max_depth_ = 0;
  std::optional<uint32_t> root_api_;  // the API with path "" (matches everything)
  size_t route_count_ = 0;
};

// A backend service URL, split for connecting and for building requests.
struct ServiceUrl {
  bool tls = false;
  std::string host;  // name or address; IPv6 without brackets
  uint16_t port = 0;
  std::string base_path;  // "" or "/api" — no trailing slash
  std::string
      host_header;  // "host" for the scheme's default port, else "host:port"; IPv6 in brackets
  // "https://host:port" (port always present; IPv6 in brackets).
  std::string origin() const;
};

// Accepts http:// and https:// URLs with a host (name, IPv4, [IPv6]) and an
// optional port and path; no userinfo, query or fragment. On failure returns
// nullopt and sets `error` to a sentence naming the problem.
std::optional<ServiceUrl> parse_service_url(std::string_view url, std::string& error);

// Appends base_path + remainder (+ '?' + query). "/api"+"/1"+"x=2" →
// "/api/1?x=2"; "/api"+"" → "/api"; ""+"" → "/"; never a double slash at the
// join.
void append_backend_target(std::string& out, std::string_view base_path, const RouteMatch& m);

}  // namespace ringgate::http
