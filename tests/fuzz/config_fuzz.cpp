// The config loader (config::load_string) on arbitrary bytes: a document is
// either accepted as a Config that keeps the promises of DESIGN §6 or refused
// with problems that each name a JSON path. The whole input is the document;
// relative file names resolve in a scratch directory holding a token, a PFX,
// its password and a CA file ("admin.token", "client.pfx", "client.pass",
// "ca.pem").
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "ringgate/config.hpp"

namespace {

using ringgate::fuzz::printable;
namespace config = ringgate::config;

std::string& scratch_dir() {
  static std::string dir;
  return dir;
}

void remove_scratch_dir() { std::filesystem::remove_all(scratch_dir()); }

bool is_valid_id(std::string_view id) {
  if (id.empty() || id.size() > 80) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

bool has_space_or_control(std::string_view text) {
  for (unsigned char c : text) {
    if (c <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

void check_accepted(const config::Config& c, const std::string& where) {
  const config::Gateway& g = c.gateway;
  FUZZ_CHECK(g.workers <= 1024, where);
  FUZZ_CHECK(g.pool.min_idle <= g.pool.max_per_key, where);
  FUZZ_CHECK(!g.state_dir.empty() && g.state_dir.front() == '/', where);
  if (!g.admin.token_file.empty()) {
    FUZZ_CHECK(!g.admin.token.empty() && !has_space_or_control(g.admin.token), where);
  }
  for (const config::Listener& listener : g.listeners) {
    if (!listener.tls) continue;
    FUZZ_CHECK(c.certificates.count(listener.tls->certificate_id) == 1, where);
    for (const std::string& id : listener.tls->certificate_ids) {
      FUZZ_CHECK(c.certificates.count(id) == 1, where + id);
    }
  }
  for (const auto& [id, certificate] : c.certificates) {
    FUZZ_CHECK(is_valid_id(id), where + id);
    FUZZ_CHECK(certificate.pfx_file.starts_with('/'), where);
  }
  std::set<std::string> backend_urls;
  for (const auto& [id, backend] : c.backends) {
    FUZZ_CHECK(is_valid_id(id), where + id);
    FUZZ_CHECK(backend.url.starts_with("http://") || backend.url.starts_with("https://"), where);
    FUZZ_CHECK(backend_urls.insert(backend.url).second, where + "two backends share a url");
  }
  std::set<std::string> api_paths;
  for (const auto& [id, api] : c.apis) {
    FUZZ_CHECK(is_valid_id(id), where + id);
    FUZZ_CHECK(!api.path.starts_with('/') && !api.path.ends_with('/'), where + api.path);
    FUZZ_CHECK(api.path.find("//") == std::string::npos, where + api.path);
    FUZZ_CHECK(api.path.find_first_of("?#") == std::string::npos, where + api.path);
    FUZZ_CHECK(!has_space_or_control(api.path), where + api.path);
    FUZZ_CHECK(api_paths.insert(api.path).second, where + "two APIs share a path");
    FUZZ_CHECK(api.service_url.starts_with("http://") || api.service_url.starts_with("https://"),
               where);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  char pattern[] = "/tmp/ringgate-fuzz-config-XXXXXX";
  if (::mkdtemp(pattern) == nullptr) std::abort();
  scratch_dir() = pattern;
  std::atexit(remove_scratch_dir);
  const std::pair<const char*, const char*> files[] = {
      {"admin.token", "fuzz-token\n"},
      {"client.pfx", "not really a PFX: the loader only checks that it is readable"},
      {"client.pass", "secret\n"},
      {"ca.pem", "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"},
  };
  for (const auto& [name, content] : files) {
    std::ofstream(scratch_dir() + "/" + name) << content;
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string json(reinterpret_cast<const char*>(data), size);
  const config::LoadResult result = config::load_string(json, scratch_dir());
  const config::LoadResult again = config::load_string(json, scratch_dir());
  const std::string where = printable(json) + "\n";

  FUZZ_CHECK((result.config == nullptr) == !result.problems.empty(), where);
  FUZZ_CHECK(result.problems.size() == again.problems.size(), where);
  for (size_t i = 0; i < result.problems.size(); ++i) {
    const config::Problem& p = result.problems[i];
    FUZZ_CHECK(p.path.starts_with('$'), where + p.path);
    FUZZ_CHECK(!p.message.empty(), where + p.path);
    FUZZ_CHECK(p.path == again.problems[i].path && p.message == again.problems[i].message, where);
  }
  if (result.config) check_accepted(*result.config, where);
  return 0;
}
