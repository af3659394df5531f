#include "files/read_file.hpp"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "files/errno_text.hpp"
#include "files/unique_fd.hpp"

namespace ringgate::files {
namespace {

std::string kind_reason(mode_t mode) {
  const char* kind = "a special file";
  if (S_ISDIR(mode)) kind = "a directory";
  if (S_ISFIFO(mode)) kind = "a FIFO";
  if (S_ISSOCK(mode)) kind = "a socket";
  if (S_ISCHR(mode)) kind = "a character device";
  if (S_ISBLK(mode)) kind = "a block device";
  if (S_ISLNK(mode)) return "is a symbolic link, which is not followed here";
  return std::string("is ") + kind + ", not a regular file";
}

void fail(FileResult& result, FileError error, std::string reason) {
  if (!result.contents.empty()) explicit_bzero(result.contents.data(), result.contents.size());
  result.contents.clear();
  result.error = error;
  result.reason = std::move(reason);
}

// Opens `result.path` as a regular file; on failure fills `result` and
// returns -1. `info` receives the opened file's fstat.
int open_regular(FileResult& result, Symlinks symlinks, struct stat& info) {
  const char* path = result.path.c_str();
  // Looked at before opening: opening a device can have effects of its own.
  const int looked = symlinks == Symlinks::kRefuse ? ::lstat(path, &info) : ::stat(path, &info);
  if (looked != 0) {
    fail(result, FileError::kOpen, errno_text(errno));
    return -1;
  }
  if (!S_ISREG(info.st_mode)) {
    fail(result, FileError::kNotRegular, kind_reason(info.st_mode));
    return -1;
  }
  int flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
  if (symlinks == Symlinks::kRefuse) flags |= O_NOFOLLOW;
  const int fd = ::open(path, flags);
  if (fd < 0) {
    fail(result, FileError::kOpen, errno_text(errno));
    return -1;
  }
  // The path may have been swapped between the look and the open.
  if (::fstat(fd, &info) != 0) {
    const int code = errno;
    ::close(fd);
    fail(result, FileError::kOpen, errno_text(code));
    return -1;
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    fail(result, FileError::kNotRegular, kind_reason(info.st_mode));
    return -1;
  }
  return fd;
}

}  // namespace

std::string FileResult::message() const { return "cannot read \"" + path + "\": " + reason; }

FileResult read_regular_file(const std::string& path, size_t max_bytes, Symlinks symlinks) {
  // Every return names `result`, so it is built in place (NRVO): a short
  // secret is never left behind in a moved-from copy.
  FileResult result;
  result.path = path;
  struct stat info {};
  UniqueFd fd(open_regular(result, symlinks, info));
  if (fd.get() < 0) return result;
  if (static_cast<uint64_t>(info.st_size) > max_bytes) {
    fail(result, FileError::kTooLarge, "larger than " + std::to_string(max_bytes) + " bytes");
    return result;
  }
  // One byte more than fstat said, to notice a file that grows meanwhile.
  const size_t expected = static_cast<size_t>(info.st_size);
  result.contents.resize(expected + 1);
  size_t got = 0;
  while (got < result.contents.size()) {
    const ssize_t n = ::read(fd.get(), result.contents.data() + got, result.contents.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      fail(result, FileError::kRead, errno_text(errno));
      return result;
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got > expected) {
    fail(result, FileError::kRead, "it changed size while being read; try again");
    return result;
  }
  result.contents.resize(got);
  return result;
}

FileResult check_regular_file(const std::string& path, Symlinks symlinks) {
  FileResult result;
  result.path = path;
  struct stat info {};
  UniqueFd fd(open_regular(result, symlinks, info));
  return result;
}

}  // namespace ringgate::files
