// The config tests' fixture: a temp dir with the files a config names, the
// matchers for problems, and the documents the tests start from. Shared by
// config_test.cpp and config_entities_test.cpp.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>

#include "config/cpus.hpp"
#include "ringgate/config.hpp"

namespace ringgate::config {

// Lets gtest print problems when an expectation fails.
inline void PrintTo(const Problem& problem, std::ostream* out) {
  *out << problem.path << ": " << problem.message;
}

namespace config_tests {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "ringgate-config-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }

  const fs::path& path() const { return path_; }

  // Writes `content` to `relative` (creating parent directories); returns the
  // absolute path.
  fs::path write(const std::string& relative, const std::string& content) const {
    fs::path file = path_ / relative;
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary | std::ios::trunc) << content;
    return file;
  }

 private:
  fs::path path_;
};

inline auto ProblemIs(const std::string& path, const std::string& message) {
  return AllOf(Field(&Problem::path, path), Field(&Problem::message, message));
}

template <typename MessageMatcher>
auto ProblemAt(const std::string& path, MessageMatcher message) {
  return AllOf(Field(&Problem::path, path), Field(&Problem::message, message));
}

constexpr const char* kMinimal = R"({"gateway": {"listeners": [{"address": "127.0.0.1:0"}]}})";

// The example from DESIGN §6, verbatim.
constexpr const char* kDesignExample = R"json({
  "gateway": {
    "workers": 0,
    "listeners": [{"address": "127.0.0.1:8080"},
                  {"address": "0.0.0.0:8443", "tls": {"certificateId": "edge"}}],
    "admin": {"address": "127.0.0.1:9901", "tokenFile": "admin.token"},
    "stateDir": "var/ringgate",
    "limits": {"maxHeaderBytes": 16384, "maxBodyBytes": 10485760, "maxConnections": 100000},
    "timeouts": {"clientHeaderMs": 10000, "clientIdleMs": 60000, "backendConnectMs": 3000,
                 "backendResponseMs": 30000, "drainMs": 10000},
    "pool": {"minIdle": 4, "maxPerKey": 1024, "idleTimeoutMs": 60000},
    "accessLog": {"path": "-"}
  },
  "certificates": {"orders-client": {"pfxFile": "certs/orders.pfx", "passwordFile": "certs/orders.pass"}},
  "backends": {"orders": {"url": "https://127.0.0.1:9443", "tls": {"validateCertificateChain": true,
               "validateCertificateName": true}, "caFile": "certs/ca.pem"}},
  "apis": {"orders": {"path": "orders", "serviceUrl": "https://127.0.0.1:9443/api",
           "policy": "<policies><inbound><authentication-certificate certificate-id=\"orders-client\"/></inbound></policies>"}}
})json";

class ConfigTest : public ::testing::Test {
 protected:
  // Writes `json` as config.json in the temp dir and loads it from there.
  LoadResult load(const std::string& json) {
    return load_file(dir_.write("config.json", json).string());
  }

  // A minimal valid document with `gateway_extra` spliced into "gateway" and
  // `top_extra` into the top-level object.
  LoadResult load_with(const std::string& gateway_extra, const std::string& top_extra = "") {
    std::string json = R"({"gateway": {"listeners": [{"address": "127.0.0.1:0"}])";
    if (!gateway_extra.empty()) json += ", " + gateway_extra;
    json += "}";
    if (!top_extra.empty()) json += ", " + top_extra;
    json += "}";
    return load(json);
  }

  std::string abs(const std::string& relative) const {
    return (dir_.path() / relative).lexically_normal().string();
  }

  TempDir dir_;
};

}  // namespace config_tests
}  // namespace ringgate::config
