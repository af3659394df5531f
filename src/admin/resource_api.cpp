#include "admin/resource_api.hpp"

#include <nlohmann/json.hpp>

namespace ringgate::admin {

AdminResponse error_response(int status, std::string_view code, std::string_view message,
                             const std::vector<ErrorDetail>& details) {
  nlohmann::json list = nlohmann::json::array();
  for (const ErrorDetail& d : details)
    list.push_back({{"target", d.target}, {"message", d.message}});
  nlohmann::json body = {
      {"error",
       {{"code", std::string(code)}, {"message", std::string(message)}, {"details", list}}}};
  AdminResponse response;
  response.status = status;
  // Invalid UTF-8 in a message (bytes from a hostile body) is replaced, not thrown.
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

}  // namespace ringgate::admin
