// Who ringgate's own files (the state dir and what it writes there) must
// belong to: the user it runs as, or, while a gateway started as root has not
// yet switched to gateway.user, that user. Set once per config read, before
// the state dir is opened; read wherever a directory is created or checked.
#pragma once

#include <sys/types.h>

namespace ringgate::files {

struct Owner {
  uid_t uid;
  gid_t gid;
};

// The owner set last, or the process's effective user and group.
Owner file_owner() noexcept;
void set_file_owner(Owner owner) noexcept;

}  // namespace ringgate::files
