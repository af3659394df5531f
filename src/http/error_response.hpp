// Responses the gateway itself produces (routing failures, parse errors,
// backend failures), shaped like Azure API Management's:
// {"statusCode":404,"message":"Resource not found"}.
#pragma once

#include <string>
#include <string_view>

namespace ringgate::http {

// The standard reason phrase for `status` ("Not Found"); for codes without one
// a generic phrase for the status class ("Client Error"). Static storage.
std::string_view reason_phrase(int status) noexcept;

// The human message of the JSON error body for `status` ("Resource not
// found"). Static storage.
std::string_view error_message(int status) noexcept;

// Appends a whole HTTP/1.1 response: status line, "Content-Type:
// application/json", "Content-Length", "Connection: close" when `close`, and
// the JSON body {"statusCode":N,"message":"…"}.
void append_error_response(std::string& out, int status, bool close);

}  // namespace ringgate::http
