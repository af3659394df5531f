#include "policy/policy.hpp"

#include <array>
#include <charconv>
#include <initializer_list>
#include <map>
#include <pugixml.hpp>

#include "http/router.hpp"

namespace ringgate::policy {
namespace {

enum class Section : uint8_t { kInbound, kBackend, kOutbound, kOnError };

constexpr std::array<std::string_view, 4> kSectionNames = {"inbound", "backend", "outbound",
                                                           "on-error"};

std::optional<Section> section_named(std::string_view name) {
  for (size_t i = 0; i < kSectionNames.size(); ++i) {
    if (kSectionNames[i] == name) return static_cast<Section>(i);
  }
  return std::nullopt;
}

// The longest forward-request timeout accepted, so that callers can turn it
// into milliseconds or timer ticks without thinking about overflow.
constexpr uint32_t kMaxForwardTimeoutSeconds = 86400;

// How much of a user's text a message repeats.
constexpr size_t kMaxQuotedBytes = 60;

bool is_xml_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim_xml_space(std::string_view s) {
  while (!s.empty() && is_xml_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_xml_space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_blank(std::string_view s) { return trim_xml_space(s).empty(); }

// 'text' for a message: cut after kMaxQuotedBytes, control characters as \xNN.
std::string quoted(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < kMaxQuotedBytes; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > kMaxQuotedBytes) out += "...";
  out += '\'';
  return out;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// RFC 9110 §5.6.2 tchar.
bool is_token_char(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_token_char(c)) return false;
  }
  return true;
}

bool is_hex_digit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Why a policy may not set header `name`, or "" when it may. The gateway owns
// message framing, connection management and the backend's Host; letting a
// policy change them would desynchronise the two sides of the proxy.
std::string_view reserved_header_reason(std::string_view name) {
  if (equals_ignore_case(name, "Host")) return "the gateway sets it to the backend's host";
  if (equals_ignore_case(name, "Content-Length") || equals_ignore_case(name, "Transfer-Encoding")) {
    return "it frames the message, which the gateway controls";
  }
  for (std::string_view hop :
       {"Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Upgrade"}) {
    if (equals_ignore_case(name, hop)) return "it is a hop-by-hop header";
  }
  return {};
}

// Numbers elements by name among their siblings (XPath's "name[n]"), 1-based.
class SiblingCounter {
 public:
  unsigned next(std::string_view name) { return ++counts_[std::string(name)]; }

 private:
  std::map<std::string, unsigned, std::less<>> counts_;
};

std::string indexed(const std::string& parent, std::string_view name, unsigned index) {
  std::string out = parent;
  out += '/';
  out += name;
  out += '[';
  out += std::to_string(index);
  out += ']';
  return out;
}

std::string attribute_path(const std::string& element, std::string_view name) {
  std::string out = element;
  out += "/@";
  out += name;
  return out;
}

std::string element_list(std::initializer_list<std::string_view> names) {
  std::string out;
  size_t i = 0;
  for (std::string_view n : names) {
    if (i > 0) out += (i + 1 == names.size()) ? " or " : ", ";
    out += n;
    ++i;
  }
  return out;
}

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

PolicyResult Parser::run(std::string_view xml) {
  if (is_blank(xml)) return std::move(result_);
  pugi::xml_document doc;
  // parse_fragment keeps text that sits outside the root element, so that it
  // can be reported instead of being dropped; no DTD or entity is ever expanded.
  pugi::xml_parse_result parsed = doc.load_buffer(
      xml.data(), xml.size(), pugi::parse_default | pugi::parse_fragment, pugi::encoding_utf8);
  if (!parsed) {
    report_malformed(xml, parsed);
  } else {
    parse_document(doc);
  }
  return std::move(result_);
}

void Parser::report_malformed(std::string_view xml, const pugi::xml_parse_result& parsed) {
  size_t offset = parsed.offset < 0 ? 0 : static_cast<size_t>(parsed.offset);
  if (offset > xml.size()) offset = xml.size();
  size_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (xml[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  report("/", "malformed XML at offset " + std::to_string(offset) + " (line " +
                  std::to_string(line) + ", column " + std::to_string(offset - line_start + 1) +
                  "): " + parsed.description());
}

void Parser::parse_document(const pugi::xml_document& doc) {
  pugi::xml_node root;
  for (const pugi::xml_node& node : doc.children()) {
    if (node.type() == pugi::node_element) {
      if (!root) {
        root = node;
      } else {
        report(std::string("/") + node.name(),
               "a policy document has exactly one root element, <policies>");
      }
    } else if ((node.type() == pugi::node_pcdata || node.type() == pugi::node_cdata) &&
               !is_blank(node.value())) {
      report("/", "unexpected text " + quoted(trim_xml_space(node.value())) +
                      " outside the root element");
    }
  }
  if (!root) {
    report("/", "the document has no root element; expected <policies>");
    return;
  }
  parse_root(root);
}

void Parser::parse_root(const pugi::xml_node& root) {
  std::string_view root_name = root.name();
  if (root_name != "policies") {
    report(std::string("/") + root.name(),
           "the root element must be <policies>, not <" + std::string(root_name) + ">");
    return;
  }
  const std::string where = "/policies";
  read_attributes(root, where, {});
  SiblingCounter counter;
  std::array<bool, kSectionNames.size()> seen{};
  for (const pugi::xml_node& child : root.children()) {
    if (child.type() != pugi::node_element) {
      if (!is_blank(child.value())) {
        report(where,
               "unexpected text " + quoted(trim_xml_space(child.value())) + " in <policies>");
      }
      continue;
    }
    std::string_view name = child.name();
    unsigned index = counter.next(name);
    // A section is named without an index unless it is repeated.
    std::string child_where =
        index == 1 ? where + "/" + std::string(name) : indexed(where, name, index);
    std::optional<Section> section = section_named(name);
    if (!section) {
      report(child_where, "unsupported element '" + std::string(name) +
                              "' in <policies>; expected <inbound>, <backend>, <outbound> "
                              "or <on-error>");
      continue;
    }
    bool& seen_section = seen[static_cast<size_t>(*section)];
    if (seen_section) {
      report(child_where, "<" + std::string(name) +
                              "> appears more than once; each section "
                              "is allowed at most once");
      continue;
    }
    seen_section = true;
    parse_section(child, *section, child_where);
  }
}

void Parser::parse_section(const pugi::xml_node& node, Section section, const std::string& where) {
  read_attributes(node, where, {});
  SiblingCounter counter;
  for (const pugi::xml_node& child : node.children()) {
    if (child.type() != pugi::node_element) {
      if (!is_blank(child.value())) {
        report(where, "unexpected text " + quoted(trim_xml_space(child.value())) + " in <" +
                          node.name() + ">");
      }
      continue;
    }
    std::string_view name = child.name();
    parse_policy_element(child, section, indexed(where, name, counter.next(name)));
  }
}

void Parser::parse_policy_element(const pugi::xml_node& node, Section section,
                                  const std::string& where) {
  std::string_view name = node.name();
  if (name == "base") {
    // Inherit the enclosing scope's policy: ringgate has no enclosing scope.
    read_attributes(node, where, {});
    expect_no_content(node, where);
    return;
  }
  // Each element is validated even when misplaced or repeated, so that one
  // round of edits can fix everything; only a clean, well-placed one is kept.
  Policy& out = result_.policy;
  if (name == "authentication-certificate") {
    bool placed = check_placement(name, section, where);
    auto ref = parse_authentication_certificate(node, where);
    if (placed && check_single(certificates_seen_, name, where) && ref) {
      out.certificate_id = std::move(ref->id);
      out.certificate_thumbprint = std::move(ref->thumbprint);
    }
  } else if (name == "authentication-basic") {
    bool placed = check_placement(name, section, where);
    auto basic = parse_authentication_basic(node, where);
    if (placed && check_single(basics_seen_, name, where) && basic) out.basic = std::move(basic);
  } else if (name == "set-backend-service") {
    bool placed = check_placement(name, section, where);
    auto ref = parse_set_backend_service(node, where);
    if (placed && check_single(backend_services_seen_, name, where) && ref) {
      out.backend_base_url = std::move(ref->base_url);
      out.backend_id = std::move(ref->backend_id);
    }
  } else if (name == "set-header") {
    bool placed = check_placement(name, section, where);
    auto header = parse_set_header(node, where);
    if (placed && header) {
      auto& list = section == Section::kInbound ? out.inbound_headers : out.outbound_headers;
      list.push_back(std::move(*header));
    }
  } else if (name == "forward-request") {
    bool placed = check_placement(name, section, where);
    auto timeout = parse_forward_request(node, where);
    if (placed && check_single(forward_requests_seen_, name, where) && timeout) {
      out.forward_timeout_seconds = *timeout;
    }
  } else {
    report(where, "unsupported policy element '" + std::string(name) + "'");
  }
}

// Reports and returns false when policy element `name` may not appear in `section`.
bool Parser::check_placement(std::string_view name, Section section, const std::string& where) {
  std::string_view allowed;
  bool ok = false;
  if (name == "forward-request") {
    ok = section == Section::kBackend;
    allowed = "<backend>";
  } else if (name == "set-header") {
    // APIM also allows it in <backend> and <on-error>; ringgate has no hook there.
    ok = section == Section::kInbound || section == Section::kOutbound;
    allowed = "<inbound> and <outbound>";
  } else {
    ok = section == Section::kInbound;
    allowed = "<inbound>";
  }
  if (!ok) {
    report(where, "<" + std::string(name) + "> is only supported in " + std::string(allowed) +
                      ", not in <" + std::string(kSectionNames[static_cast<size_t>(section)]) +
                      ">");
  }
  return ok;
}

// Reports and returns false when an element allowed once per policy is repeated.
bool Parser::check_single(unsigned& seen, std::string_view name, const std::string& where) {
  if (++seen == 1) return true;
  report(where, "only one <" + std::string(name) + "> is allowed in a policy");
  return false;
}

// Reports unknown and repeated attributes and non-literal values; returns the rest.
Attributes Parser::read_attributes(const pugi::xml_node& node, const std::string& where,
                                   std::initializer_list<std::string_view> known) {
  Attributes attrs;
  for (const pugi::xml_attribute& attr : node.attributes()) {
    std::string_view name = attr.name();
    std::string attr_where = attribute_path(where, name);
    bool is_known = false;
    for (std::string_view k : known) is_known = is_known || k == name;
    if (!is_known) {
      std::string message =
          "unsupported attribute '" + std::string(name) + "' on <" + node.name() + ">";
      message +=
          known.size() == 0 ? "; it takes no attributes" : "; expected " + element_list(known);
      report(std::move(attr_where), std::move(message));
      continue;
    }
    if (attrs.has(name)) {
      report(std::move(attr_where), "attribute '" + std::string(name) + "' is repeated");
      continue;
    }
    std::string_view value = attr.value();
    attrs.add({name, value, check_literal(value, attr_where)});
  }
  return attrs;
}

// Reports and returns false when `text` needs APIM's runtime: a policy
// expression (@(…) or @{…}) or a named value ({{…}}). Passing either through
// as literal text would send the expression's source to the backend.
bool Parser::check_literal(std::string_view text, const std::string& where) {
  std::string_view t = trim_xml_space(text);
  if (t.starts_with("@(") || t.starts_with("@{")) {
    report(where, "policy expressions are not supported; use a literal value");
    return false;
  }
  size_t open = t.find("{{");
  if (open != std::string_view::npos && t.find("}}", open + 2) != std::string_view::npos) {
    report(where, "named values ({{name}}) are not supported; use a literal value");
    return false;
  }
  return true;
}

// Reports child elements and non-blank text of an element that takes neither.
void Parser::expect_no_content(const pugi::xml_node& node, const std::string& where) {
  SiblingCounter counter;
  for (const pugi::xml_node& child : node.children()) {
    if (child.type() == pugi::node_element) {
      std::string_view name = child.name();
      report(indexed(where, name, counter.next(name)),
             "unexpected element '" + std::string(name) + "' inside <" + node.name() + ">");
    } else if (!is_blank(child.value())) {
      report(where, "unexpected text " + quoted(trim_xml_space(child.value())) + " inside <" +
                        node.name() + ">");
    }
  }
}

std::optional<CertificateRef> Parser::parse_authentication_certificate(const pugi::xml_node& node,
                                                                       const std::string& where) {
  Attributes attrs = read_attributes(node, where, {"certificate-id", "thumbprint"});
  expect_no_content(node, where);
  bool has_id = attrs.has("certificate-id");
  bool has_thumbprint = attrs.has("thumbprint");
  if (has_id == has_thumbprint) {
    report(where, has_id ? "use either certificate-id or thumbprint, not both"
                         : "certificate-id or thumbprint is required");
    return std::nullopt;
  }
  CertificateRef ref;
  if (has_id) {
    auto id = attrs.value("certificate-id");
    if (!id) return std::nullopt;
    if (id->empty()) {
      report(attribute_path(where, "certificate-id"), "certificate-id must not be empty");
      return std::nullopt;
    }
    ref.id = std::string(*id);
    return ref;
  }
  auto thumbprint = attrs.value("thumbprint");
  if (!thumbprint) return std::nullopt;
  bool hex = thumbprint->size() == 40;
  for (char c : *thumbprint) hex = hex && is_hex_digit(c);
  if (!hex) {
    report(attribute_path(where, "thumbprint"),
           "thumbprint " + quoted(*thumbprint) +
               " must be 40 hexadecimal digits (the certificate's SHA-1 thumbprint)");
    return std::nullopt;
  }
  for (char c : *thumbprint) {
    ref.thumbprint += (c >= 'a' && c <= 'f') ? static_cast<char>(c - 32) : c;
  }
  return ref;
}

std::optional<std::pair<std::string, std::string>> Parser::parse_authentication_basic(
    const pugi::xml_node& node, const std::string& where) {
  Attributes attrs = read_attributes(node, where, {"username", "password"});
  expect_no_content(node, where);
  bool ok = true;
  for (std::string_view required : {"username", "password"}) {
    if (!attrs.has(required)) {
      report(where, "attribute '" + std::string(required) + "' is required");
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  auto username = attrs.value("username");
  auto password = attrs.value("password");
  if (username) {
    if (username->empty()) {
      report(attribute_path(where, "username"), "username must not be empty");
      ok = false;
    } else if (username->find(':') != std::string_view::npos) {
      report(attribute_path(where, "username"),
             "username must not contain ':' (RFC 7617: it separates user and password)");
      ok = false;
    }
  }
  if (!ok || !username || !password) return std::nullopt;
  return std::make_pair(std::string(*username), std::string(*password));
}

std::optional<BackendRef> Parser::parse_set_backend_service(const pugi::xml_node& node,
                                                            const std::string& where) {
  Attributes attrs = read_attributes(node, where, {"base-url", "backend-id"});
  expect_no_content(node, where);
  bool has_url = attrs.has("base-url");
  bool has_id = attrs.has("backend-id");
  if (has_url == has_id) {
    report(where, has_url ? "use either base-url or backend-id, not both"
                          : "base-url or backend-id is required");
    return std::nullopt;
  }
  BackendRef ref;
  if (has_url) {
    auto url = attrs.value("base-url");
    if (!url) return std::nullopt;
    // The same rules as an API's serviceUrl: the result must be routable.
    std::string error;
    if (!http::parse_service_url(*url, error)) {
      report(attribute_path(where, "base-url"), std::move(error));
      return std::nullopt;
    }
    ref.base_url = std::string(*url);
    return ref;
  }
  auto id = attrs.value("backend-id");
  if (!id) return std::nullopt;
  if (id->empty()) {
    report(attribute_path(where, "backend-id"), "backend-id must not be empty");
    return std::nullopt;
  }
  ref.backend_id = std::string(*id);
  return ref;
}

std::optional<SetHeader> Parser::parse_set_header(const pugi::xml_node& node,
                                                  const std::string& where) {
  Attributes attrs = read_attributes(node, where, {"name", "exists-action"});
  bool ok = true;
  SetHeader header;
  if (!attrs.has("name")) {
    report(where, "attribute 'name' is required");
    ok = false;
  } else if (auto name = attrs.value("name");
             !name || !check_header_name(*name, attribute_path(where, "name"))) {
    ok = false;
  } else {
    header.name = std::string(*name);
  }
  auto action = parse_exists_action(attrs, where);
  ok = ok && action.has_value();

  SiblingCounter counter;
  unsigned value_elements = 0;
  for (const pugi::xml_node& child : node.children()) {
    if (child.type() != pugi::node_element) {
      if (!is_blank(child.value())) {
        report(where, "unexpected text " + quoted(trim_xml_space(child.value())) +
                          " inside <set-header>; put header values in <value> elements");
        ok = false;
      }
      continue;
    }
    std::string_view name = child.name();
    std::string child_where = indexed(where, name, counter.next(name));
    if (name != "value") {
      report(child_where, "unexpected element '" + std::string(name) +
                              "' inside <set-header>; expected <value>");
      ok = false;
      continue;
    }
    ++value_elements;
    auto value = parse_value(child, child_where);
    if (value) {
      header.values.push_back(std::move(*value));
    } else {
      ok = false;
    }
  }
  if (action) {
    if (*action == HeaderAction::kDelete && value_elements > 0) {
      report(where, "exists-action=\"delete\" takes no <value>");
      ok = false;
    } else if (*action != HeaderAction::kDelete && value_elements == 0) {
      report(where, "at least one <value> is required unless exists-action=\"delete\"");
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  header.action = *action;
  return header;
}

std::optional<HeaderAction> Parser::parse_exists_action(const Attributes& attrs,
                                                        const std::string& where) {
  if (!attrs.has("exists-action")) return HeaderAction::kOverride;
  auto text = attrs.value("exists-action");
  if (!text) return std::nullopt;
  static constexpr std::array<std::pair<std::string_view, HeaderAction>, 4> kActions = {{
      {"override", HeaderAction::kOverride},
      {"skip", HeaderAction::kSkip},
      {"append", HeaderAction::kAppend},
      {"delete", HeaderAction::kDelete},
  }};
  for (const auto& [name, action] : kActions) {
    if (*text == name) return action;
  }
  report(attribute_path(where, "exists-action"),
         "exists-action must be override, skip, append or delete, not " + quoted(*text));
  return std::nullopt;
}

bool Parser::check_header_name(std::string_view name, const std::string& where) {
  if (!is_token(name)) {
    report(where, "header name " + quoted(name) + " is not a valid HTTP field name");
    return false;
  }
  std::string_view reason = reserved_header_reason(name);
  if (!reason.empty()) {
    report(where,
           "header '" + std::string(name) + "' cannot be set by a policy: " + std::string(reason));
    return false;
  }
  return true;
}

// The text of a <value>, trimmed; nullopt (reported) when it is not a valid
// literal field value.
std::optional<std::string> Parser::parse_value(const pugi::xml_node& node,
                                               const std::string& where) {
  read_attributes(node, where, {});
  std::string text;
  bool ok = true;
  SiblingCounter counter;
  for (const pugi::xml_node& child : node.children()) {
    if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
      text += child.value();
    } else if (child.type() == pugi::node_element) {
      std::string_view name = child.name();
      report(indexed(where, name, counter.next(name)),
             "unexpected element '" + std::string(name) + "' inside <value>");
      ok = false;
    }
  }
  std::string_view value = trim_xml_space(text);
  if (!check_literal(value, where)) return std::nullopt;
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    // CR or LF would let a policy inject headers; RFC 9110 §5.5 forbids all CTLs but HTAB.
    if ((u < 0x20 && c != '\t') || u == 0x7F) {
      report(where, "header value " + quoted(value) + " contains a control character");
      return std::nullopt;
    }
  }
  if (!ok) return std::nullopt;
  return std::string(value);
}

std::optional<uint32_t> Parser::parse_forward_request(const pugi::xml_node& node,
                                                      const std::string& where) {
  Attributes attrs = read_attributes(node, where, {"timeout"});
  expect_no_content(node, where);
  if (!attrs.has("timeout")) return 0;
  auto text = attrs.value("timeout");
  if (!text) return std::nullopt;
  uint32_t seconds = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), seconds);
  bool ok = !text->empty() && ec == std::errc() && end == text->data() + text->size() &&
            seconds >= 1 && seconds <= kMaxForwardTimeoutSeconds;
  if (!ok) {
    report(attribute_path(where, "timeout"),
           "timeout must be a whole number of seconds from 1 to " +
               std::to_string(kMaxForwardTimeoutSeconds) + ", not " + quoted(*text));
    return std::nullopt;
  }
  return seconds;
}

}  // namespace

bool Policy::empty() const { return *this == Policy{}; }

PolicyResult parse_policy(std::string_view xml) { return Parser().run(xml); }

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
