#include "tls/context.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <cstdio>

#include "tls_test_support.hpp"

namespace ringgate::tls {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::pki;
using testing::server_context;

SSL_SESSION* synthetic_session(int version, unsigned char id) {
  SSL_SESSION* session = SSL_SESSION_new();
  SSL_SESSION_set_protocol_version(session, version);
  const unsigned char session_id[] = {id, 1, 2, 3};
  SSL_SESSION_set1_id(session, session_id, sizeof session_id);
  return session;
}

unsigned char id_of(const SSL_SESSION* session) {
  unsigned int len = 0;
  return SSL_SESSION_get_id(session, &len)[0];
}

TEST(CaBundle, HoldsEveryCertificateOfThePem) {
  const std::string pem = testing::to_pem(pki().root.certificate.get()) +
                          testing::to_pem(pki().intermediate.certificate.get());
  std::string error;
  auto bundle = CaBundle::parse(pem, error);
  ASSERT_NE(bundle, nullptr) << error;
  ASSERT_EQ(bundle->size(), 2u);
  EXPECT_EQ(X509_cmp(bundle->certificate(0), pki().root.certificate.get()), 0);
  EXPECT_EQ(X509_cmp(bundle->certificate(1), pki().intermediate.certificate.get()), 0);
}

TEST(CaBundle, TextWithoutCertificateIsRefused) {
  std::string error;
  EXPECT_EQ(CaBundle::parse("# fill in the CA certificates here\n", error), nullptr);
  EXPECT_THAT(error, HasSubstr("holds no certificate"));
}

TEST(CaBundle, EmptyTextIsRefused) {
  std::string error;
  EXPECT_EQ(CaBundle::parse("", error), nullptr);
  EXPECT_THAT(error, HasSubstr("holds no certificate"));
}

TEST(CaBundle, BrokenPemBlockIsRefused) {
  std::string error;
  EXPECT_EQ(
      CaBundle::parse("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", error),
      nullptr);
  EXPECT_THAT(error, HasSubstr("broken PEM block"));
}

TEST(CaBundle, IdentityIsTheSha256OfTheText) {
  std::string error;
  // SHA-256 of the bytes, as `sha256sum` prints it.
  auto bundle = CaBundle::parse(testing::to_pem(pki().root.certificate.get()), error);
  ASSERT_NE(bundle, nullptr) << error;
  unsigned char digest[32];
  const std::string pem = testing::to_pem(pki().root.certificate.get());
  SHA256(reinterpret_cast<const unsigned char*>(pem.data()), pem.size(), digest);
  char expected[65];
  for (int i = 0; i < 32; ++i) std::snprintf(expected + 2 * i, 3, "%02x", digest[i]);
  EXPECT_EQ(bundle->sha256(), expected);
}

TEST(CaBundle, OtherContentHasAnotherIdentity) {
  std::string error;
  auto root = CaBundle::parse(testing::to_pem(pki().root.certificate.get()), error);
  auto rogue = CaBundle::parse(testing::to_pem(pki().rogue_root.certificate.get()), error);
  ASSERT_NE(root, nullptr);
  ASSERT_NE(rogue, nullptr);
  EXPECT_NE(root->sha256(), rogue->sha256());
}

TEST(ClientContext, ClientKeyTooWeakForTheSecurityLevelIsRefusedSayingByHowMuch) {
  auto weak = testing::issue({.common_name = "weak-client", .key_type = testing::KeyType::kRsa512},
                             &pki().root);
  ClientProfile profile;
  profile.key = weak.key.get();
  profile.certificate = weak.certificate.get();
  std::string error;
  EXPECT_EQ(make_client_context(profile, error), nullptr);
  EXPECT_THAT(error, HasSubstr("key too weak: a 512-bit RSA key gives"));
  EXPECT_THAT(error, HasSubstr("OpenSSL's security level"));
}

TEST(ClientContext, ChainCertificateWithTooWeakAKeyIsNamed) {
  auto weak_ca = testing::issue(
      {.common_name = "Weak CA", .ca = true, .key_type = testing::KeyType::kRsa512}, nullptr);
  auto client = testing::issue({.common_name = "client"}, &weak_ca);
  testing::ChainPtr chain(sk_X509_new_null());
  X509_up_ref(weak_ca.certificate.get());
  sk_X509_push(chain.get(), weak_ca.certificate.get());
  ClientProfile profile;
  profile.key = client.key.get();
  profile.certificate = client.certificate.get();
  profile.chain = chain.get();
  std::string error;
  EXPECT_EQ(make_client_context(profile, error), nullptr);
  EXPECT_THAT(error, HasSubstr("chain certificate /CN=Weak CA: key too weak"));
}

TEST(ServerContext, KeyTooWeakForTheSecurityLevelIsRefused) {
  auto weak = testing::issue({.common_name = "weak.test", .key_type = testing::KeyType::kRsa512},
                             &pki().root);
  std::string error;
  EXPECT_EQ(make_server_context(weak.key.get(), weak.certificate.get(), nullptr, error), nullptr);
  EXPECT_THAT(error, HasSubstr("key too weak"));
}

TEST(ClientContext, TrustsTheBundleItWasGiven) {
  ClientProfile profile;
  profile.ca = pki().root_bundle;
  std::string error;
  auto ctx = make_client_context(profile, error);
  ASSERT_NE(ctx, nullptr) << error;
  STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx.get()));
  ASSERT_EQ(sk_X509_OBJECT_num(objects), 1);
  EXPECT_EQ(X509_cmp(X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, 0)),
                     pki().root.certificate.get()),
            0);
}

TEST(ClientContext, CertificateWithTheWrongKeyIsRefused) {
  ClientProfile profile;
  profile.ca = pki().root_bundle;
  profile.certificate = pki().client.certificate.get();
  profile.key = pki().other.key.get();
  std::string error;
  EXPECT_EQ(make_client_context(profile, error), nullptr);
  EXPECT_THAT(error, HasSubstr("private key does not match its certificate"));
}

TEST(ClientContext, CertificateWithoutKeyIsRefused) {
  ClientProfile profile;
  profile.certificate = pki().client.certificate.get();
  std::string error;
  EXPECT_EQ(make_client_context(profile, error), nullptr);
  EXPECT_THAT(error, HasSubstr("must be given together"));
}

TEST(ClientContext, OffersTls12AndTls13Only) {
  std::string error;
  auto ctx = make_client_context({}, error);
  ASSERT_NE(ctx, nullptr) << error;
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx.get()), TLS1_2_VERSION);
  EXPECT_TRUE(context_verifies_name(ctx.get()));
  ClientProfile no_names;
  no_names.verify_name = false;
  EXPECT_FALSE(context_verifies_name(make_client_context(no_names, error).get()));
}

TEST(ClientContext, ContextKeepsItsOwnReferencesToTheIdentity) {
  auto client = testing::issue({.common_name = "short-lived"}, &pki().root);
  ClientProfile profile;
  profile.ca = pki().root_bundle;
  profile.key = client.key.get();
  profile.certificate = client.certificate.get();
  std::string error;
  auto ctx = make_client_context(profile, error);
  ASSERT_NE(ctx, nullptr) << error;
  client.key.reset();
  client.certificate.reset();
  EXPECT_NE(SSL_CTX_get0_certificate(ctx.get()), nullptr);  // ASan would flag a dangling one
  EXPECT_EQ(SSL_CTX_check_private_key(ctx.get()), 1);
}

TEST(ServerContext, NeedsACertificateAndKey) {
  std::string error;
  EXPECT_EQ(make_server_context(nullptr, pki().backend.certificate.get(), nullptr, error), nullptr);
  EXPECT_THAT(error, HasSubstr("certificate and its private key"));
}

TEST(CertificateHostNames, AreTheSanDnsNamesAndTheCommonName) {
  auto cert = testing::issue(
      {.common_name = "Main.Example", .dns_names = {"API.example.com", "*.example.com"}},
      &pki().root);
  EXPECT_THAT(certificate_host_names(cert.certificate.get()),
              ElementsAre("api.example.com", "*.example.com", "main.example"));
}

TEST(CertificateHostNames, SkipACommonNameThatIsNoHostName) {
  auto cert = testing::issue({.common_name = "Gateway Client Cert"}, &pki().root);
  EXPECT_TRUE(certificate_host_names(cert.certificate.get()).empty());
}

TEST(ServerContexts, ExactNameWinsOverWildcard) {
  auto a = server_context(pki().backend);
  auto b = server_context(pki().other);
  ServerContexts contexts;
  contexts.add({"*.example.com"}, a);
  contexts.add({"api.example.com"}, b);
  EXPECT_EQ(contexts.select("api.example.com"), b.get());
  EXPECT_EQ(contexts.select("www.example.com"), a.get());
}

TEST(ServerContexts, WildcardCoversExactlyOneLabel) {
  auto a = server_context(pki().backend);
  ServerContexts contexts;
  contexts.add({"*.example.com"}, a);
  EXPECT_EQ(contexts.select("example.com"), nullptr);
  EXPECT_EQ(contexts.select("a.b.example.com"), nullptr);
  EXPECT_EQ(contexts.select("x.example.com"), a.get());
}

TEST(ServerContexts, IgnoreCaseAndTrailingDot) {
  auto a = server_context(pki().backend);
  ServerContexts contexts;
  contexts.add({"Api.Example.com"}, a);
  EXPECT_EQ(contexts.select("API.EXAMPLE.COM."), a.get());
}

TEST(ServerContexts, FirstAddedIsDefaultAndFirstNameOwnerWins) {
  auto a = server_context(pki().backend);
  auto b = server_context(pki().backend);
  ServerContexts contexts;
  EXPECT_THAT(contexts.add(a), ElementsAre("backend.test", "*.wild.test"));
  contexts.add(b);
  EXPECT_EQ(contexts.default_context(), a.get());
  EXPECT_EQ(contexts.select("backend.test"), a.get());
  contexts.set_default(b);
  EXPECT_EQ(contexts.default_context(), b.get());
}

TEST(SessionCache, Tls13SessionsAreTakenOnce) {
  SessionCache cache;
  SSL_SESSION* session = synthetic_session(TLS1_3_VERSION, 7);
  cache.store("k", session);
  SSL_SESSION_free(session);  // the cache holds its own reference
  SSL_SESSION* taken = cache.take("k");
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(id_of(taken), 7);
  EXPECT_EQ(cache.take("k"), nullptr);
  SSL_SESSION_free(taken);
}

TEST(SessionCache, Tls12SessionsStayForReuse) {
  SessionCache cache;
  SSL_SESSION* session = synthetic_session(TLS1_2_VERSION, 9);
  cache.store("k", session);
  SSL_SESSION_free(session);
  for (int i = 0; i < 3; ++i) {
    SSL_SESSION* taken = cache.take("k");
    ASSERT_NE(taken, nullptr);
    SSL_SESSION_free(taken);
  }
  EXPECT_EQ(cache.size(), 1u);
}

TEST(SessionCache, NewerSessionReplacesOlderAndKeysAreSeparate) {
  SessionCache cache;
  SSL_SESSION* old_session = synthetic_session(TLS1_3_VERSION, 1);
  SSL_SESSION* new_session = synthetic_session(TLS1_3_VERSION, 2);
  SSL_SESSION* other = synthetic_session(TLS1_3_VERSION, 3);
  cache.store("a", old_session);
  cache.store("a", new_session);
  cache.store("b", other);
  SSL_SESSION_free(old_session);
  SSL_SESSION_free(new_session);
  SSL_SESSION_free(other);
  SSL_SESSION* taken = cache.take("a");
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(id_of(taken), 2);
  SSL_SESSION_free(taken);
  EXPECT_EQ(cache.size(), 1u);
  cache.erase("b");
  EXPECT_EQ(cache.size(), 0u);
}

TEST(SessionCache, IgnoresSessionsThatCannotBeResumed) {
  SessionCache cache;
  SSL_SESSION* session = SSL_SESSION_new();  // no id, no ticket
  cache.store("k", session);
  SSL_SESSION_free(session);
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace ringgate::tls
