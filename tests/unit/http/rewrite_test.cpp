#include "http/rewrite.hpp"

#include <gtest/gtest.h>

#include <string>

#include "http/error_response.hpp"
#include "http/parser.hpp"
#include "parse_support.hpp"

namespace ringgate::http {
namespace {

using testing::cat;
using testing::StringSink;

// Parses one head (request or response) and keeps the parser alive so that
// the head's views stay valid.
class ParsedHead {
 public:
  ParsedHead(MessageKind kind, std::string raw, bool no_body = false)
      : raw_(std::move(raw)), parser_(kind, {}) {
    parser_.expect_no_body(no_body);
    StringSink sink;
    ParseResult r = parser_.feed(raw_.data(), raw_.size(), sink);
    EXPECT_EQ(r.status, ParseStatus::kHeadComplete) << raw_;
  }
  const MessageHead& head() const { return parser_.head(); }

 private:
  std::string raw_;
  MessageParser parser_;
};

std::string backend_head(std::string_view raw, bool tls = false) {
  ParsedHead parsed(MessageKind::kRequest, std::string(raw));
  std::string out;
  append_backend_request_head(out, parsed.head(),
                              RequestRewrite{"/api/1", "be.internal:9443", "192.0.2.7", tls});
  return out;
}

std::string client_head(std::string_view raw, bool keep_alive = true, uint8_t minor = 1,
                        bool no_body = false) {
  ParsedHead parsed(MessageKind::kResponse, std::string(raw), no_body);
  std::string out;
  append_client_response_head(out, parsed.head(), keep_alive, minor);
  return out;
}

bool has_line(const std::string& head, std::string_view line) {
  return head.find(cat("\r\n", line, "\r\n")) != std::string::npos;
}

bool has_name(const std::string& head, std::string_view name) {
  return head.find(cat("\r\n", name, ":")) != std::string::npos;
}

// ---- requests to the backend ------------------------------------------------

TEST(RequestRewrite, WritesRequestLineAndBackendHost) {
  std::string out =
      backend_head("GET /orders/1 HTTP/1.1\r\nHost: gw.example\r\nAccept: */*\r\n\r\n");
  EXPECT_EQ(out.rfind("GET /api/1 HTTP/1.1\r\nHost: be.internal:9443\r\n", 0), 0u) << out;
  EXPECT_TRUE(has_line(out, "Accept: */*")) << out;
  EXPECT_EQ(out.find("gw.example\r\nAccept"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");
}

TEST(RequestRewrite, UpgradesHttp10RequestLineTo11) {
  std::string out = backend_head("GET /x HTTP/1.0\r\nHost: gw\r\n\r\n");
  EXPECT_EQ(out.rfind("GET /api/1 HTTP/1.1\r\n", 0), 0u) << out;
}

TEST(RequestRewrite, RemovesHopByHopHeaders) {
  std::string out = backend_head(
      "GET / HTTP/1.1\r\nHost: gw\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n"
      "Proxy-Connection: keep-alive\r\nTE: trailers\r\nTrailer: X-Sum\r\nUpgrade: h2c\r\n"
      "Proxy-Authorization: Basic Zm9v\r\nProxy-Authenticate: Basic\r\nX-Keep: 1\r\n\r\n");
  for (std::string_view name : {"Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer",
                                "Upgrade", "Proxy-Authorization", "Proxy-Authenticate"}) {
    EXPECT_FALSE(has_name(out, name)) << name << " in\n" << out;
  }
  EXPECT_TRUE(has_line(out, "X-Keep: 1")) << out;
}

TEST(RequestRewrite, RemovesHeadersNamedInConnection) {
  std::string out = backend_head(
      "GET / HTTP/1.1\r\nHost: gw\r\nConnection: close, X-Hop ,x-other\r\nConnection: X-Third\r\n"
      "X-Hop: 1\r\nX-Other: 2\r\nx-third: 3\r\nX-Hopper: 4\r\n\r\n");
  EXPECT_FALSE(has_name(out, "X-Hop")) << out;
  EXPECT_FALSE(has_name(out, "X-Other")) << out;
  EXPECT_FALSE(has_name(out, "x-third")) << out;
  EXPECT_TRUE(has_line(out, "X-Hopper: 4")) << out;
}

TEST(RequestRewrite, HonoursManyConnectionHeaders) {
  std::string raw = "GET / HTTP/1.1\r\nHost: gw\r\n";
  for (int i = 0; i < 12; ++i) raw += cat("Connection: X-H", std::to_string(i), "\r\n");
  raw += "X-H11: gone\r\nX-Stay: here\r\n\r\n";
  std::string out = backend_head(raw);
  EXPECT_FALSE(has_name(out, "X-H11")) << out;
  EXPECT_TRUE(has_line(out, "X-Stay: here")) << out;
}

TEST(RequestRewrite, AppendsClientToExistingXForwardedFor) {
  std::string out = backend_head(
      "GET / HTTP/1.1\r\nHost: gw\r\nX-Forwarded-For: 203.0.113.1, 198.51.100.2\r\n"
      "x-forwarded-for: 198.51.100.3\r\n\r\n");
  EXPECT_TRUE(has_line(out, "X-Forwarded-For: 203.0.113.1, 198.51.100.2, 198.51.100.3, 192.0.2.7"))
      << out;
  EXPECT_EQ(out.find("x-forwarded-for"), std::string::npos) << out;
}

TEST(RequestRewrite, AddsXForwardedForWhenAbsent) {
  std::string out = backend_head("GET / HTTP/1.1\r\nHost: gw\r\n\r\n");
  EXPECT_TRUE(has_line(out, "X-Forwarded-For: 192.0.2.7")) << out;
}

TEST(RequestRewrite, ReplacesClientForwardedProtoAndHost) {
  std::string out = backend_head(
      "GET / HTTP/1.1\r\nHost: gw.example:8443\r\nX-Forwarded-Proto: gopher\r\nX-Forwarded-Host: "
      "evil\r\n\r\n",
      true);
  EXPECT_TRUE(has_line(out, "X-Forwarded-Proto: https")) << out;
  EXPECT_TRUE(has_line(out, "X-Forwarded-Host: gw.example:8443")) << out;
  EXPECT_EQ(out.find("gopher"), std::string::npos) << out;
  EXPECT_EQ(out.find("evil"), std::string::npos) << out;

  std::string plain = backend_head("GET / HTTP/1.1\r\nHost: gw\r\n\r\n", false);
  EXPECT_TRUE(has_line(plain, "X-Forwarded-Proto: http")) << plain;
}

TEST(RequestRewrite, OmitsForwardedHostWithoutHost) {
  std::string out = backend_head("GET / HTTP/1.1\r\nX-Forwarded-Host: evil\r\n\r\n");
  EXPECT_FALSE(has_name(out, "X-Forwarded-Host")) << out;
}

TEST(RequestRewrite, DropsExpect) {
  std::string out = backend_head(
      "PUT / HTTP/1.1\r\nHost: gw\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  EXPECT_FALSE(has_name(out, "Expect")) << out;
}

TEST(RequestRewrite, RestatesContentLength) {
  std::string out = backend_head("POST / HTTP/1.1\r\nHost: gw\r\ncontent-length: 000012\r\n\r\n");
  EXPECT_TRUE(has_line(out, "Content-Length: 12")) << out;
  EXPECT_EQ(out.find("content-length"), std::string::npos) << out;
}

TEST(RequestRewrite, RestatesChunkedFraming) {
  std::string out =
      backend_head("POST / HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_TRUE(has_line(out, "Transfer-Encoding: chunked")) << out;
  EXPECT_FALSE(has_name(out, "Content-Length")) << out;
}

TEST(RequestRewrite, BodylessRequestGetsNoFramingHeader) {
  std::string out = backend_head("GET / HTTP/1.1\r\nHost: gw\r\n\r\n");
  EXPECT_FALSE(has_name(out, "Content-Length")) << out;
  EXPECT_FALSE(has_name(out, "Transfer-Encoding")) << out;
}

TEST(RequestRewrite, KeepsHeaderOrderAndRepeats) {
  std::string out =
      backend_head("GET / HTTP/1.1\r\nHost: gw\r\nCookie: a=1\r\nAccept: x\r\nCookie: b=2\r\n\r\n");
  size_t a = out.find("Cookie: a=1");
  size_t x = out.find("Accept: x");
  size_t b = out.find("Cookie: b=2");
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  EXPECT_LT(a, x);
  EXPECT_LT(x, b);
}

// ---- responses to the client ------------------------------------------------

TEST(ResponseRewrite, WritesStatusLineAndKeepsEndToEndHeaders) {
  std::string out =
      client_head("HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 201 Created\r\n", 0), 0u) << out;
  EXPECT_TRUE(has_line(out, "Content-Type: text/plain")) << out;
  EXPECT_TRUE(has_line(out, "Content-Length: 2")) << out;
  EXPECT_FALSE(has_name(out, "Connection")) << out;
}

TEST(ResponseRewrite, FillsInAMissingReasonPhrase) {
  std::string out = client_head("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << out;
}

TEST(ResponseRewrite, RemovesHopByHopHeaders) {
  std::string out = client_head(
      "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Backend-Hop\r\nKeep-Alive: timeout=5\r\n"
      "X-Backend-Hop: 1\r\nProxy-Authenticate: Basic\r\nUpgrade: h2\r\nContent-Length: 0\r\n"
      "X-End: 1\r\n\r\n");
  for (std::string_view name :
       {"Keep-Alive", "X-Backend-Hop", "Proxy-Authenticate", "Upgrade", "Connection"}) {
    EXPECT_FALSE(has_name(out, name)) << name << " in\n" << out;
  }
  EXPECT_TRUE(has_line(out, "X-End: 1")) << out;
}

TEST(ResponseRewrite, ChunkedStaysChunkedForHttp11Clients) {
  std::string out = client_head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_TRUE(has_line(out, "Transfer-Encoding: chunked")) << out;
  EXPECT_FALSE(has_name(out, "Connection")) << out;
}

TEST(ResponseRewrite, ChunkedToHttp10ClientIsDelimitedByClose) {
  ParsedHead parsed(MessageKind::kResponse,
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(client_response_framing(parsed.head(), 0), BodyFraming::kUntilClose);
  EXPECT_EQ(client_response_framing(parsed.head(), 1), BodyFraming::kChunked);
  std::string out;
  append_client_response_head(out, parsed.head(), true, 0);
  EXPECT_FALSE(has_name(out, "Transfer-Encoding")) << out;
  EXPECT_TRUE(has_line(out, "Connection: close")) << out;
}

TEST(ResponseRewrite, UntilCloseResponseClosesTheClient) {
  std::string out = client_head("HTTP/1.1 200 OK\r\nX: y\r\n\r\n", true);
  EXPECT_TRUE(has_line(out, "Connection: close")) << out;
  EXPECT_FALSE(has_name(out, "Content-Length")) << out;
}

TEST(ResponseRewrite, SaysCloseWhenNotKeepingAlive) {
  std::string out = client_head("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false);
  EXPECT_TRUE(has_line(out, "Connection: close")) << out;
}

TEST(ResponseRewrite, SaysKeepAliveToHttp10Clients) {
  std::string out = client_head("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true, 0);
  EXPECT_TRUE(has_line(out, "Connection: keep-alive")) << out;
  std::string closing = client_head("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, 0);
  EXPECT_TRUE(has_line(closing, "Connection: close")) << closing;
}

TEST(ResponseRewrite, HeadResponseKeepsContentLength) {
  std::string out = client_head("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", true, 1, true);
  EXPECT_TRUE(has_line(out, "Content-Length: 1234")) << out;
}

TEST(ResponseRewrite, NotModifiedKeepsContentLength) {
  std::string out =
      client_head("HTTP/1.1 304 Not Modified\r\nContent-Length: 77\r\nETag: \"x\"\r\n\r\n");
  EXPECT_TRUE(has_line(out, "Content-Length: 77")) << out;
  EXPECT_TRUE(has_line(out, "ETag: \"x\"")) << out;
}

TEST(ResponseRewrite, NoContentDropsContentLength) {
  std::string out = client_head("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
  EXPECT_FALSE(has_name(out, "Content-Length")) << out;
}

TEST(ResponseRewrite, InterimResponseHasNoConnectionHeader) {
  std::string out = client_head("HTTP/1.1 100 Continue\r\n\r\n", false);
  EXPECT_EQ(out, "HTTP/1.1 100 Continue\r\n\r\n");
}

// ---- chunk framing ------------------------------------------------------------

TEST(ChunkFraming, FramesDataAsHexSizedChunk) {
  std::string out;
  std::string data(300, 'z');
  append_chunk(out, data.data(), data.size());
  EXPECT_EQ(out, "12c\r\n" + data + "\r\n");
}

TEST(ChunkFraming, EmptyDataAppendsNothing) {
  std::string out = "x";
  append_chunk(out, "", 0);
  EXPECT_EQ(out, "x");
}

TEST(ChunkFraming, LastChunkEndsTheBody) {
  std::string out;
  append_chunk(out, "ab", 2);
  append_last_chunk(out);
  EXPECT_EQ(out, "2\r\nab\r\n0\r\n\r\n");
}

TEST(ChunkFraming, ReframedBodyParsesBackToTheSameBytes) {
  std::string wire = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string body;
  for (int i = 0; i < 40; ++i) {
    std::string piece(static_cast<size_t>(i * 37 % 500 + 1), static_cast<char>('a' + i % 26));
    append_chunk(wire, piece.data(), piece.size());
    body += piece;
  }
  append_last_chunk(wire);
  MessageParser p(MessageKind::kRequest, {});
  testing::Outcome o = testing::run_parser(p, wire, 13);
  ASSERT_EQ(o.error_status, 0);
  ASSERT_EQ(o.bodies.size(), 1u);
  EXPECT_EQ(o.bodies[0], body);
}

// ---- error responses ------------------------------------------------------------

TEST(ErrorResponse, WritesApimStyleJson) {
  std::string out;
  append_error_response(out, 404, false);
  std::string body = R"({"statusCode":404,"message":"Resource not found"})";
  EXPECT_EQ(out, "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n" + body);
}

TEST(ErrorResponse, AddsConnectionCloseWhenClosing) {
  std::string out;
  append_error_response(out, 400, true);
  EXPECT_TRUE(has_line(out, "Connection: close")) << out;
  EXPECT_NE(out.find(R"({"statusCode":400,"message":"Bad request"})"), std::string::npos) << out;
}

TEST(ErrorResponse, ContentLengthMatchesBody) {
  for (int status : {400, 404, 408, 413, 414, 431, 501, 502, 503, 504, 418, 599}) {
    std::string out;
    append_error_response(out, status, false);
    size_t split = out.find("\r\n\r\n");
    ASSERT_NE(split, std::string::npos);
    std::string body = out.substr(split + 4);
    EXPECT_TRUE(
        has_line(out.substr(0, split + 2), cat("Content-Length: ", std::to_string(body.size()))))
        << status << "\n"
        << out;
    EXPECT_EQ(body.rfind(cat("{\"statusCode\":", std::to_string(status), ",\"message\":\""), 0), 0u)
        << body;
  }
}

TEST(ErrorResponse, UsesTheDocumentedMessages) {
  EXPECT_EQ(error_message(408), "Request timeout");
  EXPECT_EQ(error_message(413), "Payload too large");
  EXPECT_EQ(error_message(414), "URI too long");
  EXPECT_EQ(error_message(431), "Request header fields too large");
  EXPECT_EQ(error_message(501), "Not implemented");
  EXPECT_EQ(error_message(502), "Bad gateway");
  EXPECT_EQ(error_message(503), "Service unavailable");
  EXPECT_EQ(error_message(504), "Gateway timeout");
}

TEST(ReasonPhrase, KnowsStandardCodesAndFallsBackByClass) {
  EXPECT_EQ(reason_phrase(200), "OK");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(299), "Success");
  EXPECT_EQ(reason_phrase(499), "Client Error");
  EXPECT_EQ(reason_phrase(599), "Server Error");
}

}  // namespace
}  // namespace ringgate::http
