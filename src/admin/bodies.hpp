// The JSON bodies of the management routes (DESIGN §5), all of the form
// {"properties": {…}}, read with simdjson. Unknown keys, wrong types and bad
// values are each reported as an ErrorDetail whose target is the JSON path
// ("$.properties.url"); every problem is reported, not only the first.
// Control thread only.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/resource_api.hpp"
#include "ringgate/config.hpp"

namespace ringgate::admin {

// A PFX and its password taken out of an upload body. Both are wiped when
// the upload is destroyed, and so is every copy parsing made on the way.
class CertificateUpload {
 public:
  CertificateUpload() = default;
  ~CertificateUpload();
  CertificateUpload(const CertificateUpload&) = delete;
  CertificateUpload& operator=(const CertificateUpload&) = delete;

  const std::string& pfx() const noexcept { return pfx_; }
  const std::string& password() const noexcept { return password_; }

 private:
  friend bool read_certificate_body(std::string_view, CertificateUpload&,
                                    std::vector<ErrorDetail>&);
  std::string pfx_;       // the decoded PFX bytes
  std::string password_;  // "" when none was sent
};

// {"properties": {"data": "<base64 PFX>", "password": "…"}}; `password` is
// optional. Fills `upload` and returns true, or appends to `details`.
bool read_certificate_body(std::string_view body, CertificateUpload& upload,
                           std::vector<ErrorDetail>& details);

// {"properties": {"url": …, "tls": {…}, "caCertificate": …}}.
std::optional<config::Backend> read_backend_body(std::string_view body,
                                                 std::vector<ErrorDetail>& details);

// {"properties": {"path": …, "serviceUrl": …}}.
std::optional<config::Api> read_api_body(std::string_view body, std::vector<ErrorDetail>& details);

// {"properties": {"format": "xml", "value": "<policies>…</policies>"}};
// `format` is optional (xml is the only one), `value` must not be blank.
// Returns the XML as sent.
std::optional<std::string> read_policy_body(std::string_view body,
                                            std::vector<ErrorDetail>& details);

}  // namespace ringgate::admin
