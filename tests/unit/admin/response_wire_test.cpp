#include "admin/response_wire.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ringgate::admin {
namespace {

AdminResponse json_answer(std::string body) {
  AdminResponse r;
  r.body = std::move(body);
  return r;
}

std::string head_of(const std::string& wire) { return wire.substr(0, wire.find("\r\n\r\n") + 4); }

TEST(ResponseWire, EveryAnswerSaysNosniffNoStoreAndClose) {
  for (int status : {200, 401, 404, 413, 503}) {
    AdminResponse r = json_answer("{}");
    r.status = status;
    const std::string head = head_of(encode_response(r, false));
    EXPECT_NE(head.find("\r\nX-Content-Type-Options: nosniff\r\n"), std::string::npos) << head;
    EXPECT_NE(head.find("\r\nCache-Control: no-store\r\n"), std::string::npos) << head;
    EXPECT_NE(head.find("\r\nConnection: close\r\n"), std::string::npos) << head;
  }
}

TEST(ResponseWire, WritesStatusTypeLengthAndBody) {
  const std::string wire = encode_response(json_answer(R"({"a":1})"), false);
  EXPECT_EQ(wire.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << wire;
  EXPECT_NE(wire.find("\r\nContent-Type: application/json\r\n"), std::string::npos);
  EXPECT_NE(wire.find("\r\nContent-Length: 7\r\n"), std::string::npos);
  EXPECT_EQ(wire.substr(wire.find("\r\n\r\n") + 4), R"({"a":1})");
}

TEST(ResponseWire, HeadKeepsTheLengthOfTheGetBodyAndSendsNoBody) {
  const std::string wire = encode_response(json_answer(R"({"status":"ok"})"), true);
  EXPECT_NE(wire.find("\r\nContent-Length: 15\r\n"), std::string::npos) << wire;
  EXPECT_EQ(wire.size(), wire.find("\r\n\r\n") + 4) << wire;
}

TEST(ResponseWire, SendsTheResponsesOwnHeaders) {
  AdminResponse r = json_answer("{}");
  r.headers = {{"ETag", "\"abc\""}, {"Location", "/apis/orders"}};
  const std::string head = head_of(encode_response(r, false));
  EXPECT_NE(head.find("\r\nETag: \"abc\"\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nLocation: /apis/orders\r\n"), std::string::npos) << head;
}

TEST(ResponseWire, DropsHeadersThatCouldSplitTheResponse) {
  AdminResponse r = json_answer("{}");
  r.headers = {{"ETag", "\"a\"\r\nSet-Cookie: x=1"},
               {"X-Bad Name", "v"},
               {"X-Nul", std::string("a\0b", 3)},
               {"", "v"}};
  const std::string head = head_of(encode_response(r, false));
  EXPECT_EQ(head.find("Set-Cookie"), std::string::npos) << head;
  EXPECT_EQ(head.find("ETag"), std::string::npos) << head;
  EXPECT_EQ(head.find("X-Bad"), std::string::npos) << head;
  EXPECT_EQ(head.find("X-Nul"), std::string::npos) << head;
}

TEST(ResponseWire, KeepsFramingAndPolicyHeadersToItself) {
  AdminResponse r = json_answer("{}");
  r.headers = {{"content-length", "999"},
               {"Transfer-Encoding", "chunked"},
               {"Connection", "keep-alive"},
               {"Cache-Control", "max-age=60"}};
  const std::string head = head_of(encode_response(r, false));
  EXPECT_EQ(head.find("999"), std::string::npos) << head;
  EXPECT_EQ(head.find("chunked"), std::string::npos) << head;
  EXPECT_EQ(head.find("keep-alive"), std::string::npos) << head;
  EXPECT_EQ(head.find("max-age"), std::string::npos) << head;
}

TEST(ResponseWire, NoContentCarriesNeitherBodyNorLength) {
  AdminResponse r = json_answer("ignored");
  r.status = 204;
  const std::string wire = encode_response(r, false);
  EXPECT_EQ(wire.find("Content-Length"), std::string::npos) << wire;
  EXPECT_EQ(wire.find("ignored"), std::string::npos) << wire;
}

}  // namespace
}  // namespace ringgate::admin
