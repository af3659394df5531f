// The web console (DESIGN §10): plain HTML, CSS and ES modules from
// src/admin/console/, built into the binary by tools/embed-files, so nothing
// beyond the binary is needed to serve it.
#pragma once

#include "admin/router.hpp"

namespace ringgate::admin {

// Every console file by request path ("/" is index.html, "/app.js", …) with
// its content type, for AdminServer::set_static_files. Builds a new map on
// each call.
StaticFiles console_files();

}  // namespace ringgate::admin
