#include "files/owner.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace ringgate::files {
namespace {

// uid and gid in one word, so a reader never sees half of an update.
// kUnset: not set yet, the process's own identity applies.
constexpr uint64_t kUnset = UINT64_MAX;
std::atomic<uint64_t> owner_word{kUnset};

}  // namespace

Owner file_owner() noexcept {
  const uint64_t word = owner_word.load(std::memory_order_acquire);
  if (word == kUnset) return {::geteuid(), ::getegid()};
  return {static_cast<uid_t>(word >> 32), static_cast<gid_t>(word & UINT32_MAX)};
}

void set_file_owner(Owner owner) noexcept {
  owner_word.store(uint64_t{owner.uid} << 32 | owner.gid, std::memory_order_release);
}

}  // namespace ringgate::files
