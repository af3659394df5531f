// The APIM policy document subset ringgate understands (DESIGN §5): parsing
// the XML into a Policy, reporting every problem with an XPath-like location,
// and checking the names it references against the certificate store and the
// backend entities.
//
// Supported:
//   <policies>
//     <inbound>   <base/>
//                 <authentication-certificate certificate-id="…"/> | thumbprint="…"
//                 <authentication-basic username="…" password="…"/>
//                 <set-backend-service base-url="…"/> | backend-id="…"
//                 <set-header name="…" exists-action="…"><value>…</value></set-header>
//     </inbound>
//     <backend>   <base/> <forward-request timeout="…"/> </backend>
//     <outbound>  <base/> <set-header …/> </outbound>
//     <on-error>  <base/> </on-error>
//   </policies>
// Anything else is a problem, never silently ignored: a policy the gateway
// cannot honour must not be half-applied.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ringgate::policy {

// <set-header exists-action="…">: what to do when the header is already present.
enum class HeaderAction : uint8_t {
  kOverride,  // replace every existing instance with `values` (add if absent)
  kSkip,      // leave an existing header alone; add `values` only if absent
  kAppend,    // add `values` after the existing instances
  kDelete,    // remove every instance; `values` is empty
};

struct SetHeader {
  std::string name;  // as written (a valid HTTP token); compare case-insensitively
  HeaderAction action = HeaderAction::kOverride;
  std::vector<std::string> values;  // leading/trailing SP and HTAB removed; no CTLs

  bool operator==(const SetHeader&) const = default;
};

// What one API's policy asks of the data path. All fields are literal values:
// policy expressions and named values are rejected at parse time.
struct Policy {
  // From <authentication-certificate certificate-id="…"/> or thumbprint="…"
  // (exactly one of the two is set, or neither when the element is absent).
  std::string certificate_id;
  std::string certificate_thumbprint;  // 40 upper-case hex digits
  // From <authentication-basic username="…" password="…"/>.
  std::optional<std::pair<std::string, std::string>> basic;  // username, password
  std::string backend_base_url;  // <set-backend-service base-url="…"/>, an http(s) URL
  std::string backend_id;        // <set-backend-service backend-id="…"/>
  // <set-header> in <inbound>: applied to the backend request, in document order.
  std::vector<SetHeader> inbound_headers;
  // <set-header> in <outbound>: applied to the client response, in document order.
  std::vector<SetHeader> outbound_headers;
  // <forward-request timeout="…"/> in <backend>: 1..86400 seconds; 0 = the configured default.
  uint32_t forward_timeout_seconds = 0;

  // True when the policy changes nothing (no document, or only <base/>s).
  bool empty() const;

  bool operator==(const Policy&) const = default;
};

// One thing wrong with a policy document.
struct PolicyProblem {
  // XPath-like location of the offending node: sections by name ("/policies/inbound",
  // "/policies/inbound[2]" for a repeated one), policy elements and <value>s with
  // their 1-based position among same-named siblings, attributes as "/@name":
  // "/policies/inbound/authentication-certificate[1]/@certificate-id".
  // "/" for the document as a whole (malformed XML, no root element).
  std::string where;
  std::string message;  // a sentence naming the problem and, where useful, what is expected

  bool operator==(const PolicyProblem&) const = default;
};

struct PolicyResult {
  // What parsed cleanly. Meaningful only when `problems` is empty.
  Policy policy;
  std::vector<PolicyProblem> problems;  // in document order
};

// Parses a policy document (UTF-8). Every problem is reported, not only the
// first; malformed XML yields exactly one problem carrying pugixml's
// description and the byte offset (plus line and column). An empty or
// whitespace-only document is an empty Policy without problems.
PolicyResult parse_policy(std::string_view xml);

// Checks what `policy` references against what exists and appends one problem
// per missing name: certificate_exists(certificate_id),
// thumbprint_exists(certificate_thumbprint), backend_exists(backend_id). A
// reference the policy does not make is not checked; an empty std::function
// skips that kind of check.
void check_references(const Policy& policy,
                      const std::function<bool(std::string_view)>& certificate_exists,
                      const std::function<bool(std::string_view)>& thumbprint_exists,
                      const std::function<bool(std::string_view)>& backend_exists,
                      std::vector<PolicyProblem>& problems);

// Base64 (RFC 4648, padded) of "user:password": the credentials part of an
// "Authorization: Basic …" header (RFC 7617). The bytes are taken as they are.
std::string basic_authorization_value(const std::string& user, const std::string& password);

// "where: message".
std::string describe(const PolicyProblem& problem);

}  // namespace ringgate::policy
