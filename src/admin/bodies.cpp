#include "admin/bodies.hpp"

#include <openssl/crypto.h>
#include <simdjson.h>

#include <cstdint>

#include "config/entities.hpp"
#include "config/json_reader.hpp"
#include "files/base64.hpp"

namespace ringgate::admin {
namespace {

// Wipes every byte a string holds, its spare capacity included.
void wipe(std::string& text) {
  text.resize(text.capacity());
  OPENSSL_cleanse(text.data(), text.size());
  text.clear();
}

// A parsed body. The input is copied into a padded buffer of our own so that
// simdjson makes no copy of its own, and both that buffer and the strings
// handed out (they live in the parser's string buffer) can be wiped.
class Document {
 public:
  explicit Document(std::string_view body) : input_(body.data(), body.size()) {}
  ~Document() { OPENSSL_cleanse(input_.data(), input_.size()); }
  Document(const Document&) = delete;
  Document& operator=(const Document&) = delete;

  // The root, or nullopt with a problem at "$".
  std::optional<simdjson::dom::element> parse(config::Problems& problems) {
    simdjson::dom::element root;
    if (simdjson::error_code error = parser_.parse(input_).get(root)) {
      problems.add("$", std::string("invalid JSON: ") + simdjson::error_message(error));
      return std::nullopt;
    }
    return root;
  }

  // The value of a string element, in the parser's buffer; wiped with the
  // rest of the secrets by wipe_string().
  static std::optional<std::string_view> string_of(simdjson::dom::element value) {
    std::string_view text;
    if (value.get_string().get(text) != simdjson::SUCCESS) return std::nullopt;
    return text;
  }
  static void wipe_string(std::string_view text) {
    // The bytes belong to this document's parser, which is not const.
    OPENSSL_cleanse(const_cast<char*>(text.data()), text.size());
  }

 private:
  simdjson::padded_string input_;
  simdjson::dom::parser parser_;
};

std::vector<ErrorDetail> to_details(config::Problems& problems) {
  std::vector<ErrorDetail> details;
  for (config::Problem& p : problems.take()) {
    details.push_back({std::move(p.path), std::move(p.message)});
  }
  return details;
}

// Opens {"properties": {…}} and returns the properties value.
std::optional<simdjson::dom::element> properties_of(simdjson::dom::element root,
                                                    config::Problems& problems) {
  std::optional<config::ObjectReader> top =
      config::ObjectReader::open(root, "$", {"properties"}, problems);
  if (!top) return std::nullopt;
  return top->require("properties");
}

template <typename Read>
auto read_body(std::string_view body, std::vector<ErrorDetail>& details, Read&& read)
    -> decltype(read(std::declval<simdjson::dom::element>(), std::declval<config::Problems&>())) {
  config::Problems problems;
  Document document(body);
  decltype(read(std::declval<simdjson::dom::element>(), problems)) result;
  if (std::optional<simdjson::dom::element> root = document.parse(problems)) {
    if (std::optional<simdjson::dom::element> properties = properties_of(*root, problems)) {
      result = read(*properties, problems);
    }
  }
  if (!problems.empty()) {
    details = to_details(problems);
    return {};
  }
  return result;
}

}  // namespace

CertificateUpload::~CertificateUpload() {
  wipe(pfx_);
  wipe(password_);
}

bool read_certificate_body(std::string_view body, CertificateUpload& upload,
                           std::vector<ErrorDetail>& details) {
  config::Problems problems;
  Document document(body);
  std::optional<std::string_view> data;
  std::optional<std::string_view> password;
  if (std::optional<simdjson::dom::element> root = document.parse(problems)) {
    if (std::optional<simdjson::dom::element> properties = properties_of(*root, problems)) {
      std::optional<config::ObjectReader> object =
          config::ObjectReader::open(*properties, "$.properties", {"data", "password"}, problems);
      if (object) {
        if (std::optional<simdjson::dom::element> value = object->require("data")) {
          data = Document::string_of(*value);
          if (!data) {
            problems.add(
                object->path_of("data"),
                "expected a string (the PFX file, base64), found " + config::describe(*value));
          }
        }
        if (std::optional<simdjson::dom::element> value = object->find("password")) {
          // Never described: the message must not quote a password.
          password = Document::string_of(*value);
          if (!password) problems.add(object->path_of("password"), "expected a string");
        }
      }
    }
  }
  if (data) {
    upload.pfx_.reserve(data->size() / 4 * 3 + 3);
    if (!files::base64_decode(*data, upload.pfx_, files::Base64Form::kLenient)) {
      problems.add("$.properties.data", "expected the PFX file in base64 (RFC 4648)");
    } else if (upload.pfx_.empty()) {
      problems.add("$.properties.data", "expected the PFX file in base64, found an empty string");
    }
    Document::wipe_string(*data);
  }
  if (password) {
    upload.password_.reserve(password->size());
    upload.password_.assign(*password);
    Document::wipe_string(*password);
  }
  if (problems.empty()) return true;
  details = to_details(problems);
  return false;
}

std::optional<config::Backend> read_backend_body(std::string_view body,
                                                 std::vector<ErrorDetail>& details) {
  return read_body(body, details, [](simdjson::dom::element properties, config::Problems& p) {
    return config::read_backend_properties(properties, "$.properties", p);
  });
}

std::optional<config::Api> read_api_body(std::string_view body, std::vector<ErrorDetail>& details) {
  return read_body(body, details, [](simdjson::dom::element properties, config::Problems& p) {
    return config::read_api_properties(properties, "$.properties", p);
  });
}

std::optional<std::string> read_policy_body(std::string_view body,
                                            std::vector<ErrorDetail>& details) {
  return read_body(
      body, details,
      [](simdjson::dom::element properties, config::Problems& p) -> std::optional<std::string> {
        const size_t before = p.size();
        std::optional<config::ObjectReader> object =
            config::ObjectReader::open(properties, "$.properties", {"format", "value"}, p);
        if (!object) return std::nullopt;
        if (std::optional<simdjson::dom::element> format = object->find("format")) {
          std::optional<std::string> text =
              config::as_string(*format, object->path_of("format"), p);
          if (text && *text != "xml") {
            p.add(object->path_of("format"),
                  "expected \"xml\" (the policy document inline), found " + config::quote(*text));
          }
        }
        std::optional<std::string> xml;
        if (std::optional<simdjson::dom::element> value = object->require("value")) {
          xml = config::as_string(*value, object->path_of("value"), p);
          if (xml && xml->find_first_not_of(" \t\r\n") == std::string::npos) {
            p.add(object->path_of("value"),
                  "expected a policy document (<policies>…</policies>), found an empty string");
          }
        }
        if (p.size() != before) return std::nullopt;
        return xml;
      });
}

}  // namespace ringgate::admin
