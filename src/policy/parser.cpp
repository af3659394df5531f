#include "policy/parser.hpp"

#include <charconv>

#include "http/router.hpp"

namespace ringgate::policy::detail {

std::optional<Section> section_named(std::string_view name) {
  for (size_t i = 0; i < kSectionNames.size(); ++i) {
    if (kSectionNames[i] == name) return static_cast<Section>(i);
  }
  return std::nullopt;
}

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
    std::string message = "<";
    message.append(name);
    message += "> is only supported in ";
    message.append(allowed);
    message += ", not in <";
    message.append(kSectionNames[static_cast<size_t>(section)]);
    message += '>';
    report(where, std::move(message));
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

}  // namespace ringgate::policy::detail
