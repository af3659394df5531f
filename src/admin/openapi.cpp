#include "admin/openapi.hpp"

#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>
#include <vector>

namespace ringgate::admin {
namespace {

using nlohmann::json;

// One kind of managed entity: its names in the document and in URLs.
struct EntityKind {
  std::string_view collection;  // "certificates"
  std::string_view schema;      // "Certificate"
  std::string_view tag;         // "Certificates"
};

constexpr EntityKind kCertificates{"certificates", "Certificate", "Certificates"};
constexpr EntityKind kBackends{"backends", "Backend", "Backends"};
constexpr EntityKind kApis{"apis", "Api", "APIs"};

json ref(std::string_view section, std::string_view name) {
  return {{"$ref", "#/components/" + std::string(section) + "/" + std::string(name)}};
}

json schema_ref(std::string_view name) { return ref("schemas", name); }

json json_content(const json& schema) { return {{"application/json", {{"schema", schema}}}}; }

json object_schema(json properties, const std::vector<std::string>& required) {
  json s = {{"type", "object"}, {"properties", std::move(properties)}};
  if (!required.empty()) s["required"] = required;
  return s;
}

// {id, name, properties}, every entity's shape.
json entity_schema(std::string_view id_example, std::string_view name_example,
                   std::string_view properties_schema) {
  return object_schema({{"id", {{"type", "string"}, {"example", id_example}}},
                        {"name", {{"type", "string"}, {"example", name_example}}},
                        {"properties", schema_ref(properties_schema)}},
                       {"id", "name", "properties"});
}

json list_schema(std::string_view item_schema) {
  return object_schema({{"value", {{"type", "array"}, {"items", schema_ref(item_schema)}}},
                        {"count", {{"type", "integer"}, {"minimum", 0}}}},
                       {"value", "count"});
}

// The body of a PUT: {"properties": {...}}; unknown keys are refused.
json upsert_schema(json properties) {
  properties["additionalProperties"] = false;
  json s = object_schema({{"properties", std::move(properties)}}, {"properties"});
  s["additionalProperties"] = false;
  return s;
}

json error_schema() {
  const json detail = object_schema(
      {{"target", {{"type", "string"}, {"description", "a JSON path, an XPath or an id"}}},
       {"message", {{"type", "string"}}}},
      {"target", "message"});
  const json error = object_schema({{"code", {{"type", "string"}, {"example", "ValidationError"}}},
                                    {"message", {{"type", "string"}}},
                                    {"details", {{"type", "array"}, {"items", detail}}}},
                                   {"code", "message", "details"});
  return object_schema({{"error", error}}, {"error"});
}

void certificate_schemas(json& schemas) {
  schemas["CertificateProperties"] = object_schema(
      {{"subject", {{"type", "string"}, {"example", "CN=orders-client"}}},
       {"thumbprint",
        {{"type", "string"},
         {"pattern", "^[0-9A-F]{40}$"},
         {"description", "upper-case hex SHA-1 of the certificate's DER"}}},
       {"expirationDate",
        {{"type", "string"}, {"format", "date-time"}, {"example", "2027-01-01T00:00:00Z"}}}},
      {"subject", "thumbprint", "expirationDate"});
  schemas["Certificate"] =
      entity_schema("/certificates/orders-client", "orders-client", "CertificateProperties");
  schemas["CertificateUpload"] = upsert_schema(object_schema(
      {{"data",
        {{"type", "string"},
         {"format", "byte"},
         {"description", "the PFX (PKCS#12) file, base64; never returned"}}},
       {"password",
        {{"type", "string"},
         {"format", "password"},
         {"description", "the PFX password (empty when it has none); never returned"}}}},
      {"data"}));
  schemas["CertificateList"] = list_schema("Certificate");
}

void backend_schemas(json& schemas) {
  const json tls =
      object_schema({{"validateCertificateChain", {{"type", "boolean"}, {"default", true}}},
                     {"validateCertificateName", {{"type", "boolean"}, {"default", true}}}},
                    {});
  schemas["BackendProperties"] = object_schema(
      {{"url",
        {{"type", "string"},
         {"format", "uri"},
         {"example", "https://orders.internal:9443"},
         {"description",
          "applies to every request whose backend URL starts with it (the longest wins) and "
          "to <set-backend-service backend-id=\"…\"/>"}}},
       {"tls", tls},
       {"caCertificate",
        {{"type", "string"}, {"description", "PEM certificates trusted for this backend"}}}},
      {"url"});
  schemas["Backend"] = entity_schema("/backends/orders", "orders", "BackendProperties");
  schemas["BackendUpsert"] = upsert_schema(schema_ref("BackendProperties"));
  schemas["BackendList"] = list_schema("Backend");
}

void api_schemas(json& schemas) {
  schemas["ApiProperties"] = object_schema(
      {{"path",
        {{"type", "string"},
         {"example", "orders"},
         {"description", "matched on whole path segments; the longest match wins"}}},
       {"serviceUrl",
        {{"type", "string"}, {"format", "uri"}, {"example", "https://orders.internal:9443/api"}}}},
      {"path", "serviceUrl"});
  schemas["Api"] = entity_schema("/apis/orders", "orders", "ApiProperties");
  schemas["ApiUpsert"] = upsert_schema(schema_ref("ApiProperties"));
  schemas["ApiList"] = list_schema("Api");
  schemas["PolicyProperties"] = object_schema(
      {{"format", {{"type", "string"}, {"enum", json::array({"xml"})}}},
       {"value",
        {{"type", "string"},
         {"example",
          "<policies><inbound><authentication-certificate certificate-id=\"orders-client\"/>"
          "</inbound></policies>"}}}},
      {"format", "value"});
  schemas["Policy"] = entity_schema("/apis/orders/policies/policy", "policy", "PolicyProperties");
  schemas["PolicyUpsert"] = upsert_schema(schema_ref("PolicyProperties"));
}

json schemas() {
  json s = json::object();
  s["Error"] = error_schema();
  certificate_schemas(s);
  backend_schemas(s);
  api_schemas(s);
  s["Health"] = object_schema(
      {{"status", {{"type", "string"}, {"enum", json::array({"ok", "degraded"})}}},
       {"reason",
        {{"type", "string"},
         {"description",
          "degraded only: why (etcd unreachable, a revision that cannot be applied); the data "
          "plane keeps serving its last state"}}}},
      {"status"});
  return s;
}

// An error response; `codes` are the envelope's possible `code` values with
// an example message each.
json error_response_spec(std::string_view description,
                         const std::vector<std::pair<std::string, std::string>>& codes) {
  json examples = json::object();
  for (const auto& [code, message] : codes) {
    const json envelope = {
        {"error", {{"code", code}, {"message", message}, {"details", json::array()}}}};
    examples[code] = {{"summary", code}, {"value", envelope}};
  }
  json content = json_content(schema_ref("Error"));
  content["application/json"]["examples"] = std::move(examples);
  return {{"description", description}, {"content", std::move(content)}};
}

json responses() {
  json r = json::object();
  r["Unauthorized"] = error_response_spec(
      "The bearer token is missing or wrong; answered before any body byte is read.",
      {{"Unauthorized", "send Authorization: Bearer <token>"}});
  r["Unauthorized"]["headers"] = {
      {"WWW-Authenticate", {{"schema", {{"type", "string"}, {"example", "Bearer"}}}}}};
  r["NotFound"] =
      error_response_spec("No such entity or route.", {{"NotFound", "no such admin resource"}});
  r["ValidationError"] = error_response_spec(
      "The body is not valid, or the configuration the change makes is refused (as a config "
      "file with it would be): every problem is listed in details, with its JSON path in the "
      "body ($.properties.serviceUrl) or in the effective configuration ($.apis.orders.policy).",
      {{"ValidationError", "One or more fields contain incorrect values"}});
  r["CertificateRejected"] = error_response_spec(
      "The upload is not a PFX with a private key, or its password is wrong.",
      {{"ValidationError", "properties.data: not a PKCS#12 file with a private key"},
       {"InvalidPassword", "the password does not open this PFX"}});
  r["ManagedByConfigFile"] = error_response_spec(
      "The entity is declared in the config file and read-only here.",
      {{"ManagedByConfigFile", "declared in the config file; change it there"}});
  r["CertificateConflict"] = error_response_spec(
      "The certificate is used by API policies (named in details), or declared in the config "
      "file.",
      {{"CertificateInUse", "used by the policies of: orders"},
       {"ManagedByConfigFile", "declared in the config file; change it there"}});
  r["PreconditionFailed"] =
      error_response_spec("If-Match does not match the entity's current ETag.",
                          {{"PreconditionFailed", "If-Match does not match the current ETag"}});
  r["NotStored"] = error_response_spec(
      "The change could not be written under gateway.stateDir; nothing changed.",
      {{"InternalError", "the change could not be stored under gateway.stateDir"}});
  r["StoreUnavailable"] = error_response_spec(
      "gateway.configSource is etcd and it cannot be reached (or kept changing under the "
      "request: 409 Conflict); nothing changed. Retry-After: 1.",
      {{"StoreUnavailable", "the shared configuration store cannot take the change"}});
  r["PayloadTooLarge"] = error_response_spec(
      "The body is over 1 MiB (from Content-Length before it is read, or as a chunked body "
      "passes the limit).",
      {{"PayloadTooLarge", "admin request bodies are limited to 1048576 bytes (1 MiB)"}});
  return r;
}

json components() {
  return {
      {"securitySchemes",
       {{"bearer",
         {{"type", "http"},
          {"scheme", "bearer"},
          {"description", "the content of gateway.admin.tokenFile"}}}}},
      {"parameters",
       {{"EntityId",
         {{"name", "id"},
          {"in", "path"},
          {"required", true},
          {"schema", {{"type", "string"}, {"pattern", "^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$"}}}}},
        {"IfMatch",
         {{"name", "If-Match"},
          {"in", "header"},
          {"required", false},
          {"description", "the ETag the change is based on; a mismatch answers 412"},
          {"schema", {{"type", "string"}}}}}}},
      {"headers",
       {{"ETag",
         {{"description", "the entity's version, for If-Match"},
          {"schema", {{"type", "string"}}}}}}},
      {"schemas", schemas()},
      {"responses", responses()},
  };
}

json entity_answer(std::string_view description, std::string_view schema) {
  return {{"description", description},
          {"headers", {{"ETag", ref("headers", "ETag")}}},
          {"content", json_content(schema_ref(schema))}};
}

json operation(const EntityKind& kind, std::string_view id, std::string_view summary,
               json responses) {
  responses["401"] = ref("responses", "Unauthorized");
  return {{"tags", json::array({kind.tag})},
          {"operationId", std::string(kind.schema) + "_" + std::string(id)},
          {"summary", summary},
          {"responses", std::move(responses)}};
}

json list_path(const EntityKind& kind) {
  const std::string list = std::string(kind.schema) + "List";
  return {{"get", operation(kind, "List", "List every " + std::string(kind.schema),
                            {{"200",
                              {{"description", "{value, count}"},
                               {"content", json_content(schema_ref(list))}}}})}};
}

constexpr std::string_view kChangeDescription =
    "The change is checked with the config file's entities as a config file would be, stored "
    "under gateway.stateDir, then published to every worker; the answer comes once every worker "
    "serves it and holds a pooled connection for each backend key it adds (at most "
    "gateway.timeouts.backendConnectMs later), so the next request is served by it.";

// GET, PUT (create or replace) and DELETE of one entity. `missing_parent`:
// a PUT may answer 404 (the entity hangs under one that does not exist).
json entity_path(const EntityKind& kind, std::string_view upsert, std::string_view rejected,
                 std::string_view delete_conflict, bool missing_parent = false) {
  const std::string name(kind.schema);
  json get = operation(
      kind, "Get", "Get one " + name,
      {{"200", entity_answer("The entity", kind.schema)}, {"404", ref("responses", "NotFound")}});
  json put = operation(kind, "CreateOrUpdate", "Create or replace one " + name,
                       {{"200", entity_answer("Replaced", kind.schema)},
                        {"201", entity_answer("Created", kind.schema)},
                        {"400", ref("responses", rejected)},
                        {"409", ref("responses", "ManagedByConfigFile")},
                        {"412", ref("responses", "PreconditionFailed")},
                        {"413", ref("responses", "PayloadTooLarge")},
                        {"500", ref("responses", "NotStored")},
                        {"503", ref("responses", "StoreUnavailable")}});
  if (missing_parent) put["responses"]["404"] = ref("responses", "NotFound");
  put["description"] = kChangeDescription;
  put["parameters"] = json::array({ref("parameters", "IfMatch")});
  put["requestBody"] = {{"required", true}, {"content", json_content(schema_ref(upsert))}};
  json del = operation(kind, "Delete", "Delete one " + name,
                       {{"200", {{"description", "Deleted"}}},
                        {"400", ref("responses", "ValidationError")},
                        {"404", ref("responses", "NotFound")},
                        {"409", ref("responses", delete_conflict)},
                        {"412", ref("responses", "PreconditionFailed")},
                        {"500", ref("responses", "NotStored")},
                        {"503", ref("responses", "StoreUnavailable")}});
  del["description"] = kChangeDescription;
  del["parameters"] = json::array({ref("parameters", "IfMatch")});
  return {{"parameters", json::array({ref("parameters", "EntityId")})},
          {"get", std::move(get)},
          {"put", std::move(put)},
          {"delete", std::move(del)}};
}

json policy_path() {
  constexpr EntityKind kPolicy{"policies", "Policy", "APIs"};
  json path = entity_path(kPolicy, "PolicyUpsert", "ValidationError", "ManagedByConfigFile",
                          /*missing_parent=*/true);
  path["put"]["description"] =
      "The APIM policy subset of DESIGN §5; an unknown element, a policy expression or a "
      "certificate that is not in the store is refused with 400 naming it. " +
      std::string(kChangeDescription);
  path["get"]["description"] = "The stored policy XML.";
  path["delete"]["description"] =
      "Removes the policy: the API then presents no client certificate. " +
      std::string(kChangeDescription);
  return path;
}

// A route of the listener itself; `token_optional`: open to anyone with
// gateway.admin.publicHealthAndMetrics.
json own_path(std::string_view id, std::string_view summary, std::string_view media_type,
              json schema, bool token_optional) {
  json get = {{"tags", json::array({"Gateway"})},
              {"operationId", "Gateway_" + std::string(id)},
              {"summary", summary},
              {"responses",
               {{"200", {{"description", "OK"}, {"content", {{media_type, {{"schema", schema}}}}}}},
                {"401", ref("responses", "Unauthorized")}}}};
  // An empty requirement makes the token optional (OpenAPI 3.0 §4.7.30).
  if (token_optional) {
    get["security"] = json::array({json::object(), json::object({{"bearer", json::array()}})});
  }
  return {{"get", std::move(get)}};
}

json paths() {
  json p = json::object();
  p["/certificates"] = list_path(kCertificates);
  p["/certificates/{id}"] =
      entity_path(kCertificates, "CertificateUpload", "CertificateRejected", "CertificateConflict");
  p["/backends"] = list_path(kBackends);
  p["/backends/{id}"] =
      entity_path(kBackends, "BackendUpsert", "ValidationError", "ManagedByConfigFile");
  p["/apis"] = list_path(kApis);
  p["/apis/{id}"] = entity_path(kApis, "ApiUpsert", "ValidationError", "ManagedByConfigFile");
  p["/apis/{id}/policies/policy"] = policy_path();
  p["/healthz"] = own_path("Health", "Liveness", "application/json", schema_ref("Health"), true);
  p["/metrics"] = own_path("Metrics", "Prometheus text format", "text/plain; version=0.0.4",
                           {{"type", "string"}}, true);
  p["/openapi.json"] =
      own_path("OpenApi", "This document", "application/json", {{"type", "object"}}, false);
  return p;
}

json document() {
  return {
      {"openapi", "3.0.3"},
      {"info",
       {{"title", "ringgate admin API"},
        {"version", RINGGATE_VERSION},
        {"description",
         "Management of certificates, backends, APIs and their policies, shaped like Azure "
         "API Management's. Every request needs the bearer token (GET /healthz and /metrics "
         "too unless gateway.admin.publicHealthAndMetrics). Bodies are at most 1 MiB; HEAD is "
         "answered like GET without a body."}}},
      {"security", json::array({json::object({{"bearer", json::array()}})})},
      {"tags",
       json::array({json::object({{"name", "Certificates"}}), json::object({{"name", "Backends"}}),
                    json::object({{"name", "APIs"}}), json::object({{"name", "Gateway"}})})},
      {"paths", paths()},
      {"components", components()},
  };
}

}  // namespace

const std::string& openapi_document() {
  static const std::string kText = document().dump();
  return kText;
}

}  // namespace ringgate::admin
