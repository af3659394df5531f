// ringgate: an edge API gateway. Command line:
//   ringgate --config FILE         run
//   ringgate --check-config FILE   validate FILE (every problem, with its JSON path); exit 0 or 1
//   ringgate --check-config --offline FILE   the same without asking etcd (configSource)
//   ringgate --version
#include <cstdio>
#include <cstring>
#include <string>

#include "core/gateway.hpp"
#include "ringgate/config.hpp"

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: ringgate --config FILE | --check-config [--offline] FILE | --version\n");
  return 2;
}

// Everything a start would do short of opening sockets: the file, every
// certificate (PFX and password), every policy, every backend address, and
// with gateway.configSource etcd (unless `offline`) that the cluster answers
// and holds values this gateway can open.
int check_config(const std::string& path, bool offline) {
  std::vector<ringgate::config::Problem> problems;
  const ringgate::core::Prepared prepared =
      ringgate::core::prepare(path, 1, true, problems, offline);
  if (!problems.empty()) {
    std::fprintf(stderr, "%s: %zu problem%s\n", path.c_str(), problems.size(),
                 problems.size() == 1 ? "" : "s");
    for (const auto& p : problems)
      std::fprintf(stderr, "  %s: %s\n", p.path.c_str(), p.message.c_str());
    return 1;
  }
  const ringgate::config::Config& config = *prepared.config;
  std::printf("%s: ok (%zu listeners, %zu APIs, %zu certificates, %zu backends)\n", path.c_str(),
              config.gateway.listeners.size(), config.apis.size(), prepared.store->list().size(),
              config.backends.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("ringgate %s\n", RINGGATE_VERSION);
    return 0;
  }
  if (argc == 4 && std::strcmp(argv[1], "--check-config") == 0 &&
      std::strcmp(argv[2], "--offline") == 0) {
    return check_config(argv[3], true);
  }
  if (argc != 3) return usage();
  const std::string flag = argv[1];
  if (flag == "--check-config") return check_config(argv[2], false);
  if (flag == "--config") return ringgate::core::Gateway(argv[2]).run();
  return usage();
}
