// The policy parser (src/policy/policy.hpp) on arbitrary documents: what it
// accepts must be what the data path can apply as it is, and every problem
// must be well formed. The whole input is the document.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "http/router.hpp"
#include "policy/policy.hpp"

namespace {

using ringgate::fuzz::printable;
using ringgate::policy::HeaderAction;
using ringgate::policy::Policy;
using ringgate::policy::PolicyProblem;
using ringgate::policy::SetHeader;

bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_upper_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

bool has_control(std::string_view s, bool allow_tab) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && !(allow_tab && c == '\t')) || u == 0x7f) return true;
  }
  return false;
}

void check_header(const SetHeader& h, const std::string& where) {
  FUZZ_CHECK(!h.name.empty(), where);
  for (char c : h.name) FUZZ_CHECK(is_token_char(c), where + printable(h.name));
  if (h.action == HeaderAction::kDelete) FUZZ_CHECK(h.values.empty(), where);
  for (const std::string& v : h.values) {
    FUZZ_CHECK(!has_control(v, /*allow_tab=*/true), where + printable(v));
    const bool trimmed =
        v.empty() || (v.front() != ' ' && v.front() != '\t' && v.back() != ' ' && v.back() != '\t');
    FUZZ_CHECK(trimmed, where + printable(v));
  }
}

// What a clean parse promises (policy.hpp): literal values only, one kind of
// certificate reference, values the data path can put on the wire.
void check_policy(const Policy& p, std::string_view xml) {
  const std::string where = printable(xml) + "\n";
  FUZZ_CHECK(p.certificate_id.empty() || p.certificate_thumbprint.empty(), where);
  if (!p.certificate_thumbprint.empty()) {
    FUZZ_CHECK(p.certificate_thumbprint.size() == 40 && is_upper_hex(p.certificate_thumbprint),
               where);
  }
  FUZZ_CHECK(p.backend_base_url.empty() || p.backend_id.empty(), where);
  if (!p.backend_base_url.empty()) {
    std::string error;
    FUZZ_CHECK(ringgate::http::parse_service_url(p.backend_base_url, error).has_value(),
               where + error);
  }
  FUZZ_CHECK(p.forward_timeout_seconds <= 86400, where);
  if (p.basic) {
    // A ':' in the user name would move the split point of "user:password".
    FUZZ_CHECK(!p.basic->first.empty() && p.basic->first.find(':') == std::string::npos, where);
    const std::string encoded =
        ringgate::policy::basic_authorization_value(p.basic->first, p.basic->second);
    const size_t plain = p.basic->first.size() + 1 + p.basic->second.size();
    FUZZ_CHECK(encoded.size() == (plain + 2) / 3 * 4, where);
  }
  for (const SetHeader& h : p.inbound_headers) check_header(h, where);
  for (const SetHeader& h : p.outbound_headers) check_header(h, where);
  for (const std::string_view text :
       {std::string_view(p.certificate_id), std::string_view(p.backend_id)}) {
    FUZZ_CHECK(
        text.find("{{") == std::string_view::npos || text.find("}}") == std::string_view::npos,
        where);
    FUZZ_CHECK(!text.starts_with("@(") && !text.starts_with("@{"), where);
  }
}

void check_problem(const PolicyProblem& problem, std::string_view xml) {
  const std::string where = printable(xml) + "\n" + printable(problem.where);
  FUZZ_CHECK(problem.where.starts_with('/'), where);
  FUZZ_CHECK(!problem.message.empty(), where);
  FUZZ_CHECK(ringgate::policy::describe(problem) == problem.where + ": " + problem.message);
}

// Reference checks with made-up stores: a name "exists" when its length is
// even. Each failed lookup adds exactly one problem.
void check_reference_problems(const Policy& p) {
  auto exists = [](std::string_view name) { return name.size() % 2 == 0; };
  std::vector<PolicyProblem> problems;
  ringgate::policy::check_references(p, exists, exists, exists, problems);
  size_t missing = 0;
  for (const std::string* name : {&p.certificate_id, &p.certificate_thumbprint, &p.backend_id}) {
    if (!name->empty() && !exists(*name)) ++missing;
  }
  FUZZ_CHECK(problems.size() == missing);
  for (const PolicyProblem& problem : problems) check_problem(problem, "(references)");

  std::vector<PolicyProblem> unchecked;
  ringgate::policy::check_references(p, {}, {}, {}, unchecked);
  FUZZ_CHECK(unchecked.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view xml(reinterpret_cast<const char*>(data), size);
  const ringgate::policy::PolicyResult result = ringgate::policy::parse_policy(xml);
  const ringgate::policy::PolicyResult again = ringgate::policy::parse_policy(xml);
  FUZZ_CHECK(result.policy == again.policy && result.problems == again.problems,
             "the same document parsed twice differently");
  for (const PolicyProblem& problem : result.problems) check_problem(problem, xml);
  if (result.problems.empty()) {
    check_policy(result.policy, xml);
    check_reference_problems(result.policy);
  }
  return 0;
}
