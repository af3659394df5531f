// Specification of MessageParser on backend responses: framing by status
// and request method, interim responses, bodies that run until the close,
// and what a malformed response becomes (502).
#include <gtest/gtest.h>

#include <string>

#include "http/parser.hpp"
#include "parse_support.hpp"

namespace ringgate::http {
namespace {

using testing::cat;
using testing::Outcome;
using testing::request_error;
using testing::response_error;
using testing::run_parser;
using testing::StringSink;

// ---- responses ------------------------------------------------------------

TEST(MessageParser, ParsesContentLengthResponse) {
  MessageParser p(MessageKind::kResponse, {});
  StringSink sink;
  std::string raw = "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
  ParseResult r = p.feed(raw.data(), raw.size(), sink);
  ASSERT_EQ(r.status, ParseStatus::kHeadComplete);
  EXPECT_EQ(p.head().status, 201);
  EXPECT_EQ(p.head().reason, "Created");
  EXPECT_EQ(p.head().framing, BodyFraming::kLength);
  r = p.feed(raw.data() + r.consumed, raw.size() - r.consumed, sink);
  EXPECT_EQ(r.status, ParseStatus::kMessageComplete);
  EXPECT_EQ(sink.body, "ok");
}

TEST(MessageParser, ParsesChunkedResponse) {
  MessageParser p(MessageKind::kResponse, {});
  Outcome o =
      run_parser(p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n");
  ASSERT_EQ(o.error_status, 0);
  ASSERT_EQ(o.bodies.size(), 1u);
  EXPECT_EQ(o.bodies[0], "ok");
}

TEST(MessageParser, ResponseToHeadHasNoBody) {
  MessageParser p(MessageKind::kResponse, {});
  p.expect_no_body(true);
  StringSink sink;
  std::string first = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n";
  std::string raw = first + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  ParseResult r = p.feed(raw.data(), raw.size(), sink);
  ASSERT_EQ(r.status, ParseStatus::kHeadComplete);
  EXPECT_EQ(r.consumed, first.size());
  EXPECT_EQ(p.head().framing, BodyFraming::kNone);
  EXPECT_TRUE(p.head().has_content_length);
  EXPECT_EQ(p.head().content_length, 1234u);
  EXPECT_TRUE(p.head().keep_alive);
  EXPECT_EQ(p.feed(raw.data() + r.consumed, raw.size() - r.consumed, sink).status,
            ParseStatus::kMessageComplete);
}

TEST(MessageParser, ResponseToHeadWithoutLengthStaysKeepAlive) {
  MessageParser p(MessageKind::kResponse, {});
  p.expect_no_body(true);
  Outcome o = run_parser(p, "HTTP/1.1 200 OK\r\nX: y\r\n\r\nHTTP/1.1 200 OK\r\nX: z\r\n\r\n");
  EXPECT_EQ(o.error_status, 0);
  ASSERT_EQ(o.heads.size(), 2u);
  EXPECT_NE(o.heads[0].find(" ka"), std::string::npos) << o.heads[0];
}

TEST(MessageParser, NoContentResponseHasNoBody) {
  MessageParser p(MessageKind::kResponse, {});
  Outcome o = run_parser(p,
                         "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 "
                         "OK\r\nContent-Length: 1\r\n\r\nx");
  EXPECT_EQ(o.error_status, 0);
  ASSERT_EQ(o.bodies.size(), 2u);
  EXPECT_EQ(o.bodies[0], "");
  EXPECT_EQ(o.bodies[1], "x");
}

TEST(MessageParser, NotModifiedResponseKeepsLengthWithoutBody) {
  MessageParser p(MessageKind::kResponse, {});
  StringSink sink;
  std::string raw = "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n";
  ParseResult r = p.feed(raw.data(), raw.size(), sink);
  ASSERT_EQ(r.status, ParseStatus::kHeadComplete);
  EXPECT_EQ(r.consumed, raw.size());
  EXPECT_EQ(p.head().framing, BodyFraming::kNone);
  EXPECT_EQ(p.head().content_length, 99u);
  EXPECT_EQ(p.feed(nullptr, 0, sink).status, ParseStatus::kMessageComplete);
}

TEST(MessageParser, InformationalResponseIsItsOwnMessage) {
  MessageParser p(MessageKind::kResponse, {});
  Outcome o = run_parser(p,
                         "HTTP/1.1 100 Continue\r\n\r\n"
                         "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                         "HTTP/1.1 199 Misc\r\nContent-Length: 3\r\n\r\n"
                         "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_EQ(o.error_status, 0);
  ASSERT_EQ(o.heads.size(), 4u);
  EXPECT_EQ(o.heads[0].substr(0, 12), "100 Continue");
  EXPECT_EQ(o.heads[2].substr(0, 8), "199 Misc");
  ASSERT_EQ(o.bodies.size(), 4u);
  EXPECT_EQ(o.bodies[2], "");
  EXPECT_EQ(o.bodies[3], "ok");
}

TEST(MessageParser, SwitchingProtocolsReportsUpgrade) {
  MessageParser p(MessageKind::kResponse, {});
  StringSink sink;
  std::string raw =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
  ASSERT_EQ(p.feed(raw.data(), raw.size(), sink).status, ParseStatus::kHeadComplete);
  EXPECT_TRUE(p.head().upgrade);
  EXPECT_FALSE(p.head().keep_alive);
}

TEST(MessageParser, ResponseWithoutLengthRunsUntilClose) {
  MessageParser p(MessageKind::kResponse, {});
  StringSink sink;
  std::string raw = "HTTP/1.1 200 OK\r\n\r\nstreamed";
  ParseResult r = p.feed(raw.data(), raw.size(), sink);
  ASSERT_EQ(r.status, ParseStatus::kHeadComplete);
  EXPECT_EQ(p.head().framing, BodyFraming::kUntilClose);
  EXPECT_FALSE(p.head().keep_alive);
  r = p.feed(raw.data() + r.consumed, raw.size() - r.consumed, sink);
  EXPECT_EQ(r.status, ParseStatus::kNeedMore);
  EXPECT_EQ(sink.body, "streamed");
  r = p.finish(sink);
  EXPECT_EQ(r.status, ParseStatus::kMessageComplete);
}

TEST(MessageParser, FinishReportsTruncatedBody) {
  MessageParser p(MessageKind::kResponse, {});
  Outcome o = run_parser(p, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 0, true);
  EXPECT_EQ(o.error_status, 502);
  MessageParser q(MessageKind::kRequest, {});
  o = run_parser(q, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", 0, true);
  EXPECT_EQ(o.error_status, 400);
}

TEST(MessageParser, FinishReportsTruncatedHead) {
  MessageParser p(MessageKind::kResponse, {});
  Outcome o = run_parser(p, "HTTP/1.1 200 OK\r\nContent-Le", 0, true);
  EXPECT_EQ(o.error_status, 502);
}

TEST(MessageParser, FinishBetweenMessagesIsClean) {
  MessageParser p(MessageKind::kRequest, {});
  Outcome o = run_parser(p, "GET / HTTP/1.1\r\n\r\n", 0, true);
  EXPECT_EQ(o.error_status, 0);
  StringSink sink;
  EXPECT_EQ(p.finish(sink).status, ParseStatus::kNeedMore);
}

TEST(MessageParser, RejectsResponseTransferEncodingNotEndingInChunked) {
  EXPECT_EQ(response_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc"), 502);
  EXPECT_EQ(response_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n\r\nabc"),
            502);
}

TEST(MessageParser, MalformedResponsesAre502) {
  EXPECT_EQ(response_error("HTTP/1.1 2000 OK\r\n\r\n"), 502);
  EXPECT_EQ(
      response_error("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"),
      502);
  EXPECT_EQ(response_error("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"), 502);
  EXPECT_EQ(response_error("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n"), 502);
}

TEST(MessageParser, RejectsEmptyTransferEncoding) {
  EXPECT_EQ(request_error("POST / HTTP/1.1\r\nTransfer-Encoding:\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(request_error("POST / HTTP/1.1\r\nTransfer-Encoding: \r\nContent-Length: 1\r\n\r\nx"),
            400);
  EXPECT_EQ(response_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\n\r\n2\r\nok\r\n0\r\n\r\n"),
            502);
}

TEST(MessageParser, RejectsResponseStatusOutside100To599) {
  // A status line the gateway would re-emit as "HTTP/1.1 99 …" to its client.
  EXPECT_EQ(response_error("HTTP/1.1 099 Misc\r\nContent-Length: 0\r\n\r\n"), 502);
  EXPECT_EQ(response_error("HTTP/1.1 000 Zero\r\nContent-Length: 0\r\n\r\n"), 502);
  EXPECT_EQ(response_error("HTTP/1.1 600 Beyond\r\nContent-Length: 0\r\n\r\n"), 502);
  EXPECT_EQ(response_error("HTTP/1.1 100 Continue\r\n\r\n"), 0);
  EXPECT_EQ(response_error("HTTP/1.1 599 Last\r\nContent-Length: 0\r\n\r\n"), 0);
}

TEST(MessageParser, ResponseLimitsAre502) {
  ParserLimits limits;
  limits.max_body_bytes = 3;
  MessageParser p(MessageKind::kResponse, limits);
  Outcome o = run_parser(p, "HTTP/1.1 200 OK\r\n\r\nabcd", 0, true);
  EXPECT_EQ(o.error_status, 502);
}

TEST(MessageParser, BodyBytesCountsDecodedBytes) {
  MessageParser p(MessageKind::kRequest, {});
  StringSink sink;
  std::string head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string body = "a\r\n0123456789\r\n";
  std::string raw = head + body;
  ParseResult r = p.feed(raw.data(), raw.size(), sink);
  ASSERT_EQ(r.status, ParseStatus::kHeadComplete);
  r = p.feed(raw.data() + r.consumed, body.size(), sink);
  EXPECT_EQ(r.status, ParseStatus::kNeedMore);
  EXPECT_EQ(p.body_bytes(), 10u);
  EXPECT_TRUE(p.in_message());
}

TEST(MessageParser, FeedingAfterCompletionImpliesNextMessage) {
  MessageParser p(MessageKind::kRequest, {});
  StringSink sink;
  std::string raw = "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
  ParseResult r = p.feed(raw.data(), raw.size(), sink);
  ASSERT_EQ(r.status, ParseStatus::kHeadComplete);
  size_t pos = r.consumed;
  ASSERT_EQ(p.feed(raw.data() + pos, raw.size() - pos, sink).status, ParseStatus::kMessageComplete);
  r = p.feed(raw.data() + pos, raw.size() - pos, sink);
  ASSERT_EQ(r.status, ParseStatus::kHeadComplete);
  EXPECT_EQ(p.head().target, "/b");
  EXPECT_EQ(p.head().headers.size(), 0u);
}

TEST(MessageParser, Http10ResponseNeedsKeepAliveHeader) {
  MessageParser p(MessageKind::kResponse, {});
  StringSink sink;
  std::string raw = "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
  ASSERT_EQ(p.feed(raw.data(), raw.size(), sink).status, ParseStatus::kHeadComplete);
  EXPECT_FALSE(p.head().keep_alive);
  MessageParser q(MessageKind::kResponse, {});
  raw = "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n";
  ASSERT_EQ(q.feed(raw.data(), raw.size(), sink).status, ParseStatus::kHeadComplete);
  EXPECT_TRUE(q.head().keep_alive);
}

TEST(MessageParser, SetLimitsAppliesToTheNextMessage) {
  MessageParser p(MessageKind::kRequest, {});
  std::string raw = cat("GET /", std::string(50, 'a'), " HTTP/1.1\r\n\r\n");
  EXPECT_EQ(run_parser(p, raw).error_status, 0);
  ParserLimits tight;
  tight.max_url_bytes = 10;
  p.set_limits(tight);
  EXPECT_EQ(run_parser(p, raw).error_status, 414);
}

}  // namespace
}  // namespace ringgate::http
