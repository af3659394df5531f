// One parser per policy element: its attributes, its content, its limits.
#include <charconv>

#include "http/router.hpp"
#include "policy/parser.hpp"

namespace ringgate::policy::detail {
namespace {

// The longest forward-request timeout accepted, so that callers can turn it
// into milliseconds or timer ticks without thinking about overflow.
constexpr uint32_t kMaxForwardTimeoutSeconds = 86400;

}  // namespace

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

}  // namespace ringgate::policy::detail
