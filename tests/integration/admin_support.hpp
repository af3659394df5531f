// Request bodies and answers of the management API (DESIGN §5), shared by
// the tests that drive it: one gateway (management_test) or a fleet of them
// (fleet_test).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "harness.hpp"

namespace ringgate::itest {

// Standard base64 with padding, as the API takes a PFX's bytes.
inline std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (unsigned char c : bytes) {
    bits = (bits << 8) | c;
    if (++count == 3) {
      for (int shift : {18, 12, 6, 0}) out += kAlphabet[(bits >> shift) & 63];
      bits = 0;
      count = 0;
    }
  }
  if (count > 0) {
    bits <<= 8 * (3 - count);
    for (int i = 0; i <= count; ++i) out += kAlphabet[(bits >> (18 - 6 * i)) & 63];
    out.append(3 - count, '=');
  }
  return out;
}

// PUT /certificates/{id}: the PFX file's bytes and `password`.
inline std::string upload_body(const TestPfx& pfx, const std::string& password) {
  return nlohmann::json{
      {"properties", {{"data", base64(read_file(pfx.pfx_file))}, {"password", password}}}}
      .dump();
}

// PUT /apis/{id}/policies/policy with `xml`.
inline std::string policy_body(const std::string& xml) {
  return nlohmann::json{{"properties", {{"format", "xml"}, {"value", xml}}}}.dump();
}

// PUT /apis/{id}.
inline std::string api_body(const std::string& path, const std::string& service_url) {
  return nlohmann::json{{"properties", {{"path", path}, {"serviceUrl", service_url}}}}.dump();
}

// The error code of an error answer ("CertificateInUse"); "" for any other body.
inline std::string error_code(const HttpResponse& r) {
  const nlohmann::json body = nlohmann::json::parse(r.body, nullptr, false);
  return body.value(nlohmann::json::json_pointer("/error/code"), std::string());
}

}  // namespace ringgate::itest
