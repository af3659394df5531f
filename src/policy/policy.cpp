#include "policy/policy.hpp"

#include <string>

#include "policy/parser.hpp"

namespace ringgate::policy {

bool Policy::empty() const { return *this == Policy{}; }

PolicyResult parse_policy(std::string_view xml) { return detail::Parser().run(xml); }

void check_references(const Policy& policy,
                      const std::function<bool(std::string_view)>& certificate_exists,
                      const std::function<bool(std::string_view)>& thumbprint_exists,
                      const std::function<bool(std::string_view)>& backend_exists,
                      std::vector<PolicyProblem>& problems) {
  // Each referencing element is allowed once and only in <inbound>, so its
  // location is fixed.
  constexpr std::string_view kCertificate = "/policies/inbound/authentication-certificate[1]";
  constexpr std::string_view kBackend = "/policies/inbound/set-backend-service[1]";
  if (!policy.certificate_id.empty() && certificate_exists &&
      !certificate_exists(policy.certificate_id)) {
    problems.push_back({std::string(kCertificate) + "/@certificate-id",
                        "certificate '" + policy.certificate_id + "' does not exist"});
  }
  if (!policy.certificate_thumbprint.empty() && thumbprint_exists &&
      !thumbprint_exists(policy.certificate_thumbprint)) {
    problems.push_back(
        {std::string(kCertificate) + "/@thumbprint",
         "no certificate with thumbprint '" + policy.certificate_thumbprint + "' exists"});
  }
  if (!policy.backend_id.empty() && backend_exists && !backend_exists(policy.backend_id)) {
    problems.push_back({std::string(kBackend) + "/@backend-id",
                        "backend '" + policy.backend_id + "' does not exist"});
  }
}

std::string basic_authorization_value(const std::string& user, const std::string& password) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string plain;
  plain.reserve(user.size() + 1 + password.size());
  plain += user;
  plain += ':';
  plain += password;

  std::string out;
  out.reserve((plain.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= plain.size(); i += 3) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(plain[i])) << 16 |
                 static_cast<uint32_t>(static_cast<unsigned char>(plain[i + 1])) << 8 |
                 static_cast<uint32_t>(static_cast<unsigned char>(plain[i + 2]));
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  size_t rest = plain.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(plain[i])) << 16;
    if (rest == 2) n |= static_cast<uint32_t>(static_cast<unsigned char>(plain[i + 1])) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string describe(const PolicyProblem& problem) {
  return problem.where + ": " + problem.message;
}

}  // namespace ringgate::policy
