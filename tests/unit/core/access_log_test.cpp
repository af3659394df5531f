#include "core/access_log.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <set>
#include <string>

namespace ringgate::core {
namespace {

AccessEntry sample_entry() {
  AccessEntry e;
  e.time_unix_ms = 1795980521007;
  e.request_id = "abc-123";
  e.client_ip = "127.0.0.1";
  e.method = "GET";
  e.url = "/orders/1?x=2";
  e.api_id = "orders";
  e.backend_url = "https://127.0.0.1:9443/api/1?x=2";
  e.response_code = 200;
  e.backend_response_code = 200;
  e.request_size = 78;
  e.response_size = 310;
  e.total_time_us = 1234;
  e.backend_time_us = 1000;
  e.client_certificate_thumbprint = "0123456789ABCDEF0123456789ABCDEF01234567";
  e.pool_reused = true;
  e.transport = "plain";
  return e;
}

TEST(AccessLine, HasEveryFieldInOrderOnOneLine) {
  std::string out;
  append_access_line(out, sample_entry());
  EXPECT_EQ(out,
            R"({"time":"2026-11-29T19:28:41.007Z","requestId":"abc-123","clientIp":"127.0.0.1",)"
            R"("method":"GET","url":"/orders/1?x=2","apiId":"orders",)"
            R"("backendUrl":"https://127.0.0.1:9443/api/1?x=2","responseCode":200,)"
            R"("backendResponseCode":200,"requestSize":78,"responseSize":310,)"
            R"("totalTimeUs":1234,"backendTimeUs":1000,)"
            R"("clientCertificateThumbprint":"0123456789ABCDEF0123456789ABCDEF01234567",)"
            R"("poolReused":true,"transport":"plain","lastError":""})"
            "\n");
}

TEST(AccessLine, LocalErrorWithoutBackendHasZeroBackendCodeAndItsReason) {
  AccessEntry e = sample_entry();
  e.response_code = 502;
  e.backend_response_code = 0;
  e.pool_reused = false;
  e.last_error = "connect to http://127.0.0.1:1 failed: Connection refused";
  std::string out;
  append_access_line(out, e);
  EXPECT_NE(out.find(R"("responseCode":502,"backendResponseCode":0,)"), std::string::npos);
  EXPECT_NE(out.find(R"("poolReused":false,)"), std::string::npos);
  EXPECT_NE(out.find(R"("lastError":"connect to http://127.0.0.1:1 failed: Connection refused"})"),
            std::string::npos);
}

TEST(AccessLine, IsValidJsonWhateverBytesTheClientSent) {
  AccessEntry e = sample_entry();
  const std::string hostile_id("\"}\n{\"x\\\x01\xff", 9);
  e.request_id = hostile_id;
  e.url = "/a\"b";
  std::string out;
  append_access_line(out, e);
  ASSERT_EQ(out.find('\n'), out.size() - 1) << "one line";

  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(out).get(doc), simdjson::SUCCESS) << out;
  std::string_view id;
  ASSERT_EQ(doc["requestId"].get(id), simdjson::SUCCESS);
  EXPECT_EQ(id, "\"}\n{\"x\\\x01\xc3\xbf");  // 0xFF read as Latin-1 ÿ
  std::string_view url;
  ASSERT_EQ(doc["url"].get(url), simdjson::SUCCESS);
  EXPECT_EQ(url, "/a\"b");
}

TEST(RequestIdGenerator, MakesSixteenLowerCaseHexDigits) {
  RequestIdGenerator ids;
  std::string id;
  ids.next(id);
  ASSERT_EQ(id.size(), RequestIdGenerator::kLength);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
}

TEST(RequestIdGenerator, DoesNotRepeatItself) {
  RequestIdGenerator ids(42);
  std::set<std::string> seen;
  std::string id;
  for (int i = 0; i < 10000; ++i) {
    ids.next(id);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 10000u);
}

TEST(RequestIdGenerator, SeedsFromTheKernelSoGeneratorsDiffer) {
  RequestIdGenerator a;
  RequestIdGenerator b;
  std::string id_a;
  std::string id_b;
  a.next(id_a);
  b.next(id_b);
  EXPECT_NE(id_a, id_b);
}

}  // namespace
}  // namespace ringgate::core
