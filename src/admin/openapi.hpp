// The OpenAPI 3.0 description of the admin API (DESIGN §5), served at
// GET /openapi.json.
#pragma once

#include <string>

namespace ringgate::admin {

// The document as JSON text: every route with its methods, request and
// response schemas, the bearer security scheme, ETag / If-Match, and the
// error envelope with its codes. Built once, on first use.
const std::string& openapi_document();

}  // namespace ringgate::admin
