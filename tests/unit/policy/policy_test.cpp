#include "policy/policy.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace ringgate::policy {

// Readable failure output for problem lists.
void PrintTo(const PolicyProblem& p, std::ostream* os) { *os << describe(p); }

namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// A problem at exactly `where` whose message contains `text`.
::testing::Matcher<const PolicyProblem&> problem(const std::string& where,
                                                 const std::string& text) {
  return AllOf(Field(&PolicyProblem::where, where),
               Field(&PolicyProblem::message, HasSubstr(text)));
}

std::string in_section(std::string_view section, std::string_view body) {
  return "<policies><" + std::string(section) + ">" + std::string(body) + "</" +
         std::string(section) + "></policies>";
}

std::string inbound(std::string_view body) { return in_section("inbound", body); }

// Parses a document that must have no problems.
Policy parse_clean(const std::string& xml) {
  PolicyResult r = parse_policy(xml);
  EXPECT_THAT(r.problems, IsEmpty()) << xml;
  return r.policy;
}

std::vector<PolicyProblem> problems_of(const std::string& xml) {
  return parse_policy(xml).problems;
}

// --- accepted documents ---

TEST(Policy, ParsesTheDesignExample) {
  Policy p = parse_clean(
      R"(<policies><inbound><authentication-certificate certificate-id="orders-client"/></inbound></policies>)");
  EXPECT_EQ(p.certificate_id, "orders-client");
  EXPECT_EQ(p.certificate_thumbprint, "");
  EXPECT_FALSE(p.basic);
  EXPECT_FALSE(p.empty());
}

TEST(Policy, ParsesAFullDocumentWithWhitespaceCommentsAndDeclaration) {
  Policy p = parse_clean(R"(<?xml version="1.0" encoding="utf-8"?>
<!-- orders API -->
<policies>
  <inbound>
    <base />
    <authentication-certificate thumbprint="0123456789abcdef0123456789ABCDEF01234567" />
    <set-backend-service backend-id="orders" />
    <set-header name="X-Api" exists-action="override">
      <value>orders</value>
    </set-header>
  </inbound>
  <backend>
    <base />
    <forward-request timeout="20" />
  </backend>
  <outbound>
    <base />
    <set-header name="X-Powered-By" exists-action="delete" />
  </outbound>
  <on-error>
    <base />
  </on-error>
</policies>
)");
  EXPECT_EQ(p.certificate_thumbprint, "0123456789ABCDEF0123456789ABCDEF01234567");
  EXPECT_EQ(p.backend_id, "orders");
  EXPECT_EQ(p.forward_timeout_seconds, 20u);
  EXPECT_THAT(p.inbound_headers,
              ElementsAre(SetHeader{"X-Api", HeaderAction::kOverride, {"orders"}}));
  EXPECT_THAT(p.outbound_headers,
              ElementsAre(SetHeader{"X-Powered-By", HeaderAction::kDelete, {}}));
}

TEST(Policy, EmptyOrWhitespaceDocumentIsAnEmptyPolicy) {
  for (std::string xml : {"", "   ", "\n\t \r\n"}) {
    PolicyResult r = parse_policy(xml);
    EXPECT_THAT(r.problems, IsEmpty());
    EXPECT_TRUE(r.policy.empty());
  }
}

TEST(Policy, BaseIsAcceptedInEverySectionAndChangesNothing) {
  Policy p = parse_clean(
      "<policies><inbound><base/></inbound><backend><base/></backend>"
      "<outbound><base/></outbound><on-error><base/></on-error></policies>");
  EXPECT_TRUE(p.empty());
}

TEST(Policy, ThumbprintFormIsUpperCased) {
  Policy p = parse_clean(inbound(
      R"(<authentication-certificate thumbprint="a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"/>)"));
  EXPECT_EQ(p.certificate_thumbprint, "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678");
  EXPECT_EQ(p.certificate_id, "");
}

TEST(Policy, ParsesBasicAuthentication) {
  Policy p =
      parse_clean(inbound(R"(<authentication-basic username="Aladdin" password="open sesame"/>)"));
  ASSERT_TRUE(p.basic);
  EXPECT_EQ(p.basic->first, "Aladdin");
  EXPECT_EQ(p.basic->second, "open sesame");
  EXPECT_EQ(basic_authorization_value(p.basic->first, p.basic->second),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
}

TEST(Policy, BasicAuthorizationValuePadsLikeRfc4648) {
  // "user:password" lengths 3k, 3k+1, 3k+2.
  EXPECT_EQ(basic_authorization_value("ab", ""), "YWI6");
  EXPECT_EQ(basic_authorization_value("a", ""), "YTo=");
  EXPECT_EQ(basic_authorization_value("", ""), "Og==");
  EXPECT_EQ(basic_authorization_value("user", "pa\xC3\xA9"), "dXNlcjpwYcOp");
}

TEST(Policy, AllowsAnEmptyBasicPassword) {
  Policy p = parse_clean(inbound(R"(<authentication-basic username="svc" password=""/>)"));
  ASSERT_TRUE(p.basic);
  EXPECT_EQ(p.basic->second, "");
}

TEST(Policy, SetBackendServiceTakesABaseUrl) {
  Policy p =
      parse_clean(inbound(R"(<set-backend-service base-url="https://be.example:9443/api"/>)"));
  EXPECT_EQ(p.backend_base_url, "https://be.example:9443/api");
  EXPECT_EQ(p.backend_id, "");
}

TEST(Policy, SetBackendServiceTakesABackendId) {
  Policy p = parse_clean(inbound(R"(<set-backend-service backend-id="orders-be"/>)"));
  EXPECT_EQ(p.backend_id, "orders-be");
  EXPECT_EQ(p.backend_base_url, "");
}

TEST(Policy, SetHeaderActionsAndValues) {
  Policy p = parse_clean(inbound(
      R"(<set-header name="X-Default"><value>a</value></set-header>)"
      R"(<set-header name="X-Override" exists-action="override"><value>b</value></set-header>)"
      R"(<set-header name="X-Skip" exists-action="skip"><value>c</value></set-header>)"
      R"(<set-header name="X-Append" exists-action="append"><value>d</value><value>e</value></set-header>)"
      R"(<set-header name="X-Delete" exists-action="delete"/>)"));
  EXPECT_THAT(p.inbound_headers,
              ElementsAre(SetHeader{"X-Default", HeaderAction::kOverride, {"a"}},
                          SetHeader{"X-Override", HeaderAction::kOverride, {"b"}},
                          SetHeader{"X-Skip", HeaderAction::kSkip, {"c"}},
                          SetHeader{"X-Append", HeaderAction::kAppend, {"d", "e"}},
                          SetHeader{"X-Delete", HeaderAction::kDelete, {}}));
  EXPECT_THAT(p.outbound_headers, IsEmpty());
}

TEST(Policy, SetHeaderInOutboundAppliesToTheResponse) {
  Policy p = parse_clean(in_section(
      "outbound", R"(<set-header name="Cache-Control"><value>no-store</value></set-header>)"));
  EXPECT_THAT(p.inbound_headers, IsEmpty());
  EXPECT_THAT(p.outbound_headers,
              ElementsAre(SetHeader{"Cache-Control", HeaderAction::kOverride, {"no-store"}}));
}

TEST(Policy, HeaderValuesAreTrimmedAndMayComeFromCdata) {
  Policy p =
      parse_clean(inbound("<set-header name=\"X-A\"><value>\n   spaced   out \t\n</value>"
                          "<value><![CDATA[<b>&amp;</b>]]></value><value></value></set-header>"));
  ASSERT_THAT(p.inbound_headers, SizeIs(1));
  EXPECT_THAT(p.inbound_headers[0].values, ElementsAre("spaced   out", "<b>&amp;</b>", ""));
}

TEST(Policy, ForwardRequestTimeout) {
  Policy p = parse_clean(in_section("backend", R"(<forward-request timeout="45"/>)"));
  EXPECT_EQ(p.forward_timeout_seconds, 45u);
  EXPECT_EQ(parse_clean(in_section("backend", "<forward-request/>")).forward_timeout_seconds, 0u);
}

TEST(Policy, EmptyIsTrueOnlyForTheDefaultPolicy) {
  EXPECT_TRUE(Policy{}.empty());
  Policy p;
  p.forward_timeout_seconds = 1;
  EXPECT_FALSE(p.empty());
  p = Policy{};
  p.outbound_headers.push_back({"X", HeaderAction::kDelete, {}});
  EXPECT_FALSE(p.empty());
}

// --- rejected documents: each problem names its node ---

TEST(Policy, RejectsPolicyExpressions) {
  EXPECT_THAT(
      problems_of(inbound(R"x(<set-backend-service base-url='@(context.Variables["u"])'/>)x")),
      ElementsAre(problem("/policies/inbound/set-backend-service[1]/@base-url",
                          "policy expressions are not supported")));
  EXPECT_THAT(problems_of(inbound(
                  R"x(<set-header name="X-Id"><value>@(context.RequestId)</value></set-header>)x")),
              ElementsAre(problem("/policies/inbound/set-header[1]/value[1]",
                                  "policy expressions are not supported")));
  EXPECT_THAT(problems_of(inbound("<set-header name=\"X-Id\"><value>a</value><value>\n  @{ return "
                                  "\"x\"; }\n</value></set-header>")),
              ElementsAre(problem("/policies/inbound/set-header[1]/value[2]",
                                  "policy expressions are not supported")));
  EXPECT_THAT(
      problems_of(inbound(R"x(<authentication-certificate certificate-id="@(&quot;a&quot;)"/>)x")),
      ElementsAre(problem("/policies/inbound/authentication-certificate[1]/@certificate-id",
                          "policy expressions are not supported")));
}

TEST(Policy, RejectsNamedValues) {
  EXPECT_THAT(
      problems_of(inbound(R"(<authentication-basic username="svc" password="{{svc-pass}}"/>)")),
      ElementsAre(problem("/policies/inbound/authentication-basic[1]/@password", "named values")));
}

TEST(Policy, RejectsUnsupportedPolicyElement) {
  EXPECT_THAT(problems_of(inbound(R"(<base/><rate-limit calls="20" renewal-period="90"/>)")),
              ElementsAre(problem("/policies/inbound/rate-limit[1]",
                                  "unsupported policy element 'rate-limit'")));
}

TEST(Policy, RejectsUnknownAttribute) {
  EXPECT_THAT(problems_of(inbound(R"(<authentication-certificate certificate-id="c" body="x"/>)")),
              ElementsAre(problem("/policies/inbound/authentication-certificate[1]/@body",
                                  "unsupported attribute 'body'")));
  EXPECT_THAT(problems_of(R"(<policies><inbound id="1"/></policies>)"),
              ElementsAre(problem("/policies/inbound/@id", "unsupported attribute 'id'")));
}

TEST(Policy, RejectsRepeatedAttribute) {
  EXPECT_THAT(problems_of(inbound(
                  R"(<authentication-certificate certificate-id="a" certificate-id="b"/>)")),
              ElementsAre(problem("/policies/inbound/authentication-certificate[1]/@certificate-id",
                                  "repeated")));
}

TEST(Policy, RejectsMalformedXmlWithOneProblem) {
  std::vector<PolicyProblem> ps = problems_of("<policies>\n  <inbound>\n</policies>");
  ASSERT_THAT(ps, SizeIs(1));
  EXPECT_EQ(ps[0].where, "/");
  // Offset 25 is the name in "</policies>", where pugixml notices the mismatch.
  EXPECT_EQ(ps[0].message,
            "malformed XML at offset 25 (line 3, column 3): Start-end tags mismatch");

  EXPECT_THAT(problems_of("<policies><inbound>"),
              ElementsAre(problem("/", "malformed XML at offset")));
}

TEST(Policy, RejectsRootOtherThanPolicies) {
  EXPECT_THAT(problems_of("<policy><inbound/></policy>"),
              ElementsAre(problem("/policy", "root element must be <policies>")));
  EXPECT_THAT(problems_of("<!-- nothing -->"), ElementsAre(problem("/", "no root element")));
}

TEST(Policy, RejectsASecondRootElementAndStrayText) {
  EXPECT_THAT(problems_of("<policies/><policies/>"),
              ElementsAre(problem("/policies", "exactly one root element")));
  EXPECT_THAT(problems_of("oops<policies/>"),
              ElementsAre(problem("/", "outside the root element")));
  EXPECT_THAT(problems_of(inbound("text")),
              ElementsAre(problem("/policies/inbound", "unexpected text 'text'")));
}

TEST(Policy, RejectsUnknownAndRepeatedSections) {
  EXPECT_THAT(problems_of("<policies><inbound/><outbound/><inbound/><finally/></policies>"),
              ElementsAre(problem("/policies/inbound[2]", "more than once"),
                          problem("/policies/finally", "unsupported element 'finally'")));
}

TEST(Policy, RejectsAuthenticationOutsideInbound) {
  EXPECT_THAT(
      problems_of(in_section("outbound", R"(<authentication-certificate certificate-id="c"/>)")),
      ElementsAre(problem("/policies/outbound/authentication-certificate[1]",
                          "only supported in <inbound>")));
  EXPECT_THAT(
      problems_of(in_section("backend", R"(<authentication-basic username="u" password="p"/>)")),
      ElementsAre(
          problem("/policies/backend/authentication-basic[1]", "only supported in <inbound>")));
  EXPECT_THAT(problems_of(in_section("on-error", R"(<set-backend-service backend-id="b"/>)")),
              ElementsAre(problem("/policies/on-error/set-backend-service[1]",
                                  "only supported in <inbound>")));
}

TEST(Policy, MisplacedElementsAreNotApplied) {
  PolicyResult r =
      parse_policy(in_section("outbound", R"(<authentication-certificate certificate-id="c"/>)"));
  EXPECT_THAT(r.problems, SizeIs(1));
  EXPECT_EQ(r.policy.certificate_id, "");
}

TEST(Policy, RejectsASecondAuthenticationElementOfTheSameKind) {
  EXPECT_THAT(problems_of(inbound(R"(<authentication-certificate certificate-id="a"/>)"
                                  R"(<authentication-basic username="u" password="p"/>)"
                                  R"(<authentication-certificate certificate-id="b"/>)")),
              ElementsAre(problem("/policies/inbound/authentication-certificate[2]",
                                  "only one <authentication-certificate>")));
}

TEST(Policy, RequiresExactlyOneOfCertificateIdAndThumbprint) {
  EXPECT_THAT(problems_of(inbound("<authentication-certificate/>")),
              ElementsAre(problem("/policies/inbound/authentication-certificate[1]",
                                  "certificate-id or thumbprint is required")));
  EXPECT_THAT(
      problems_of(inbound(
          R"(<authentication-certificate certificate-id="a" thumbprint="0123456789012345678901234567890123456789"/>)")),
      ElementsAre(problem("/policies/inbound/authentication-certificate[1]", "not both")));
  EXPECT_THAT(problems_of(inbound(R"(<authentication-certificate certificate-id=""/>)")),
              ElementsAre(problem("/policies/inbound/authentication-certificate[1]/@certificate-id",
                                  "must not be empty")));
}

TEST(Policy, RejectsThumbprintThatIsNotSha1Hex) {
  for (std::string tp : {"ABC", "0123456789012345678901234567890123456789AA",
                         "G123456789012345678901234567890123456789",
                         "01:23:45:67:89:01:23:45:67:89:01:23:45:67:89:01:23:45:67:89"}) {
    EXPECT_THAT(problems_of(inbound("<authentication-certificate thumbprint=\"" + tp + "\"/>")),
                ElementsAre(problem("/policies/inbound/authentication-certificate[1]/@thumbprint",
                                    "40 hexadecimal digits")))
        << tp;
  }
}

TEST(Policy, BasicAuthenticationNeedsUsernameAndPassword) {
  EXPECT_THAT(
      problems_of(inbound("<authentication-basic/>")),
      ElementsAre(problem("/policies/inbound/authentication-basic[1]", "'username' is required"),
                  problem("/policies/inbound/authentication-basic[1]", "'password' is required")));
  EXPECT_THAT(problems_of(inbound(R"(<authentication-basic username="a:b" password="p"/>)")),
              ElementsAre(problem("/policies/inbound/authentication-basic[1]/@username",
                                  "must not contain ':'")));
  EXPECT_THAT(problems_of(inbound(R"(<authentication-basic username="" password="p"/>)")),
              ElementsAre(problem("/policies/inbound/authentication-basic[1]/@username",
                                  "must not be empty")));
}

TEST(Policy, SetBackendServiceNeedsExactlyOneValidTarget) {
  EXPECT_THAT(problems_of(inbound("<set-backend-service/>")),
              ElementsAre(problem("/policies/inbound/set-backend-service[1]",
                                  "base-url or backend-id is required")));
  EXPECT_THAT(problems_of(inbound(R"(<set-backend-service base-url="http://a" backend-id="b"/>)")),
              ElementsAre(problem("/policies/inbound/set-backend-service[1]", "not both")));
  EXPECT_THAT(problems_of(inbound(R"(<set-backend-service base-url="ftp://files.example"/>)")),
              ElementsAre(problem("/policies/inbound/set-backend-service[1]/@base-url",
                                  "http:// or https://")));
  EXPECT_THAT(problems_of(inbound(R"(<set-backend-service base-url="https://be/x?y=1"/>)")),
              ElementsAre(problem("/policies/inbound/set-backend-service[1]/@base-url", "query")));
  EXPECT_THAT(problems_of(inbound(R"(<set-backend-service backend-id=""/>)")),
              ElementsAre(problem("/policies/inbound/set-backend-service[1]/@backend-id",
                                  "must not be empty")));
}

TEST(Policy, SetHeaderNeedsAName) {
  EXPECT_THAT(problems_of(inbound("<set-header><value>v</value></set-header>")),
              ElementsAre(problem("/policies/inbound/set-header[1]", "'name' is required")));
  EXPECT_THAT(
      problems_of(inbound(R"(<set-header name="Bad Name"><value>v</value></set-header>)")),
      ElementsAre(problem("/policies/inbound/set-header[1]/@name", "not a valid HTTP field name")));
}

TEST(Policy, RejectsUnknownExistsAction) {
  EXPECT_THAT(problems_of(inbound(
                  R"(<set-header name="X" exists-action="replace"><value>v</value></set-header>)")),
              ElementsAre(problem("/policies/inbound/set-header[1]/@exists-action",
                                  "override, skip, append or delete, not 'replace'")));
}

TEST(Policy, SetHeaderNeedsValuesExceptForDelete) {
  EXPECT_THAT(problems_of(inbound(R"(<set-header name="X" exists-action="append"/>)")),
              ElementsAre(problem("/policies/inbound/set-header[1]", "at least one <value>")));
  EXPECT_THAT(problems_of(inbound(
                  R"(<set-header name="X" exists-action="delete"><value>v</value></set-header>)")),
              ElementsAre(problem("/policies/inbound/set-header[1]", "takes no <value>")));
}

TEST(Policy, RejectsFramingAndHopByHopHeaders) {
  for (std::string name : {"Host", "Content-Length", "Transfer-Encoding", "Connection",
                           "content-length", "HOST", "Upgrade", "Keep-Alive", "TE"}) {
    for (std::string section : {"inbound", "outbound"}) {
      EXPECT_THAT(problems_of(in_section(
                      section, "<set-header name=\"" + name + "\" exists-action=\"delete\"/>")),
                  ElementsAre(problem("/policies/" + section + "/set-header[1]/@name",
                                      "header '" + name + "' cannot be set by a policy")))
          << name << " in " << section;
    }
  }
}

TEST(Policy, RejectsControlCharactersInHeaderValues) {
  EXPECT_THAT(problems_of(inbound(
                  "<set-header name=\"X\"><value>a&#13;&#10;Injected: yes</value></set-header>")),
              ElementsAre(problem("/policies/inbound/set-header[1]/value[1]",
                                  "contains a control character")));
  // A tab inside a value is allowed (RFC 9110 field-vchar / HTAB).
  EXPECT_THAT(problems_of(inbound("<set-header name=\"X\"><value>a&#9;b</value></set-header>")),
              IsEmpty());
}

TEST(Policy, RejectsUnexpectedContentInsideElements) {
  EXPECT_THAT(
      problems_of(inbound(R"(<set-header name="X"><value>v<b/></value><values/></set-header>)")),
      ElementsAre(
          problem("/policies/inbound/set-header[1]/value[1]/b[1]", "unexpected element 'b'"),
          problem("/policies/inbound/set-header[1]/values[1]", "unexpected element 'values'")));
  EXPECT_THAT(
      problems_of(inbound(
          R"(<authentication-certificate certificate-id="c">x</authentication-certificate>)")),
      ElementsAre(
          problem("/policies/inbound/authentication-certificate[1]", "unexpected text 'x'")));
  EXPECT_THAT(
      problems_of(inbound(R"(<base><base/></base>)")),
      ElementsAre(problem("/policies/inbound/base[1]/base[1]", "unexpected element 'base'")));
}

TEST(Policy, RejectsSetHeaderOutsideInboundAndOutbound) {
  EXPECT_THAT(
      problems_of(in_section("on-error", R"(<set-header name="X"><value>v</value></set-header>)")),
      ElementsAre(problem("/policies/on-error/set-header[1]",
                          "only supported in <inbound> and <outbound>")));
}

TEST(Policy, ForwardRequestOnlyInBackendWithAPositiveTimeout) {
  EXPECT_THAT(
      problems_of(inbound(R"(<forward-request timeout="10"/>)")),
      ElementsAre(problem("/policies/inbound/forward-request[1]", "only supported in <backend>")));
  for (std::string t : {"0", "-1", "", "ten", "10s", " 10", "1.5", "4294967296", "86401"}) {
    EXPECT_THAT(problems_of(in_section("backend", "<forward-request timeout=\"" + t + "\"/>")),
                ElementsAre(problem("/policies/backend/forward-request[1]/@timeout",
                                    "whole number of seconds")))
        << "timeout=\"" << t << "\"";
  }
  EXPECT_THAT(problems_of(in_section("backend", R"(<forward-request follow-redirects="true"/>)")),
              ElementsAre(problem("/policies/backend/forward-request[1]/@follow-redirects",
                                  "unsupported attribute")));
}

TEST(Policy, ReportsEveryProblemTogetherInDocumentOrder) {
  std::vector<PolicyProblem> ps = problems_of(R"x(<policies>
  <inbound>
    <authentication-certificate certificate-id="@(context.Api.Id)"/>
    <rate-limit calls="5" renewal-period="60"/>
    <set-header name="Content-Length" exists-action="sometimes"><value>1</value></set-header>
  </inbound>
  <backend><forward-request timeout="0"/></backend>
  <outbound><set-backend-service backend-id="b"/></outbound>
  <unknown/>
</policies>)x");
  EXPECT_THAT(
      ps, ElementsAre(
              problem("/policies/inbound/authentication-certificate[1]/@certificate-id",
                      "policy expressions are not supported"),
              problem("/policies/inbound/rate-limit[1]", "unsupported policy element 'rate-limit'"),
              problem("/policies/inbound/set-header[1]/@name", "cannot be set"),
              problem("/policies/inbound/set-header[1]/@exists-action", "not 'sometimes'"),
              problem("/policies/backend/forward-request[1]/@timeout", "whole number"),
              problem("/policies/outbound/set-backend-service[1]", "only supported in <inbound>"),
              problem("/policies/unknown", "unsupported element 'unknown'")));
}

TEST(Policy, DescribeJoinsWhereAndMessage) {
  EXPECT_EQ(
      describe({"/policies/inbound/rate-limit[1]", "unsupported policy element 'rate-limit'"}),
      "/policies/inbound/rate-limit[1]: unsupported policy element 'rate-limit'");
}

TEST(Policy, MessagesQuoteHostileTextSafely) {
  std::vector<PolicyProblem> ps =
      problems_of(inbound("<set-header name=\"X\" exists-action=\"a&#10;b" + std::string(100, 'z') +
                          "\"><value>v</value></set-header>"));
  ASSERT_THAT(ps, SizeIs(1));
  // A character reference is not normalised away; the message escapes it.
  EXPECT_THAT(ps[0].message, HasSubstr("'a\\x0Abzzz"));
  EXPECT_THAT(ps[0].message, HasSubstr("...'"));
  EXPECT_LT(ps[0].message.size(), 200u);
}

// --- references ---

class PolicyReferences : public ::testing::Test {
 protected:
  std::function<bool(std::string_view)> known(std::vector<std::string> names) {
    return [names = std::move(names)](std::string_view n) {
      for (const auto& k : names) {
        if (k == n) return true;
      }
      return false;
    };
  }

  std::vector<PolicyProblem> check(const std::string& xml) {
    PolicyResult r = parse_policy(xml);
    EXPECT_THAT(r.problems, IsEmpty());
    std::vector<PolicyProblem> problems;
    check_references(r.policy, known({"orders-client"}),
                     known({"0123456789ABCDEF0123456789ABCDEF01234567"}), known({"orders-be"}),
                     problems);
    return problems;
  }
};

TEST_F(PolicyReferences, AcceptsNamesThatExist) {
  EXPECT_THAT(check(inbound(R"(<authentication-certificate certificate-id="orders-client"/>)"
                            R"(<set-backend-service backend-id="orders-be"/>)")),
              IsEmpty());
  EXPECT_THAT(
      check(inbound(
          R"(<authentication-certificate thumbprint="0123456789abcdef0123456789abcdef01234567"/>)")),
      IsEmpty());
  EXPECT_THAT(check(""), IsEmpty());
}

TEST_F(PolicyReferences, ReportsAMissingCertificateId) {
  EXPECT_THAT(check(inbound(R"(<authentication-certificate certificate-id="billing-client"/>)")),
              ElementsAre(problem("/policies/inbound/authentication-certificate[1]/@certificate-id",
                                  "certificate 'billing-client' does not exist")));
}

TEST_F(PolicyReferences, ReportsAMissingThumbprint) {
  EXPECT_THAT(
      check(inbound(
          R"(<authentication-certificate thumbprint="FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"/>)")),
      ElementsAre(problem("/policies/inbound/authentication-certificate[1]/@thumbprint",
                          "'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF'")));
}

TEST_F(PolicyReferences, ReportsAMissingBackendAndKeepsEarlierProblems) {
  PolicyResult r = parse_policy(inbound(R"(<authentication-certificate certificate-id="nope"/>)"
                                        R"(<set-backend-service backend-id="gone"/>)"));
  ASSERT_THAT(r.problems, IsEmpty());
  std::vector<PolicyProblem> problems = {{"/x", "earlier"}};
  check_references(r.policy, known({}), known({}), known({}), problems);
  EXPECT_THAT(problems,
              ElementsAre(problem("/x", "earlier"),
                          problem("/policies/inbound/authentication-certificate[1]/@certificate-id",
                                  "'nope'"),
                          problem("/policies/inbound/set-backend-service[1]/@backend-id",
                                  "backend 'gone' does not exist")));
}

TEST_F(PolicyReferences, AnEmptyCheckIsSkipped) {
  PolicyResult r = parse_policy(inbound(R"(<set-backend-service backend-id="gone"/>)"));
  std::vector<PolicyProblem> problems;
  check_references(r.policy, nullptr, nullptr, nullptr, problems);
  EXPECT_THAT(problems, IsEmpty());
}

}  // namespace
}  // namespace ringgate::policy
