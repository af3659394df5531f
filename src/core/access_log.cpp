#include "core/access_log.hpp"

#include <sys/random.h>

#include <charconv>
#include <ctime>

#include "core/log_format.hpp"

namespace ringgate::core {
namespace {

void append_number(std::string& out, uint64_t value) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, result.ptr);
}

void append_string_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  append_json_string(out, value);
}

void append_number_field(std::string& out, std::string_view name, uint64_t value) {
  out.append(name);
  append_number(out, value);
}

uint64_t kernel_seed() noexcept {
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) == sizeof seed) return seed;
  // No entropy yet (very early boot): the clock still keeps workers apart.
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

void append_access_line(std::string& out, const AccessEntry& e) {
  out.append("{\"time\":\"");
  append_utc_time(out, e.time_unix_ms);
  out.push_back('"');
  append_string_field(out, ",\"requestId\":", e.request_id);
  append_string_field(out, ",\"clientIp\":", e.client_ip);
  append_string_field(out, ",\"method\":", e.method);
  append_string_field(out, ",\"url\":", e.url);
  append_string_field(out, ",\"apiId\":", e.api_id);
  append_string_field(out, ",\"backendUrl\":", e.backend_url);
  append_number_field(out, ",\"responseCode\":", static_cast<uint64_t>(e.response_code));
  append_number_field(out,
                      ",\"backendResponseCode\":", static_cast<uint64_t>(e.backend_response_code));
  append_number_field(out, ",\"requestSize\":", e.request_size);
  append_number_field(out, ",\"responseSize\":", e.response_size);
  append_number_field(out, ",\"totalTimeUs\":", e.total_time_us);
  append_number_field(out, ",\"backendTimeUs\":", e.backend_time_us);
  append_string_field(out, ",\"clientCertificateThumbprint\":", e.client_certificate_thumbprint);
  out.append(e.pool_reused ? ",\"poolReused\":true" : ",\"poolReused\":false");
  append_string_field(out, ",\"transport\":", e.transport);
  append_string_field(out, ",\"lastError\":", e.last_error);
  out.append("}\n");
}

RequestIdGenerator::RequestIdGenerator() : state_(kernel_seed()) {}

// SplitMix64 (Steele, Lea, Flood 2014): every seed gives a full-period
// sequence, and one step is a handful of multiplies.
void RequestIdGenerator::next(std::string& out) noexcept {
  state_ += 0x9e3779b97f4a7c15ULL;
  uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  static constexpr char kHex[] = "0123456789abcdef";
  out.resize(kLength);
  for (size_t i = 0; i < kLength; ++i) out[i] = kHex[(z >> (60 - 4 * i)) & 0xF];
}

}  // namespace ringgate::core
