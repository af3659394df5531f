#include "http/parser.hpp"

#include <gtest/gtest.h>

#include <string>

#include "parse_support.hpp"

namespace ringgate::http {
namespace {

using testing::cat;
using testing::Outcome;
using testing::request_error;
using testing::run_parser;
using testing::StringSink;

// ---- the happy path -------------------------------------------------------

TEST(MessageParser, ParsesRequestHead) {
  MessageParser p(MessageKind::kRequest, {});
  StringSink sink;
  std::string raw = "GET /orders/1?x=2 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
  ParseResult r = p.feed(raw.data(), raw.size(), sink);
  ASSERT_EQ(r.status, ParseStatus::kHeadComplete);
  EXPECT_EQ(r.consumed, raw.size());
  const MessageHead& h = p.head();
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.target, "/orders/1?x=2");
  EXPECT_EQ(h.version_major, 1);
  EXPECT_EQ(h.version_minor, 1);
  ASSERT_EQ(h.headers.size(), 2u);
  EXPECT_EQ(h.headers[1].name, "Accept");
  EXPECT_EQ(h.headers[1].value, "*/*");
  EXPECT_EQ(h.host, "example.com");
  EXPECT_EQ(h.framing, BodyFraming::kNone);
  EXPECT_TRUE(h.keep_alive);
  EXPECT_FALSE(h.upgrade);
}

TEST(MessageParser, FindIgnoresCase) {
  MessageParser q(MessageKind::kRequest, {});
  StringSink sink;
  std::string raw = "GET / HTTP/1.1\r\nX-Request-Id: 7\r\n\r\n";
  ASSERT_EQ(q.feed(raw.data(), raw.size(), sink).status, ParseStatus::kHeadComplete);
  const Header* h = q.head().find("x-request-ID");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->value, "7");
  EXPECT_EQ(q.head().find("x-request"), nullptr);
}

TEST(MessageParser, TrimsWhitespaceAroundValues) {
  MessageParser p(MessageKind::kRequest, {});
  StringSink sink;
  std::string raw = "GET / HTTP/1.1\r\nX:  \t a b \t \r\nEmpty:\r\n\r\n";
  ASSERT_EQ(p.feed(raw.data(), raw.size(), sink).status, ParseStatus::kHeadComplete);
  ASSERT_EQ(p.head().headers.size(), 2u);
  EXPECT_EQ(p.head().headers[0].value, "a b");
  EXPECT_EQ(p.head().headers[1].name, "Empty");
  EXPECT_EQ(p.head().headers[1].value, "");
}

TEST(MessageParser, StopsAtHeadBeforeAnyBodyByte) {
  MessageParser p(MessageKind::kRequest, {});
  StringSink sink;
  std::string head = "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n";
  std::string raw = head + "hello";
  ParseResult r = p.feed(raw.data(), raw.size(), sink);
  ASSERT_EQ(r.status, ParseStatus::kHeadComplete);
  EXPECT_EQ(r.consumed, head.size());
  EXPECT_EQ(sink.body, "");
  EXPECT_EQ(p.head().framing, BodyFraming::kLength);
  EXPECT_EQ(p.head().content_length, 5u);

  r = p.feed(raw.data() + head.size(), 5, sink);
  EXPECT_EQ(r.status, ParseStatus::kMessageComplete);
  EXPECT_EQ(r.consumed, 5u);
  EXPECT_EQ(sink.body, "hello");
  EXPECT_EQ(p.body_bytes(), 5u);
}

TEST(MessageParser, BodylessRequestCompletesOnNextFeedOfZeroBytes) {
  MessageParser p(MessageKind::kRequest, {});
  StringSink sink;
  std::string raw = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  ASSERT_EQ(p.feed(raw.data(), raw.size(), sink).status, ParseStatus::kHeadComplete);
  EXPECT_TRUE(p.in_message());
  ParseResult r = p.feed(nullptr, 0, sink);
  EXPECT_EQ(r.status, ParseStatus::kMessageComplete);
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_FALSE(p.in_message());
}

TEST(MessageParser, ZeroContentLengthIsALengthFramedEmptyBody) {
  MessageParser p(MessageKind::kRequest, {});
  StringSink sink;
  std::string raw = "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
  ASSERT_EQ(p.feed(raw.data(), raw.size(), sink).status, ParseStatus::kHeadComplete);
  EXPECT_EQ(p.head().framing, BodyFraming::kLength);
  EXPECT_EQ(p.head().content_length, 0u);
  EXPECT_EQ(p.feed(nullptr, 0, sink).status, ParseStatus::kMessageComplete);
}

TEST(MessageParser, PipelinedRequestsStopAtMessageEnd) {
  MessageParser p(MessageKind::kRequest, {});
  StringSink sink;
  std::string first = "POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\n";
  std::string second = "GET /b HTTP/1.1\r\n\r\n";
  std::string raw = first + "abc" + second;

  ParseResult r = p.feed(raw.data(), raw.size(), sink);
  ASSERT_EQ(r.status, ParseStatus::kHeadComplete);
  size_t pos = r.consumed;
  r = p.feed(raw.data() + pos, raw.size() - pos, sink);
  ASSERT_EQ(r.status, ParseStatus::kMessageComplete);
  EXPECT_EQ(r.consumed, 3u);
  pos += r.consumed;
  EXPECT_EQ(pos, first.size() + 3);
  p.next_message();

  r = p.feed(raw.data() + pos, raw.size() - pos, sink);
  ASSERT_EQ(r.status, ParseStatus::kHeadComplete);
  EXPECT_EQ(r.consumed, second.size());
  EXPECT_EQ(p.head().target, "/b");
}

TEST(MessageParser, ParsesManyPipelinedRequestsInOneBuffer) {
  MessageParser p(MessageKind::kRequest, {});
  std::string raw;
  for (int i = 0; i < 50; ++i)
    raw += cat("GET /", std::to_string(i), " HTTP/1.1\r\nHost: h\r\n\r\n");
  Outcome o = run_parser(p, raw);
  EXPECT_EQ(o.error_status, 0);
  ASSERT_EQ(o.heads.size(), 50u);
  EXPECT_EQ(o.bodies.size(), 50u);
  EXPECT_EQ(o.heads[49].substr(0, 8), "GET /49 ");
  EXPECT_EQ(o.consumed, raw.size());
}

TEST(MessageParser, DecodesChunkedBody) {
  MessageParser p(MessageKind::kRequest, {});
  std::string raw =
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n"
      "1;name=value\r\n \r\n"
      "A\r\n0123456789\r\n"
      "0\r\nX-Trailer: t\r\n\r\n";
  Outcome o = run_parser(p, raw);
  ASSERT_EQ(o.error_status, 0);
  ASSERT_EQ(o.bodies.size(), 1u);
  EXPECT_EQ(o.bodies[0], "hello 0123456789");
  EXPECT_NE(o.heads[0].find("f=2"), std::string::npos) << o.heads[0];
}

TEST(MessageParser, ChunkedTrailersDoNotChangeTheHead) {
  MessageParser p(MessageKind::kRequest, {});
  StringSink sink;
  std::string head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string body = "3\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n";
  std::string raw = head + body;
  ASSERT_EQ(p.feed(raw.data(), raw.size(), sink).status, ParseStatus::kHeadComplete);
  ASSERT_EQ(p.feed(raw.data() + head.size(), body.size(), sink).status,
            ParseStatus::kMessageComplete);
  ASSERT_EQ(p.head().headers.size(), 1u);
  EXPECT_EQ(p.head().headers[0].name, "Transfer-Encoding");
  EXPECT_EQ(p.head().headers[0].value, "chunked");
  EXPECT_EQ(p.body_bytes(), 3u);
}

TEST(MessageParser, FeedingByteByByteMatchesWholeBuffer) {
  const std::string corpus[] = {
      "GET /a?b=c HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\nGET /2 HTTP/1.1\r\n\r\n",
      "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world",
      "POST /c HTTP/1.1\r\nTransfer-Encoding: "
      "chunked\r\n\r\n4;e=1\r\nwiki\r\n5\r\npedia\r\n0\r\nT: v\r\n\r\n"
      "GET /next HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n",                               // obs-fold
      "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",  // duplicate CL
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",        // bad chunk size
      "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",                                  // bare CR
      cat("GET /", std::string(9000, 'u'), " HTTP/1.1\r\n\r\n"),            // 414
      cat("GET / HTTP/1.1\r\nBig: ", std::string(20000, 'v'), "\r\n\r\n"),  // 431
  };
  for (const std::string& raw : corpus) {
    MessageParser whole(MessageKind::kRequest, {});
    MessageParser bytewise(MessageKind::kRequest, {});
    MessageParser sevens(MessageKind::kRequest, {});
    Outcome a = run_parser(whole, raw, 0);
    Outcome b = run_parser(bytewise, raw, 1);
    Outcome c = run_parser(sevens, raw, 7);
    EXPECT_EQ(a, b) << raw.substr(0, 80);
    EXPECT_EQ(a, c) << raw.substr(0, 80);
  }
}

TEST(MessageParser, HeaderViewsSurviveArenaGrowthAcrossFeeds) {
  // Values far larger than the arena's initial capacity, fed byte by byte,
  // force the arena to reallocate mid-head; views must still be right.
  std::string a(3000, 'a');
  std::string b(5000, 'b');
  std::string raw =
      cat("GET /", std::string(2000, 'p'), " HTTP/1.1\r\nA: ", a, "\r\nB: ", b, "\r\n\r\n");
  MessageParser p(MessageKind::kRequest, {});
  StringSink sink;
  ParseResult r{ParseStatus::kNeedMore, 0};
  size_t pos = 0;
  while (pos < raw.size()) {
    r = p.feed(raw.data() + pos, 1, sink);
    pos += r.consumed;
    if (r.status != ParseStatus::kNeedMore) break;
  }
  ASSERT_EQ(r.status, ParseStatus::kHeadComplete);
  EXPECT_EQ(p.head().target.size(), 2001u);
  EXPECT_EQ(p.head().find("A")->value, a);
  EXPECT_EQ(p.head().find("B")->value, b);
}

// ---- keep-alive, Expect, upgrade ------------------------------------------

TEST(MessageParser, Http10ClosesUnlessKeepAliveRequested) {
  MessageParser p(MessageKind::kRequest, {});
  StringSink sink;
  std::string raw = "GET / HTTP/1.0\r\n\r\n";
  ASSERT_EQ(p.feed(raw.data(), raw.size(), sink).status, ParseStatus::kHeadComplete);
  EXPECT_FALSE(p.head().keep_alive);
  EXPECT_EQ(p.head().version_minor, 0);

  MessageParser q(MessageKind::kRequest, {});
  raw = "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
  ASSERT_EQ(q.feed(raw.data(), raw.size(), sink).status, ParseStatus::kHeadComplete);
  EXPECT_TRUE(q.head().keep_alive);
}

TEST(MessageParser, Http11ConnectionCloseDisablesKeepAlive) {
  MessageParser p(MessageKind::kRequest, {});
  StringSink sink;
  std::string raw = "GET / HTTP/1.1\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(p.feed(raw.data(), raw.size(), sink).status, ParseStatus::kHeadComplete);
  EXPECT_FALSE(p.head().keep_alive);
}

TEST(MessageParser, ReportsExpectContinue) {
  MessageParser p(MessageKind::kRequest, {});
  StringSink sink;
  std::string raw = "PUT / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n";
  ASSERT_EQ(p.feed(raw.data(), raw.size(), sink).status, ParseStatus::kHeadComplete);
  EXPECT_TRUE(p.head().expect_continue);

  MessageParser q(MessageKind::kRequest, {});
  raw = "PUT / HTTP/1.1\r\nContent-Length: 2\r\n\r\n";
  ASSERT_EQ(q.feed(raw.data(), raw.size(), sink).status, ParseStatus::kHeadComplete);
  EXPECT_FALSE(q.head().expect_continue);
}

TEST(MessageParser, ConnectReportsUpgradeAndStopsParsing) {
  MessageParser p(MessageKind::kRequest, {});
  StringSink sink;
  std::string raw = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01";
  ParseResult r = p.feed(raw.data(), raw.size(), sink);
  ASSERT_EQ(r.status, ParseStatus::kHeadComplete);
  EXPECT_TRUE(p.head().upgrade);
  EXPECT_FALSE(p.head().keep_alive);
  EXPECT_EQ(p.head().method, "CONNECT");
  size_t pos = r.consumed;
  r = p.feed(raw.data() + pos, raw.size() - pos, sink);
  ASSERT_EQ(r.status, ParseStatus::kMessageComplete);
  p.next_message();
  r = p.feed(raw.data() + pos, raw.size() - pos, sink);
  EXPECT_EQ(r.status, ParseStatus::kError);
  EXPECT_EQ(r.http_status, 501);
}

TEST(MessageParser, ConnectHasNoBodyWhateverItsFramingHeadersSay) {
  for (const char* framing : {"Content-Length: 2", "Transfer-Encoding: chunked"}) {
    MessageParser p(MessageKind::kRequest, {});
    StringSink sink;
    std::string raw =
        cat("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n", framing, "\r\n\r\nok");
    ParseResult r = p.feed(raw.data(), raw.size(), sink);
    ASSERT_EQ(r.status, ParseStatus::kHeadComplete) << framing;
    EXPECT_EQ(p.head().framing, BodyFraming::kNone) << framing;
    r = p.feed(raw.data() + r.consumed, raw.size() - r.consumed, sink);
    EXPECT_EQ(r.status, ParseStatus::kMessageComplete) << framing;
    EXPECT_EQ(r.consumed, 0u) << framing;
  }
}

TEST(MessageParser, WebSocketUpgradeRequestReportsUpgrade) {
  MessageParser p(MessageKind::kRequest, {});
  StringSink sink;
  std::string raw =
      "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
  ASSERT_EQ(p.feed(raw.data(), raw.size(), sink).status, ParseStatus::kHeadComplete);
  EXPECT_TRUE(p.head().upgrade);
}

// ---- rejections (DESIGN §4.2), each fed as raw bytes ----------------------

TEST(MessageParser, RejectsContentLengthWithTransferEncoding) {
  EXPECT_EQ(
      request_error(
          "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
      400);
}

TEST(MessageParser, RejectsTransferEncodingWithContentLength) {
  EXPECT_EQ(
      request_error(
          "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n"),
      400);
}

TEST(MessageParser, RejectsDifferingDuplicateContentLength) {
  EXPECT_EQ(request_error("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"),
            400);
}

TEST(MessageParser, RejectsEqualDuplicateContentLength) {
  EXPECT_EQ(request_error("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"),
            400);
}

TEST(MessageParser, RejectsContentLengthList) {
  EXPECT_EQ(request_error("POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\nabc"), 400);
}

TEST(MessageParser, RejectsNonNumericContentLength) {
  EXPECT_EQ(request_error("POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\nabc"), 400);
  EXPECT_EQ(request_error("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
            400);
}

TEST(MessageParser, RejectsTransferEncodingNotEndingInChunked) {
  EXPECT_EQ(request_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n"), 400);
  EXPECT_EQ(request_error("POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n"), 400);
  EXPECT_EQ(request_error("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"), 400);
}

TEST(MessageParser, RejectsRepeatedChunkedCoding) {
  EXPECT_EQ(
      request_error(
          "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
          "0\r\n\r\n"),
      400);
  EXPECT_EQ(
      request_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"),
      400);
}

TEST(MessageParser, RefusesCodingsBeforeChunkedAsNotImplemented) {
  EXPECT_EQ(request_error("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
            501);
}

TEST(MessageParser, AcceptsChunkedInAnyCase) {
  EXPECT_EQ(request_error("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n"), 0);
}

TEST(MessageParser, RejectsTransferEncodingOnHttp10) {
  EXPECT_EQ(request_error("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 400);
}

TEST(MessageParser, RejectsObsFold) {
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"), 400);
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n"), 400);
}

TEST(MessageParser, RejectsWhitespaceBeforeFirstHeader) {
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\n X: a\r\n\r\n"), 400);
}

TEST(MessageParser, RejectsBareCr) {
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n"), 400);
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nX: a\rY: b\r\n\r\n"), 400);
  EXPECT_EQ(request_error("GET / HTTP/1.1\rX: a\r\n\r\n"), 400);
}

TEST(MessageParser, RejectsBareLfLineEndings) {
  EXPECT_EQ(request_error("GET / HTTP/1.1\nX: a\r\n\r\n"), 400);
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nX: a\nY: b\r\n\r\n"), 400);
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nX: a\r\n\n"), 400);
}

TEST(MessageParser, RejectsWhitespaceBetweenNameAndColon) {
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nX : a\r\n\r\n"), 400);
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nX\t: a\r\n\r\n"), 400);
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nContent-Length : 0\r\n\r\n"), 400);
}

TEST(MessageParser, RejectsNulAndControlCharactersInValues) {
  using namespace std::string_view_literals;
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n"sv), 400);
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n"), 400);
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nX: a\x1fz\r\n\r\n"), 400);
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nX: a\x7fz\r\n\r\n"), 400);
}

TEST(MessageParser, AcceptsTabAndObsTextInValues) {
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nX: a\tb\r\nY: caf\xc3\xa9\r\n\r\n"), 0);
}

TEST(MessageParser, RejectsEmptyHeaderName) {
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\n: a\r\n\r\n"), 400);
}

TEST(MessageParser, RejectsInvalidChunkSize) {
  EXPECT_EQ(request_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), 400);
  EXPECT_EQ(
      request_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n"),
      400);
  EXPECT_EQ(request_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n"), 400);
  EXPECT_EQ(
      request_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n"),
      400);
}

TEST(MessageParser, RejectsChunkDataWithoutCrlf) {
  EXPECT_EQ(
      request_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n"),
      400);
}

TEST(MessageParser, RejectsDuplicateHost) {
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
}

TEST(MessageParser, RejectsUnsupportedHttpVersions) {
  EXPECT_EQ(request_error("GET / HTTP/2.0\r\n\r\n"), 505);
  EXPECT_EQ(request_error("GET / HTTP/1.2\r\n\r\n"), 400);
}

TEST(MessageParser, RejectsMalformedRequestLine) {
  EXPECT_EQ(request_error("get / HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(request_error("GET /a b HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(request_error("GET / FTP/1.1\r\n\r\n"), 400);
}

TEST(MessageParser, RejectsDataAfterConnectionClose) {
  MessageParser p(MessageKind::kRequest, {});
  Outcome o = run_parser(p, "GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(o.heads.size(), 1u);
  EXPECT_EQ(o.error_status, 400);
}

TEST(MessageParser, ErrorIsStickyUntilReset) {
  MessageParser p(MessageKind::kRequest, {});
  StringSink sink;
  std::string bad = "GET / HTTP/1.1\r\nX : a\r\n\r\n";
  ParseResult r = p.feed(bad.data(), bad.size(), sink);
  ASSERT_EQ(r.status, ParseStatus::kError);
  ASSERT_NE(r.reason, nullptr);
  std::string good = "GET / HTTP/1.1\r\n\r\n";
  r = p.feed(good.data(), good.size(), sink);
  EXPECT_EQ(r.status, ParseStatus::kError);
  EXPECT_EQ(r.http_status, 400);

  p.reset();
  r = p.feed(good.data(), good.size(), sink);
  EXPECT_EQ(r.status, ParseStatus::kHeadComplete);
  EXPECT_EQ(p.head().target, "/");
}

TEST(MessageParser, ResetMidMessageStartsFresh) {
  MessageParser p(MessageKind::kRequest, {});
  StringSink sink;
  std::string partial = "POST /a HTTP/1.1\r\nContent-Len";
  EXPECT_EQ(p.feed(partial.data(), partial.size(), sink).status, ParseStatus::kNeedMore);
  EXPECT_TRUE(p.in_message());
  p.reset();
  EXPECT_FALSE(p.in_message());
  std::string good = "GET /b HTTP/1.1\r\n\r\n";
  ASSERT_EQ(p.feed(good.data(), good.size(), sink).status, ParseStatus::kHeadComplete);
  EXPECT_EQ(p.head().target, "/b");
  EXPECT_EQ(p.head().headers.size(), 0u);
}

// ---- limits ---------------------------------------------------------------

TEST(MessageParser, UrlOverLimitIs414) {
  ParserLimits limits;
  limits.max_url_bytes = 100;
  EXPECT_EQ(request_error(cat("GET /", std::string(100, 'a'), " HTTP/1.1\r\n\r\n"), limits), 414);
  EXPECT_EQ(request_error(cat("GET /", std::string(99, 'a'), " HTTP/1.1\r\n\r\n"), limits), 0);
}

TEST(MessageParser, HeadOverLimitIs431) {
  ParserLimits limits;
  limits.max_header_bytes = 200;
  std::string head = "GET / HTTP/1.1\r\nX: ";
  std::string exact = head + std::string(200 - head.size() - 4, 'v') + "\r\n\r\n";
  ASSERT_EQ(exact.size(), 200u);
  EXPECT_EQ(request_error(exact, limits), 0);
  std::string over = head + std::string(200 - head.size() - 3, 'v') + "\r\n\r\n";
  EXPECT_EQ(request_error(over, limits), 431);
}

TEST(MessageParser, HeadLimitAppliesPerPipelinedMessage) {
  ParserLimits limits;
  limits.max_header_bytes = 64;
  std::string one = cat("GET / HTTP/1.1\r\nX: ", std::string(30, 'v'), "\r\n\r\n");
  ASSERT_LT(one.size(), 64u);
  MessageParser p(MessageKind::kRequest, limits);
  Outcome o = run_parser(p, one + one + one);
  EXPECT_EQ(o.error_status, 0);
  EXPECT_EQ(o.heads.size(), 3u);
}

TEST(MessageParser, HeaderCountOverLimitIs431) {
  ParserLimits limits;
  limits.max_header_count = 3;
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits), 0);
  EXPECT_EQ(request_error("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", limits), 431);
}

TEST(MessageParser, TenThousandHeadersAre431) {
  std::string raw = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 10000; ++i) raw += cat("H", std::to_string(i), ": v\r\n");
  raw += "\r\n";
  ParserLimits by_count;
  by_count.max_header_bytes = 1 << 30;
  EXPECT_EQ(request_error(raw, by_count), 431);
  EXPECT_EQ(request_error(raw), 431);  // default limits: bytes or count, whichever first
}

TEST(MessageParser, AnnouncedContentLengthOverLimitIs413AtHead) {
  ParserLimits limits;
  limits.max_body_bytes = 1000;
  MessageParser p(MessageKind::kRequest, limits);
  StringSink sink;
  std::string raw = "POST / HTTP/1.1\r\nContent-Length: 1001\r\n\r\n";
  ParseResult r = p.feed(raw.data(), raw.size(), sink);
  EXPECT_EQ(r.status, ParseStatus::kError);
  EXPECT_EQ(r.http_status, 413);
  EXPECT_EQ(
      request_error(cat("POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n", std::string(1000, 'x')),
                    limits),
      0);
}

TEST(MessageParser, ChunkedBodyOverLimitIs413) {
  ParserLimits limits;
  limits.max_body_bytes = 10;
  std::string head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_EQ(request_error(head + "5\r\naaaaa\r\n5\r\nbbbbb\r\n0\r\n\r\n", limits), 0);
  EXPECT_EQ(request_error(head + "5\r\naaaaa\r\n6\r\nbbbbbb\r\n0\r\n\r\n", limits), 413);
}

TEST(MessageParser, ChunkedBodyOverLimitDeliversNothingOfTheOversizedChunk) {
  ParserLimits limits;
  limits.max_body_bytes = 4;
  MessageParser p(MessageKind::kRequest, limits);
  Outcome o =
      run_parser(p, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\naaaaa\r\n0\r\n\r\n");
  EXPECT_EQ(o.error_status, 413);
  EXPECT_EQ(p.body_bytes(), 0u);
}

TEST(MessageParser, EndlessTrailersAreRejected) {
  std::string raw = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
  for (int i = 0; i < 2000; ++i) raw += cat("T", std::to_string(i), ": vvvvvvvvvvvvvvvvvvvv\r\n");
  EXPECT_EQ(request_error(raw), 431);
}

TEST(MessageParser, EndlessChunkExtensionsAreRejected) {
  std::string raw = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1";
  for (int i = 0; i < 2000; ++i) raw += cat(";name", std::to_string(i), "=valuevaluevalue");
  EXPECT_EQ(request_error(raw), 400);
}

}  // namespace
}  // namespace ringgate::http
