// The one way ringgate reads a file it is pointed at: the config file, the
// admin token, PFX and password files, CA bundles, persisted state. A path
// that names a FIFO, a device or a socket would otherwise hang the loader (an
// open() or read() that waits for a writer) or feed it without end, so
// anything but a regular file is refused before a byte is read, the open never
// blocks, and the size is bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ringgate::files {

// Whether the last component of a path may be a symbolic link.
enum class Symlinks : uint8_t {
  // Files the config names: operators link certificates into place (certbot's
  // live/ directory, Kubernetes secret volumes), so a link is followed and
  // what it points at must be a regular file.
  kFollow,
  // Files inside stateDir: ringgate writes them itself as regular files, so a
  // link there was put there by someone else and is refused.
  kRefuse,
};

enum class FileError : uint8_t {
  kNone,
  kOpen,        // missing, no permission, …: the OS's reason
  kNotRegular,  // a directory, FIFO, socket, device, or a refused symlink
  kTooLarge,
  kRead,  // read() failed, or the file changed size while being read
};

struct FileResult {
  std::string path;      // the path as asked for
  std::string contents;  // the whole file; empty on failure and for check_regular_file
  FileError error = FileError::kNone;
  // Empty on success; otherwise why, for a person: "No such file or
  // directory", "is a FIFO, not a regular file", "larger than 4096 bytes".
  std::string reason;

  bool ok() const noexcept { return error == FileError::kNone; }
  // "cannot read "<path>": <reason>".
  std::string message() const;
};

// Reads the whole regular file at `path`, at most `max_bytes`. Opens with
// O_NONBLOCK (a FIFO cannot stall the open), O_CLOEXEC, and O_NOFOLLOW when
// `symlinks` is kRefuse; checks the file type both before opening (a device
// is never opened) and after (what was opened is what was checked). The bytes
// go straight into `contents` with no intermediate copy, and on failure
// whatever was read is wiped, so secrets (keys, passwords) leave no stray
// copies behind.
FileResult read_regular_file(const std::string& path, size_t max_bytes,
                             Symlinks symlinks = Symlinks::kFollow);

// The same checks without reading: `path` is a regular file this process can
// open for reading now.
FileResult check_regular_file(const std::string& path, Symlinks symlinks = Symlinks::kFollow);

}  // namespace ringgate::files
