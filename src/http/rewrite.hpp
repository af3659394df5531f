// Head rewriting between the client and the backend (DESIGN §4.6): hop-by-hop
// headers removed, Host and X-Forwarded-* set by the gateway, body framing
// restated. Everything appends to a caller-owned buffer so a reused buffer
// makes the data path allocation-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/message.hpp"

namespace ringgate::http {

struct RequestRewrite {
  std::string_view backend_target;       // from append_backend_target()
  std::string_view backend_host_header;  // ServiceUrl::host_header
  std::string_view client_address;       // peer IP text
  bool client_tls = false;
};

// Appends "METHOD target HTTP/1.1\r\n", "Host: <backend_host_header>", then the
// request headers minus hop-by-hop ones (Connection, Keep-Alive,
// Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade,
// Proxy-Authorization, Proxy-Authenticate and every header named in
// Connection), minus the client's Host, Content-Length, Expect,
// X-Forwarded-Proto and X-Forwarded-Host. X-Forwarded-For keeps the client's
// values with ", <client_address>" appended (one header); X-Forwarded-Proto is
// http|https and X-Forwarded-Host the original Host. Framing: kLength →
// "Content-Length: n", kChunked → "Transfer-Encoding: chunked", kNone →
// nothing. Ends with the blank line.
void append_backend_request_head(std::string& out, const MessageHead& request,
                                 const RequestRewrite& rw);

// How the body of `response` must be framed towards a client speaking
// HTTP/1.<client_version_minor>: a chunked response to an HTTP/1.0 client can
// only be delimited by closing (kUntilClose: send decoded bytes, then close).
BodyFraming client_response_framing(const MessageHead& response,
                                    uint8_t client_version_minor) noexcept;

// Appends the response head for the client: "HTTP/1.1 status reason\r\n", the
// backend's headers minus hop-by-hop ones, then the framing of
// client_response_framing(): kLength, or a body-less response that carried
// Content-Length (HEAD, 304) → "Content-Length"; kChunked →
// "Transfer-Encoding: chunked"; kUntilClose → none and "Connection: close".
// "Connection: close" also when !keep_alive_to_client, and "Connection:
// keep-alive" for HTTP/1.0 clients kept alive. 1xx heads get no Connection.
void append_client_response_head(std::string& out, const MessageHead& response,
                                 bool keep_alive_to_client, uint8_t client_version_minor);

// Appends one chunk: "<hex len>\r\n" + data + "\r\n". len 0 appends nothing
// (a zero-size chunk would end the body).
void append_chunk(std::string& out, const char* data, size_t len);

// Appends the last chunk with no trailers: "0\r\n\r\n".
void append_last_chunk(std::string& out);

}  // namespace ringgate::http
