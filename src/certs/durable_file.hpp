// Small POSIX file helpers for state that must survive a crash: a file is
// replaced atomically (temp file in the same directory, fsync, rename, fsync
// the directory), so a reader finds either the old or the new contents, never
// a torn mix. Used by the certificate store; nothing here is certificate
// specific.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace ringgate::certs {

// Every temp file write_file_atomically() creates starts with this; a
// directory scan after a crash can recognise and delete them.
inline constexpr std::string_view kTempFilePrefix = ".tmp-";

// Who made a directory that already exists, and so what is checked.
enum class DirectoryOrigin {
  // Named in the config (stateDir): a symlink to it is followed, its mode is
  // left as the operator set it, but it must be owned by this process's
  // effective user and not writable by group or others: whoever can write
  // there can swap the key material the gateway loads.
  kOperator,
  // Inside one of the above, made by ringgate: a symlink is refused, and the
  // mode is set to 0700.
  kGateway,
};

// Creates `path` (and missing parents) as a directory with mode 0700. When
// it already exists it must be a directory owned by this process's effective
// user, checked as `origin` says. On failure `error` names the path and what
// to do about it.
bool make_private_directory(const std::string& path, DirectoryOrigin origin, std::string& error);

// Replaces `directory`/`name` with `contents`, with permission bits `mode`.
// The temp file is created with mode 0600 before any byte is written, so the
// contents are never readable by others even for a moment. On failure the
// temp file is removed, the old file (if any) is untouched, and `error` says
// which step failed.
bool write_file_atomically(const std::string& directory, const std::string& name,
                           std::string_view contents, mode_t mode, std::string& error);

// Removes `directory`/`name` and makes the removal durable. A file that is
// already gone counts as removed.
bool remove_file_durably(const std::string& directory, const std::string& name, std::string& error);

}  // namespace ringgate::certs
