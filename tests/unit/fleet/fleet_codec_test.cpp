// The managed state as etcd keys and plaintext values, and back
// (core/fleet_codec.hpp).
#include "core/fleet_codec.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../certs/test_material.hpp"
#include "certs/pfx.hpp"

namespace ringgate::core {
namespace {

using certs::test_support::kPassword;
using certs::test_support::material;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::shared_ptr<const certs::LoadedCertificate> load(const std::string& pfx) {
  certs::PfxResult result = certs::load_pfx(pfx, kPassword);
  if (!result.ok()) throw std::runtime_error(result.message);
  return result.certificate;
}

ManagedResources sample() {
  ManagedResources managed;
  config::Backend backend;
  backend.url = "https://127.0.0.1:9443";
  backend.tls.validate_certificate_chain = false;
  managed.backends.emplace("nginx", backend);
  config::Api orders;
  orders.path = "orders";
  orders.service_url = "https://127.0.0.1:9443/orders";
  orders.policy =
      "<policies><inbound><authentication-certificate certificate-id=\"orders\"/></inbound>"
      "</policies>";
  managed.apis.emplace("orders", orders);
  config::Api open;
  open.path = "open";
  open.service_url = "http://127.0.0.1:9000";
  managed.apis.emplace("open", open);
  return managed;
}

TEST(FleetCodec, EachResourceHasItsKeyAndTheStateComesBackWhole) {
  certs::CertificateSet uploaded;
  uploaded.insert({"orders", load(material().orders_aes_pfx), false});
  FleetEntries entries;
  std::string error;
  ASSERT_TRUE(encode_fleet_state(sample(), uploaded, entries, error)) << error;
  std::vector<std::string> keys;
  for (const auto& [key, value] : entries) keys.push_back(key);
  EXPECT_THAT(keys, ElementsAre("apis/open", "apis/orders", "apis/orders/policy", "backends/nginx",
                                "certificates/orders"));
  EXPECT_THAT(entries["certificates/orders"], HasSubstr("PRIVATE KEY"));

  ManagedResources managed;
  certs::CertificateSet certificates;
  std::vector<config::Problem> problems;
  ASSERT_TRUE(decode_fleet_state(entries, decode_certificate_pem, managed, certificates, problems));
  EXPECT_THAT(problems, IsEmpty());
  EXPECT_EQ(resources_document(managed), resources_document(sample()));
  ASSERT_TRUE(certificates.get("orders"));
  EXPECT_EQ(certificates.get("orders")->certificate->info().thumbprint,
            material().orders_thumbprint);
  wipe_entries(entries);
  EXPECT_THAT(entries, IsEmpty());
}

TEST(FleetCodec, KeysOutsideTheLayoutAreLeftAloneAndBadIdsRefused) {
  FleetKey kind{};
  std::string id;
  EXPECT_TRUE(parse_fleet_key("apis/orders/policy", kind, id));
  EXPECT_EQ(kind, FleetKey::kPolicy);
  EXPECT_EQ(id, "orders");
  EXPECT_TRUE(parse_fleet_key("certificates/a.b-c", kind, id));
  EXPECT_EQ(kind, FleetKey::kCertificate);
  EXPECT_FALSE(parse_fleet_key("serial", kind, id));
  EXPECT_FALSE(parse_fleet_key("apis/orders/other", kind, id));
  EXPECT_FALSE(parse_fleet_key("backends/has space", kind, id));
  EXPECT_FALSE(parse_fleet_key("backends/", kind, id));
}

TEST(FleetCodec, EveryBadValueIsAProblemAtItsKeyAndNothingIsDecoded) {
  FleetEntries entries = {{"apis/orders", "{\"path\": \"orders\"}"},
                          {"apis/ghost/policy", "<policies/>"},
                          {"backends/nginx", "not json"},
                          {"certificates/orders", "-----BEGIN NOTHING-----"},
                          {"future/key", "whatever a newer gateway writes"}};
  ManagedResources managed = sample();
  certs::CertificateSet certificates;
  std::vector<config::Problem> problems;
  EXPECT_FALSE(
      decode_fleet_state(entries, decode_certificate_pem, managed, certificates, problems));
  std::vector<std::string> where;
  for (const config::Problem& p : problems) where.push_back(p.path.substr(0, p.path.find(':')));
  // Entities in key order, then the policies once every API is known.
  EXPECT_THAT(where, ElementsAre("apis/orders", "backends/nginx", "certificates/orders",
                                 "apis/ghost/policy"));
  EXPECT_EQ(resources_document(managed), resources_document(sample()));  // untouched
}

}  // namespace
}  // namespace ringgate::core
