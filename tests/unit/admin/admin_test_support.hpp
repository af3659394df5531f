// Test helpers for the admin listener: a recording fake of the management
// resources and request heads parsed from raw bytes.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "admin/resource_api.hpp"
#include "http/parser.hpp"
#include "ringgate/config.hpp"

namespace ringgate::admin::testing {

inline constexpr std::string_view kToken = "s3cret-token";

inline config::Admin admin_settings(bool public_health_and_metrics = false) {
  config::Admin settings;
  settings.address = {"127.0.0.1", 0};
  settings.token = std::string(kToken);
  settings.metrics_without_token = public_health_and_metrics;
  return settings;
}

// Records every request it is handed and answers with `answer` (nullopt:
// "not one of my routes"), or throws when `fail` is set.
class FakeResources final : public ResourceApi {
 public:
  std::optional<AdminResponse> handle(const AdminRequest& request) override {
    ++calls;
    method = request.method;
    path = request.path;
    query = request.query;
    if_match = request.if_match ? std::optional<std::string>(*request.if_match) : std::nullopt;
    body = request.body;
    if (fail) throw std::runtime_error("store unavailable");
    return answer;
  }

  int calls = 0;
  std::string method;
  std::string path;
  std::string query;
  std::optional<std::string> if_match;
  std::string body;
  std::optional<AdminResponse> answer;
  bool fail = false;
};

// Parses one request head; keeps each parser alive so the head's views stay
// valid for the test's lifetime.
class HeadParser {
 public:
  const http::MessageHead& parse(std::string_view raw) {
    parsers_.emplace_back(http::MessageKind::kRequest, limits());
    http::MessageParser& parser = parsers_.back();
    Discard sink;
    const http::ParseResult r = parser.feed(raw.data(), raw.size(), sink);
    EXPECT_EQ(r.status, http::ParseStatus::kHeadComplete) << raw;
    return parser.head();
  }

 private:
  class Discard final : public http::BodySink {
   public:
    void on_body(const char*, size_t) noexcept override {}
  };
  static http::ParserLimits limits() {
    http::ParserLimits l;
    l.max_body_bytes = 1ull << 40;
    return l;
  }
  std::deque<http::MessageParser> parsers_;
};

inline std::string bearer() {
  std::string line = "Authorization: Bearer ";
  line += kToken;
  return line;
}

// "<method> <target> HTTP/1.1", Host, the header lines, the blank line.
inline std::string request_head(std::string_view method, std::string_view target,
                                std::initializer_list<std::string_view> headers = {}) {
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: admin\r\n");
  for (std::string_view h : headers) out.append(h).append("\r\n");
  out.append("\r\n");
  return out;
}

}  // namespace ringgate::admin::testing
