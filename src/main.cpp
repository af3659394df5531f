// ringgate: an edge API gateway. Command line:
//   ringgate --config FILE         run
//   ringgate --check-config FILE   validate FILE (every problem, with its JSON path); exit 0 or 1
//   ringgate --version
#include <cstdio>
#include <cstring>
#include <string>

#include "core/gateway.hpp"
#include "ringgate/config.hpp"

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: ringgate --config FILE | --check-config FILE | --version\n");
  return 2;
}

int check_config(const std::string& path) {
  const ringgate::config::LoadResult loaded = ringgate::config::load_file(path);
  if (!loaded.problems.empty()) {
    std::fprintf(stderr, "%s: %zu problem%s\n", path.c_str(), loaded.problems.size(),
                 loaded.problems.size() == 1 ? "" : "s");
    for (const auto& p : loaded.problems) {
      std::fprintf(stderr, "  %s: %s\n", p.path.c_str(), p.message.c_str());
    }
    return 1;
  }
  std::printf("%s: ok (%zu listeners, %zu APIs, %zu certificates, %zu backends)\n", path.c_str(),
              loaded.config->gateway.listeners.size(), loaded.config->apis.size(),
              loaded.config->certificates.size(), loaded.config->backends.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("ringgate %s\n", RINGGATE_VERSION);
    return 0;
  }
  if (argc != 3) return usage();
  const std::string flag = argv[1];
  if (flag == "--check-config") return check_config(argv[2]);
  if (flag == "--config") return ringgate::core::Gateway(argv[2]).run();
  return usage();
}
