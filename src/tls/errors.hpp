// Names for the numbers OpenSSL reports, so that log lines teach: an alert
// name a person can search for, the X509_V_ERR_* constant next to
// OpenSSL's sentence.
#pragma once

#include <string>

namespace ringgate::tls {

// "certificate required" for 116. SSL_alert_desc_string_long says "unknown"
// for the TLS 1.3 alerts in OpenSSL 3.0, so those are named here.
const char* alert_name(int description) noexcept;

// "X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT" for 18; "X509_V_ERR <n>" for codes
// not in the table.
std::string x509_error_name(int code);

}  // namespace ringgate::tls
