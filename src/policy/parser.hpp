// The policy parser's inside, shared by its translation units: parser.cpp
// (the document walk and the generic checks), elements.cpp (one function per
// policy element) and policy.cpp (the public entry points).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/policy.hpp"

namespace ringgate::policy::detail {

enum class Section : uint8_t { kInbound, kBackend, kOutbound, kOnError };

inline constexpr std::array<std::string_view, 4> kSectionNames = {"inbound", "backend", "outbound",
                                                                  "on-error"};

std::optional<Section> section_named(std::string_view name);
bool is_xml_space(char c);
std::string_view trim_xml_space(std::string_view s);
bool is_blank(std::string_view s);
std::string quoted(std::string_view s);
bool equals_ignore_case(std::string_view a, std::string_view b);
bool is_token_char(char c);
bool is_token(std::string_view s);
bool is_hex_digit(char c);
std::string_view reserved_header_reason(std::string_view name);
std::string indexed(const std::string& parent, std::string_view name, unsigned index);
std::string attribute_path(const std::string& element, std::string_view name);
std::string element_list(std::initializer_list<std::string_view> names);

// Numbers elements by name among their siblings (XPath's "name[n]"), 1-based.
class SiblingCounter {
 public:
  unsigned next(std::string_view name) { return ++counts_[std::string(name)]; }

 private:
  std::map<std::string, unsigned, std::less<>> counts_;
};

// The attributes of one element that passed the generic checks.
class Attributes {
 public:
  struct Entry {
    std::string_view name;
    std::string_view value;
    bool usable = false;  // false: a policy expression or named value (already reported)
  };

  void add(Entry e) { entries_.push_back(e); }

  bool has(std::string_view name) const { return find(name) != nullptr; }

  // The literal value, or nullopt when absent or not usable.
  std::optional<std::string_view> value(std::string_view name) const {
    const Entry* e = find(name);
    if (e == nullptr || !e->usable) return std::nullopt;
    return e->value;
  }

 private:
  const Entry* find(std::string_view name) const {
    for (const Entry& e : entries_) {
      if (e.name == name) return &e;
    }
    return nullptr;
  }

  std::vector<Entry> entries_;
};

struct CertificateRef {
  std::string id;
  std::string thumbprint;
};

struct BackendRef {
  std::string base_url;
  std::string backend_id;
};

// One parse: walks the document top-down, collecting every problem. Only the
// four fixed levels (policies / section / policy element / value) are walked;
// anything deeper is reported at its parent, so hostile nesting costs nothing.
class Parser {
 public:
  PolicyResult run(std::string_view xml);

 private:
  void report(std::string where, std::string message) {
    result_.problems.push_back({std::move(where), std::move(message)});
  }

  void report_malformed(std::string_view xml, const pugi::xml_parse_result& parsed);
  void parse_document(const pugi::xml_document& doc);
  void parse_root(const pugi::xml_node& root);
  void parse_section(const pugi::xml_node& node, Section section, const std::string& where);
  void parse_policy_element(const pugi::xml_node& node, Section section, const std::string& where);
  bool check_placement(std::string_view name, Section section, const std::string& where);
  bool check_single(unsigned& seen, std::string_view name, const std::string& where);

  Attributes read_attributes(const pugi::xml_node& node, const std::string& where,
                             std::initializer_list<std::string_view> known);
  bool check_literal(std::string_view text, const std::string& where);
  void expect_no_content(const pugi::xml_node& node, const std::string& where);

  std::optional<CertificateRef> parse_authentication_certificate(const pugi::xml_node& node,
                                                                 const std::string& where);
  std::optional<std::pair<std::string, std::string>> parse_authentication_basic(
      const pugi::xml_node& node, const std::string& where);
  std::optional<BackendRef> parse_set_backend_service(const pugi::xml_node& node,
                                                      const std::string& where);
  std::optional<SetHeader> parse_set_header(const pugi::xml_node& node, const std::string& where);
  std::optional<HeaderAction> parse_exists_action(const Attributes& attrs,
                                                  const std::string& where);
  bool check_header_name(std::string_view name, const std::string& where);
  std::optional<std::string> parse_value(const pugi::xml_node& node, const std::string& where);
  std::optional<uint32_t> parse_forward_request(const pugi::xml_node& node,
                                                const std::string& where);

  PolicyResult result_;
  unsigned certificates_seen_ = 0;
  unsigned basics_seen_ = 0;
  unsigned backend_services_seen_ = 0;
  unsigned forward_requests_seen_ = 0;
};

}  // namespace ringgate::policy::detail
