#include "fleet/etcd_json.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace ringgate::fleet {
namespace {

TEST(PrefixRangeEnd, IncrementsTheLastByteBelow0xff) {
  EXPECT_EQ(prefix_range_end("/ringgate/"), "/ringgate0");
  EXPECT_EQ(prefix_range_end("a\xff"), "b");
  EXPECT_EQ(prefix_range_end(std::string("a\xff\xff", 3)), "b");
  EXPECT_EQ(prefix_range_end(""), std::string(1, '\0'));
  EXPECT_EQ(prefix_range_end("\xff"), std::string(1, '\0'));
}

TEST(EtcdJson, TxnRequestNamesTargetsAndEncodesBytes) {
  Compare c{"k", "l", Compare::Target::kVersion, Compare::Result::kNotEqual, 7};
  auto body = nlohmann::json::parse(txn_request_json({c}, {{Operation::Kind::kPut, "k", "v"}},
                                                     {{Operation::Kind::kDelete, "k", ""}}));
  EXPECT_EQ(body["compare"][0]["target"], "VERSION");
  EXPECT_EQ(body["compare"][0]["result"], "NOT_EQUAL");
  EXPECT_EQ(body["compare"][0]["version"], "7");
  EXPECT_EQ(body["compare"][0]["key"], "aw==");
  EXPECT_EQ(body["compare"][0]["range_end"], "bA==");
  EXPECT_EQ(body["success"][0]["request_put"]["value"], "dg==");
  EXPECT_EQ(body["failure"][0]["request_delete_range"]["key"], "aw==");
}

TEST(EtcdJson, RangeAnswerWithDefaultsLeftOut) {
  RangeResult r = parse_range_response(
      R"({"header":{"revision":"9"},"kvs":[{"key":"YQ==","create_revision":"2","mod_revision":"5","version":"3"}],"count":"1"})");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.revision, 9);
  ASSERT_EQ(r.kvs.size(), 1u);
  EXPECT_EQ(r.kvs[0].key, "a");
  EXPECT_EQ(r.kvs[0].value, "");  // an empty value is left out of the answer
  EXPECT_EQ(r.kvs[0].create_revision, 2);
  EXPECT_EQ(r.kvs[0].mod_revision, 5);
  EXPECT_EQ(r.kvs[0].version, 3);
  EXPECT_TRUE(parse_range_response(R"({"header":{"revision":"1"}})").kvs.empty());
}

TEST(EtcdJson, UnreadableAnswersBecomeErrors) {
  EXPECT_FALSE(parse_range_response("not json").ok());
  EXPECT_FALSE(parse_range_response(R"({"kvs":[{"key":"*"}]})").ok());
  EXPECT_FALSE(parse_range_response(R"({"header":{"revision":"x"}})").ok());
  EXPECT_FALSE(parse_txn_response("[]").ok());
}

TEST(EtcdJson, TxnSucceededIsLeftOutWhenFalse) {
  EXPECT_FALSE(parse_txn_response(R"({"header":{"revision":"4"}})").succeeded);
  TxnResult yes = parse_txn_response(R"({"header":{"revision":"4"},"succeeded":true})");
  EXPECT_TRUE(yes.succeeded);
  EXPECT_EQ(yes.revision, 4);
}

TEST(EtcdJson, WatchMessageEventsAndCancel) {
  WatchMessage m = parse_watch_message(
      R"({"result":{"header":{"revision":"8"},"events":[{"kv":{"key":"YQ==","mod_revision":"7","value":"Yg=="}},{"type":"DELETE","kv":{"key":"YQ==","mod_revision":"8"}}]}})");
  ASSERT_TRUE(m.error.empty()) << m.error;
  EXPECT_EQ(m.revision, 8);
  ASSERT_EQ(m.events.size(), 2u);
  EXPECT_EQ(m.events[0].type, WatchEvent::Type::kPut);
  EXPECT_EQ(m.events[0].kv.value, "b");
  EXPECT_EQ(m.events[1].type, WatchEvent::Type::kDelete);

  WatchMessage c =
      parse_watch_message(R"({"result":{"header":{},"canceled":true,"compact_revision":"5"}})");
  EXPECT_TRUE(c.canceled);
  EXPECT_EQ(c.compact_revision, 5);
  EXPECT_FALSE(parse_watch_message(R"({"error":{"grpc_code":14,"message":"x"}})").error.empty());
}

TEST(EtcdJson, FramesObjectsAcrossChunks) {
  size_t skipped = 0;
  std::string stream = "\n {\"a\":\"}{\\\"\",\"b\":[{}]}\n{\"c\"";
  size_t length = json_object_length(stream, skipped);
  EXPECT_EQ(skipped, 2u);
  EXPECT_EQ(stream.substr(skipped, length), "{\"a\":\"}{\\\"\",\"b\":[{}]}");
  std::string rest = stream.substr(skipped + length);
  EXPECT_EQ(json_object_length(rest, skipped), 0u);  // not all there yet
  EXPECT_EQ(json_object_length("  ", skipped), 0u);
  EXPECT_EQ(skipped, 2u);
  EXPECT_EQ(json_object_length("x{}", skipped), std::string_view::npos);
}

TEST(EtcdJson, GatewayErrorMessageAndCode) {
  GatewayError e = parse_gateway_error(
      R"({"error":"etcdserver: no leader","message":"etcdserver: no leader","code":14})");
  EXPECT_EQ(e.message, "etcdserver: no leader");
  EXPECT_EQ(e.code, kGrpcUnavailable);
  EXPECT_EQ(parse_gateway_error("<html>bad gateway</html>").code, -1);
}

}  // namespace
}  // namespace ringgate::fleet
