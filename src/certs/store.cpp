#include "certs/store.hpp"

#include <openssl/crypto.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <limits>
#include <system_error>
#include <utility>

#include "certs/durable_file.hpp"
#include "certs/pem.hpp"
#include "files/read_file.hpp"
#include "ringgate/resource_id.hpp"

namespace ringgate::certs {
namespace {

constexpr std::string_view kFileSuffix = ".pem";
constexpr mode_t kKeyFileMode = 0600;
constexpr size_t kMaxPfxBytes = 16 * 1024 * 1024;
constexpr size_t kMaxPasswordFileBytes = 64 * 1024;
constexpr size_t kMaxStateFileBytes = 16 * 1024 * 1024;

// Owns a string that holds key material or a password and wipes it on exit.
class SecretString {
 public:
  SecretString() = default;
  ~SecretString() { OPENSSL_cleanse(text_.data(), text_.size()); }
  SecretString(const SecretString&) = delete;
  SecretString& operator=(const SecretString&) = delete;
  std::string& str() noexcept { return text_; }

 private:
  std::string text_;
};

// A file that holds key material or a password, read whole and wiped on exit.
class SecretFile {
 public:
  SecretFile(const std::string& path, size_t max_bytes, files::Symlinks symlinks)
      : file_(files::read_regular_file(path, max_bytes, symlinks)) {}
  ~SecretFile() { OPENSSL_cleanse(file_.contents.data(), file_.contents.size()); }
  SecretFile(const SecretFile&) = delete;
  SecretFile& operator=(const SecretFile&) = delete;
  const files::FileResult& file() const noexcept { return file_; }
  std::string& contents() noexcept { return file_.contents; }

 private:
  files::FileResult file_;
};

PfxResult failure(PfxError error, std::string message) {
  PfxResult result;
  result.error = error;
  result.message = std::move(message);
  return result;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) ==
                  std::toupper(static_cast<unsigned char>(y));
         });
}

// Loads one persisted file; on success tightens its mode to 0600 should
// someone have loosened it.
PfxResult load_persisted(const std::string& path) {
  // The store writes its files itself: a symlink in its place is not ours.
  SecretFile contents(path, kMaxStateFileBytes, files::Symlinks::kRefuse);
  if (!contents.file().ok()) return failure(PfxError::kIoError, contents.file().message());
  PfxResult result = decode_pem(contents.contents());
  if (!result.ok()) {
    result.message = "\"" + path + "\": " + result.message;
    return result;
  }
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && (info.st_mode & 07777) != kKeyFileMode) {
    ::chmod(path.c_str(), kKeyFileMode);
  }
  return result;
}

// Reads every `<id>.pem` in `directory` into `loaded`, deleting leftover temp
// files on the way. Files with other names are not the store's and are left
// alone. Appends one entry to `problems` per file that does not load.
void scan_directory(const std::string& directory, CertificateSet& loaded,
                    std::vector<std::string>& problems) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (fs::directory_iterator it(directory, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(kTempFilePrefix, 0) == 0) {
      std::string ignored;
      remove_file_durably(directory, name, ignored);  // a crash's half-written file
      continue;
    }
    if (!ends_with(name, kFileSuffix)) continue;
    std::string id = name.substr(0, name.size() - kFileSuffix.size());
    if (!is_valid_resource_id(id)) continue;
    PfxResult result = load_persisted(it->path().string());
    if (!result.ok()) {
      problems.push_back("certificate \"" + id + "\": " + result.message);
      continue;
    }
    loaded.insert(StoredCertificate{id, std::move(result.certificate), false});
  }
  if (ec) problems.push_back("cannot list \"" + directory + "\": " + ec.message());
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string joined;
  for (const std::string& part : parts) {
    if (!joined.empty()) joined += separator;
    joined += part;
  }
  return joined;
}

void trim_line_end(std::string& text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    // Wipe before shortening: the byte stays in the buffer otherwise.
    text.back() = '\0';
    text.pop_back();
  }
}

PfxResult invalid_id(const std::string& id) {
  return failure(PfxError::kInvalidId, "certificate " + invalid_resource_id_message(id));
}

}  // namespace

void CertificateSet::insert(StoredCertificate certificate) {
  std::string id = certificate.id;
  entries_.insert_or_assign(std::move(id), std::move(certificate));
}

bool CertificateSet::erase(const std::string& id) { return entries_.erase(id) > 0; }

CertificateSet CertificateSet::with_uploaded(const CertificateSet& uploaded) const {
  CertificateSet next;
  for (const auto& [id, entry] : entries_) {
    if (entry.from_config_file) next.insert(entry);
  }
  for (const auto& [id, entry] : uploaded.entries_) {
    if (!next.get(id)) next.insert(StoredCertificate{id, entry.certificate, false});
  }
  return next;
}

std::vector<StoredCertificate> CertificateSet::list() const {
  std::vector<StoredCertificate> all;
  all.reserve(entries_.size());
  for (const auto& [id, entry] : entries_) all.push_back(entry);
  return all;
}

std::optional<StoredCertificate> CertificateSet::get(const std::string& id) const {
  auto entry = entries_.find(id);
  if (entry == entries_.end()) return std::nullopt;
  return entry->second;
}

std::optional<StoredCertificate> CertificateSet::find_by_thumbprint(
    std::string_view thumbprint) const {
  for (const auto& [id, entry] : entries_) {
    if (equal_ignoring_case(entry.certificate->info().thumbprint, thumbprint)) return entry;
  }
  return std::nullopt;
}

bool CertificateStore::open(const std::string& state_dir, std::string& error) {
  if (state_dir.empty()) {
    error = "the state directory is not set";
    return false;
  }
  const std::string directory = state_dir + "/certificates";
  if (!make_private_directory(state_dir, DirectoryOrigin::kOperator, error) ||
      !make_private_directory(directory, DirectoryOrigin::kGateway, error)) {
    return false;
  }
  CertificateSet loaded;
  std::vector<std::string> problems;
  scan_directory(directory, loaded, problems);
  if (!problems.empty()) {
    error = join(problems, "; ");
    return false;
  }
  std::lock_guard lock(mutex_);
  directory_ = directory;
  entries_ = std::move(loaded);
  return true;
}

PfxResult CertificateStore::put(const std::string& id, std::string_view pfx_bytes,
                                std::string_view password, bool& created) {
  created = false;
  if (!is_valid_resource_id(id)) return invalid_id(id);
  // Decrypting a PFX is slow (key derivation); do it before taking the lock.
  PfxResult result = load_pfx(pfx_bytes, password);
  if (!result.ok()) return result;
  return put(id, std::move(result.certificate), created);
}

PfxResult CertificateStore::put(const std::string& id,
                                std::shared_ptr<const LoadedCertificate> certificate,
                                bool& created) {
  created = false;
  if (!is_valid_resource_id(id)) return invalid_id(id);
  SecretString pem;
  if (!encode_pem(*certificate, pem.str())) {
    return failure(PfxError::kIoError, "cannot encode certificate \"" + id + "\" for storage");
  }

  std::lock_guard lock(mutex_);
  if (directory_.empty()) {
    return failure(PfxError::kIoError, "the certificate store has no state directory open");
  }
  std::optional<StoredCertificate> existing = entries_.get(id);
  if (existing && existing->from_config_file) {
    return failure(PfxError::kManagedByConfigFile,
                   "certificate \"" + id +
                       "\" is declared in the config file and cannot be "
                       "changed through the API");
  }
  std::string error;
  if (!write_file_atomically(directory_, id + std::string(kFileSuffix), pem.str(), kKeyFileMode,
                             error)) {
    return failure(PfxError::kIoError, "cannot store certificate \"" + id + "\": " + error);
  }
  created = !existing;
  entries_.insert(StoredCertificate{id, certificate, false});
  PfxResult result;
  result.certificate = std::move(certificate);
  return result;
}

bool CertificateStore::remove(const std::string& id, std::string* error) {
  std::string reason;
  bool removed = false;
  {
    std::lock_guard lock(mutex_);
    std::optional<StoredCertificate> entry = entries_.get(id);
    if (!entry) {
      reason = "no certificate with id \"" + id + "\"";
    } else if (entry->from_config_file) {
      reason = "certificate \"" + id +
               "\" is declared in the config file and cannot be removed "
               "through the API";
    } else {
      const std::string name = id + std::string(kFileSuffix);
      removed = remove_file_durably(directory_, name, reason);
      // Only the directory sync may have failed, with the file already
      // gone: memory follows the disk, and the caller still hears of it.
      struct stat info {};
      if (removed || ::stat((directory_ + "/" + name).c_str(), &info) != 0) entries_.erase(id);
    }
  }
  if (!removed && error != nullptr) *error = std::move(reason);
  return removed;
}

void CertificateStore::replace_uploaded(const CertificateSet& uploaded) {
  std::lock_guard lock(mutex_);
  entries_ = entries_.with_uploaded(uploaded);
}

std::vector<StoredCertificate> CertificateStore::list() const {
  std::lock_guard lock(mutex_);
  return entries_.list();
}

std::optional<StoredCertificate> CertificateStore::get(const std::string& id) const {
  std::lock_guard lock(mutex_);
  return entries_.get(id);
}

std::optional<StoredCertificate> CertificateStore::find_by_thumbprint(
    std::string_view thumbprint) const {
  std::lock_guard lock(mutex_);
  return entries_.find_by_thumbprint(thumbprint);
}

CertificateSet CertificateStore::contents() const {
  std::lock_guard lock(mutex_);
  return entries_;
}

PfxResult CertificateStore::load_from_files(const std::string& id, const std::string& pfx_file,
                                            const std::string& password_file) {
  // Files the config names may be symlinks (certificates linked into place).
  SecretFile pfx(pfx_file, kMaxPfxBytes, files::Symlinks::kFollow);
  if (!pfx.file().ok()) return failure(PfxError::kIoError, pfx.file().message());
  SecretString password;
  if (!password_file.empty()) {
    SecretFile file(password_file, kMaxPasswordFileBytes, files::Symlinks::kFollow);
    if (!file.file().ok()) return failure(PfxError::kIoError, file.file().message());
    password.str().assign(file.contents());
  }
  trim_line_end(password.str());
  PfxResult result = load_pfx(pfx.contents(), password.str());
  if (!result.ok()) return result;
  std::lock_guard lock(mutex_);
  entries_.insert(StoredCertificate{id, result.certificate, true});
  return result;
}

std::vector<std::string> CertificateStore::expiring_within(int64_t now, int64_t seconds) const {
  // now + seconds, saturated rather than overflowing.
  int64_t limit = std::numeric_limits<int64_t>::max();
  if (seconds < 0 || now <= limit - seconds) limit = now + seconds;
  std::lock_guard lock(mutex_);
  std::vector<std::string> ids;
  for (const StoredCertificate& entry : entries_.list()) {
    if (entry.certificate->info().not_after <= limit) ids.push_back(entry.id);
  }
  return ids;
}

}  // namespace ringgate::certs
