#include "certs/durable_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "files/errno_text.hpp"
#include "files/owner.hpp"
#include "files/unique_fd.hpp"

namespace ringgate::certs {
namespace {

std::string quoted(const std::string& path) { return "\"" + path + "\""; }

bool write_all(int fd, std::string_view data, int& error_code) {
  while (!data.empty()) {
    ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      error_code = errno;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(written));
  }
  return true;
}

// fsyncs a directory so that entries created, renamed or removed in it are
// on disk, not only the files' data.
bool sync_directory(const std::string& directory, std::string& error) {
  files::UniqueFd fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
    error = "cannot sync directory " + quoted(directory) + ": " + files::errno_text(errno);
    return false;
  }
  return true;
}

std::string parent_of(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

}  // namespace

bool make_private_directory(const std::string& path, DirectoryOrigin origin, std::string& error) {
  std::error_code ignored;
  std::filesystem::create_directories(parent_of(path), ignored);  // mkdir() below reports failures
  const files::Owner owner = files::file_owner();
  if (::mkdir(path.c_str(), 0700) == 0) {
    // The umask may have taken bits away; the owner needs all three.
    if (::chmod(path.c_str(), 0700) != 0) {
      error = "cannot set mode 0700 on " + quoted(path) + ": " + files::errno_text(errno);
      return false;
    }
    // Root making it for the user it is about to become.
    if (owner.uid != ::geteuid() && ::chown(path.c_str(), owner.uid, owner.gid) != 0) {
      error = "cannot hand " + quoted(path) + " to uid " + std::to_string(owner.uid) + ": " +
              files::errno_text(errno);
      return false;
    }
    return sync_directory(parent_of(path), error);
  }
  if (errno != EEXIST) {
    error = "cannot create directory " + quoted(path) + ": " + files::errno_text(errno);
    return false;
  }
  struct stat info {};
  const bool ours = origin == DirectoryOrigin::kGateway;
  if ((ours ? ::lstat(path.c_str(), &info) : ::stat(path.c_str(), &info)) != 0) {
    error = "cannot use directory " + quoted(path) + ": " + files::errno_text(errno);
    return false;
  }
  if (!S_ISDIR(info.st_mode)) {
    error = "cannot use " + quoted(path) + " as a directory: it is not one";
    return false;
  }
  if (info.st_uid != owner.uid) {
    error = path + " is owned by uid " + std::to_string(info.st_uid) +
            ", not by the user ringgate runs as (uid " + std::to_string(owner.uid) +
            "); chown it or choose another stateDir";
    return false;
  }
  const mode_t mode = info.st_mode & 07777;
  if (ours) {
    if (mode != 0700 && ::chmod(path.c_str(), 0700) != 0) {
      error = "cannot set mode 0700 on " + quoted(path) + ": " + files::errno_text(errno);
      return false;
    }
    return true;
  }
  if ((mode & (S_IWGRP | S_IWOTH)) != 0) {
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode));
    error = path + " is writable by group/others (mode " + octal + "); chmod 700 it";
    return false;
  }
  return true;
}

bool write_file_atomically(const std::string& directory, const std::string& name,
                           std::string_view contents, mode_t mode, std::string& error) {
  std::string temp_path = directory + "/" + std::string(kTempFilePrefix) + name + ".XXXXXX";
  // mkostemp creates the file with mode 0600 and a name no one else holds.
  files::UniqueFd fd(::mkostemp(temp_path.data(), O_CLOEXEC));
  if (fd.get() < 0) {
    error = "cannot create a temp file in " + quoted(directory) + ": " + files::errno_text(errno);
    return false;
  }
  const std::string final_path = directory + "/" + name;
  auto fail = [&](const char* step, int code) {
    ::unlink(temp_path.c_str());
    error =
        std::string("cannot ") + step + " " + quoted(final_path) + ": " + files::errno_text(code);
    return false;
  };
  int code = 0;
  if (::fchmod(fd.get(), mode) != 0) return fail("set the mode of", errno);
  if (!write_all(fd.get(), contents, code)) return fail("write", code);
  // Data first, then the rename: otherwise a crash could leave the new name
  // pointing at a file whose blocks never reached the disk.
  if (::fsync(fd.get()) != 0) return fail("sync", errno);
  code = fd.close_now();
  if (code != 0) return fail("close", code);
  if (::rename(temp_path.c_str(), final_path.c_str()) != 0) return fail("rename onto", errno);
  return sync_directory(directory, error);
}

bool remove_file_durably(const std::string& directory, const std::string& name,
                         std::string& error) {
  const std::string path = directory + "/" + name;
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return true;
    error = "cannot remove " + quoted(path) + ": " + files::errno_text(errno);
    return false;
  }
  return sync_directory(directory, error);
}

}  // namespace ringgate::certs
