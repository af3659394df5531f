// The gateway's certificates by id (DESIGN §5, §6): those uploaded through
// the admin API, persisted under `stateDir`, and those declared in the config
// file, read from their PFX files at load time and never persisted.
//
// On disk: `<stateDir>/certificates/<id>.pem`, mode 0600, in a directory of
// mode 0700. Each file holds the private key (PKCS#8 PEM, not encrypted),
// the certificate, then its chain, so that reloading needs no password and no
// password is ever written anywhere: the file's mode is what protects the
// key, as with nginx's and HAProxy's key files. One file per certificate
// means one atomic rename per change: a crash leaves the old or the new
// certificate, never a key from one and a certificate from another.
// Files named `.tmp-*` are unfinished writes from a crash; open() deletes them.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "certs/pfx.hpp"

namespace ringgate::certs {

struct StoredCertificate {
  std::string id;
  std::shared_ptr<const LoadedCertificate> certificate;
  bool from_config_file = false;  // read-only through the admin API
};

// Certificates by id, as one snapshot is built from them. A value: copies
// share the immutable certificates, so a change can be tried on a copy
// before anything is stored.
class CertificateSet {
 public:
  // Adds `certificate` under its id, replacing any entry with that id.
  void insert(StoredCertificate certificate);
  // Returns false when there was no such id.
  bool erase(const std::string& id);
  // This set's config file certificates plus those of `uploaded` whose id
  // the config file does not declare (the file wins), as uploaded ones.
  CertificateSet with_uploaded(const CertificateSet& uploaded) const;

  size_t size() const noexcept { return entries_.size(); }
  // Every certificate, sorted by id.
  std::vector<StoredCertificate> list() const;
  std::optional<StoredCertificate> get(const std::string& id) const;
  // The certificate whose thumbprint equals `thumbprint`, ignoring case
  // (the lowest id if several share it).
  std::optional<StoredCertificate> find_by_thumbprint(std::string_view thumbprint) const;

 private:
  std::map<std::string, StoredCertificate> entries_;
};

// Thread-safe (one mutex); meant for the control thread. Workers receive the
// immutable shared_ptr<const LoadedCertificate>s, which stay valid after the
// store drops or replaces an entry. For SIGHUP, build a fresh store (open()
// then load_from_files() for each declared certificate) and swap it in once
// everything loaded.
class CertificateStore {
 public:
  CertificateStore() = default;
  CertificateStore(const CertificateStore&) = delete;
  CertificateStore& operator=(const CertificateStore&) = delete;

  // Whether `id` can name a persisted certificate: 1-80 characters from
  // A-Z a-z 0-9 - _ . ~ (URL-safe, file-name-safe), not starting with '.'.

  // Creates `state_dir` (mode 0700 if new; an existing one keeps its mode,
  // but must belong to this process's effective user and not be writable by
  // group or others) and `state_dir`/certificates (always 0700, never a
  // symlink), deletes leftover temp files, and loads every persisted
  // certificate (a symlink in their place is refused), replacing whatever the
  // store held.
  // On failure (a directory that cannot be made, a persisted file that does
  // not load) returns false, leaves the store unchanged, and sets `error` to
  // every problem found, separated by "; ".
  bool open(const std::string& state_dir, std::string& error);

  // Validates the PFX, then persists it atomically (see above) and makes it
  // the certificate `id`, adding or replacing; `created` tells which. Fails
  // with kInvalidId, kManagedByConfigFile (the id is declared in the config
  // file), kIoError (also when open() has not succeeded), or any load_pfx
  // error; on failure nothing changes, in memory or on disk.
  PfxResult put(const std::string& id, std::string_view pfx_bytes, std::string_view password,
                bool& created);
  // The same for a certificate already loaded (and checked) by load_pfx();
  // the result carries `certificate` on success.
  PfxResult put(const std::string& id, std::shared_ptr<const LoadedCertificate> certificate,
                bool& created);

  // Forgets `id` and deletes its file. Returns false, with the reason in
  // `*error` when given, if there is no such certificate, it comes from the
  // config file, or the file cannot be deleted (the certificate then stays).
  bool remove(const std::string& id, std::string* error = nullptr);

  // Replaces, in memory only, every certificate not from the config file
  // with those of `uploaded` (a config file certificate of the same id
  // stays): the shared store (etcd) keeps them, not stateDir.
  void replace_uploaded(const CertificateSet& uploaded);

  // Every certificate, sorted by id.
  std::vector<StoredCertificate> list() const;
  std::optional<StoredCertificate> get(const std::string& id) const;
  // The certificate whose thumbprint equals `thumbprint`, ignoring case
  // (the lowest id if several share it).
  std::optional<StoredCertificate> find_by_thumbprint(std::string_view thumbprint) const;
  // A copy of what the store holds now.
  CertificateSet contents() const;

  // Loads a certificate the config file declares (`pfxFile`, `passwordFile`).
  // The password is the password file's contents without trailing CR/LF; an
  // empty `password_file` path means an empty password. Added as
  // from_config_file, replacing any entry with that id (the config file wins
  // over an uploaded certificate of the same id); never persisted. Needs no
  // open(). Errors: kIoError naming the unreadable file, or any load_pfx
  // error.
  PfxResult load_from_files(const std::string& id, const std::string& pfx_file,
                            const std::string& password_file);

  // Ids, sorted, of the certificates whose notAfter is at most `seconds`
  // after `now` (unix seconds), expired ones included.
  std::vector<std::string> expiring_within(int64_t now, int64_t seconds) const;

 private:
  mutable std::mutex mutex_;
  std::string directory_;  // <stateDir>/certificates once open() succeeded
  CertificateSet entries_;
};

}  // namespace ringgate::certs
