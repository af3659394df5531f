// The config loader's walk over the document, shared by its translation
// units: config.cpp (the document, certificates, backends, APIs and the
// checks across sections), gateway_loader.cpp (the gateway section) and
// config_source.cpp (gateway.configSource).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/json_reader.hpp"
#include "ringgate/config.hpp"

namespace ringgate::config::detail {

namespace fs = std::filesystem;
using simdjson::dom::element;

// Walks a Config-shaped document, filling a Config and recording problems.
class Loader {
 public:
  Loader(fs::path base_dir, Problems& problems)
      : base_dir_(std::move(base_dir)), problems_(problems) {}

  void load(element root, Config& config);

 private:
  void load_gateway(std::optional<element> value, Gateway& gateway);
  void load_cpu_affinity(element value, const std::string& path, CpuAffinity& affinity);
  void load_user(element value, const std::string& path, std::optional<ServiceUser>& user);
  std::optional<std::vector<int>> read_cpu_list(simdjson::dom::array list, const std::string& path);
  void load_listeners(ObjectReader& gateway, std::vector<Listener>& listeners);
  std::optional<Listener> load_listener(element value, const std::string& path);
  void load_admin(element value, const std::string& path, Admin& admin);
  void load_token(const std::string& path, Admin& admin);
  void load_limits(element value, const std::string& path, Limits& limits);
  void load_timeouts(element value, const std::string& path, Timeouts& timeouts);
  void load_pool(element value, const std::string& path, Pool& pool);
  void load_access_log(element value, const std::string& path, AccessLog& access_log);
  void load_config_source(element value, const std::string& path, ConfigSource& source);
  void load_etcd_source(ObjectReader& object, ConfigSource& source);
  void read_endpoints(element value, const std::string& path, std::vector<std::string>& endpoints);
  void load_certificates(element value, std::map<std::string, Certificate>& certificates);
  void load_backends(element value, std::map<std::string, Backend>& backends);
  void load_apis(element value, std::map<std::string, Api>& apis);
  bool read_api_path(ObjectReader& object, Api& api);
  void check_certificate_references(const Config& config);

  template <typename LoadEntry>
  void for_each_entry(element value, const std::string& path, LoadEntry&& load_entry);

  std::optional<SocketAddress> read_address(element value, const std::string& path,
                                            bool allow_port_zero);
  std::optional<std::string> read_path(ObjectReader& object, std::string_view key);
  std::optional<std::string> read_readable_file(ObjectReader& object, std::string_view key);
  std::string resolve(std::string_view path) const;

  fs::path base_dir_;
  Problems& problems_;
  // Listener and configSource certificate ids, checked once `certificates` has been read:
  // (JSON path, certificate id).
  std::vector<std::pair<std::string, std::string>> certificate_references_;
};

}  // namespace ringgate::config::detail
