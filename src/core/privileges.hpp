// Running with no more privilege than needed (gateway.user, DESIGN §6):
// started as root, the gateway binds its listeners and opens its files, then
// becomes gateway.user for good.
#pragma once

#include <string>

#include "files/owner.hpp"
#include "ringgate/config.hpp"

namespace ringgate::core {

// Whose files the state dir must hold for `gateway`: gateway.user's when
// this process is root (it is about to become that user), else its own.
files::Owner state_owner(const config::Gateway& gateway) noexcept;

struct PrivilegeDrop {
  bool ok = true;        // false: switching failed; the gateway must not run
  bool warning = false;  // `message` is a warning rather than information
  std::string message;   // for the start-up log; empty when nothing to say
};

// A root process becomes gateway.user: its supplementary groups, group and
// user, on every thread (glibc applies set*id to all of them), keeping only
// CAP_NET_BIND_SERVICE on the calling thread and the threads it starts
// afterwards, so a reload can still bind a port below 1024. Root without
// gateway.user: stays root, with a warning. Not root: nothing changes (a
// warning when gateway.user names someone else).
PrivilegeDrop drop_privileges(const config::Gateway& gateway);

// A worker thread binds nothing: once the process is not root, it gives up
// whatever capabilities it inherited (CAP_NET_BIND_SERVICE). Calling thread only.
void drop_thread_capabilities() noexcept;

}  // namespace ringgate::core
