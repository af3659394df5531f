#include "core/privileges.hpp"

#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "files/errno_text.hpp"

namespace ringgate::core {
namespace {

using files::errno_text;

// The calling thread's effective and permitted sets: CAP_NET_BIND_SERVICE
// when `bind` is set, nothing otherwise; nothing inheritable.
bool set_thread_capabilities(bool bind) noexcept {
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  if (bind) {
    data[CAP_TO_INDEX(CAP_NET_BIND_SERVICE)].effective = CAP_TO_MASK(CAP_NET_BIND_SERVICE);
    data[CAP_TO_INDEX(CAP_NET_BIND_SERVICE)].permitted = CAP_TO_MASK(CAP_NET_BIND_SERVICE);
  }
  return ::syscall(SYS_capset, &header, data) == 0;
}

std::string describe(const config::ServiceUser& user) {
  return user.name + " (uid " + std::to_string(user.uid) + ", gid " + std::to_string(user.gid) +
         ")";
}

}  // namespace

files::Owner state_owner(const config::Gateway& gateway) noexcept {
  if (::geteuid() == 0 && gateway.user) return {gateway.user->uid, gateway.user->gid};
  return {::geteuid(), ::getegid()};
}

PrivilegeDrop drop_privileges(const config::Gateway& gateway) {
  PrivilegeDrop result;
  if (::geteuid() != 0) {
    if (gateway.user && gateway.user->uid != ::geteuid()) {
      result.warning = true;
      result.message = "$.gateway.user " + gateway.user->name +
                       " ignored: ringgate was not started as root (runs as uid " +
                       std::to_string(::geteuid()) + ")";
    }
    return result;
  }
  if (!gateway.user) {
    result.warning = true;
    result.message =
        "running as root: set $.gateway.user to the account ringgate should switch to once its "
        "listeners are bound";
    return result;
  }
  const config::ServiceUser& user = *gateway.user;
  auto fail = [&](const char* step) {
    result.ok = false;
    result.message = std::string("cannot switch to user ") + describe(user) + ": " + step + ": " +
                     errno_text(errno);
    return result;
  };
  if (user.uid == 0) {
    result.warning = true;
    result.message = "$.gateway.user " + user.name + " is root: ringgate keeps every privilege";
    return result;
  }
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return fail("prctl(PR_SET_KEEPCAPS)");
  if (::initgroups(user.name.c_str(), user.gid) != 0) return fail("initgroups");
  if (::setgid(user.gid) != 0) return fail("setgid");
  if (::setuid(user.uid) != 0) return fail("setuid");
  (void)::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  if (!set_thread_capabilities(true)) return fail("capset");
  // Proof that there is no way back.
  if (::setuid(0) == 0) {
    result.ok = false;
    result.message = "switched to user " + describe(user) + " but could become root again";
    return result;
  }
  result.message = "running as user " + describe(user) +
                   "; CAP_NET_BIND_SERVICE kept for listeners a reload adds";
  return result;
}

void drop_thread_capabilities() noexcept {
  if (::geteuid() != 0) (void)set_thread_capabilities(false);
}

}  // namespace ringgate::core
