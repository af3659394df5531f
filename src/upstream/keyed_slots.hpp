// Entries by key in stable numbered slots: an index handed out stays valid
// (timers and connections keep it) until that entry is erased, after which
// the slot may serve another key. Used for a worker's pools, which come and
// go with the config: an erased pool's resources (its TLS context with the
// client's private key) are freed at once, not at process exit.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ringgate::upstream {

template <typename T>
class KeyedSlots {
 public:
  // The slot of `key`; when there is none, make(slot) builds the entry
  // (returning std::unique_ptr<T>) in a free slot or a new one.
  template <typename Make>
  uint32_t find_or_add(const std::string& key, Make&& make) {
    auto it = by_key_.find(key);
    if (it != by_key_.end()) return it->second;
    uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = static_cast<uint32_t>(entries_.size());
      entries_.emplace_back();
      keys_.emplace_back();
    }
    entries_[slot] = make(slot);
    keys_[slot] = key;
    by_key_.emplace(key, slot);
    return slot;
  }

  // Destroys the entry in `slot`; its index is invalid from now on.
  void erase(uint32_t slot) {
    by_key_.erase(keys_[slot]);
    keys_[slot].clear();
    entries_[slot].reset();
    free_.push_back(slot);
  }

  bool contains(uint32_t slot) const noexcept {
    return slot < entries_.size() && entries_[slot] != nullptr;
  }
  T& operator[](uint32_t slot) noexcept { return *entries_[slot]; }
  const T& operator[](uint32_t slot) const noexcept { return *entries_[slot]; }
  size_t size() const noexcept { return by_key_.size(); }

  // Calls fn(slot, T&) for every entry, in slot order. fn must not erase.
  template <typename Fn>
  void for_each(Fn&& fn) {
    for (uint32_t slot = 0; slot < entries_.size(); ++slot) {
      if (entries_[slot]) fn(slot, *entries_[slot]);
    }
  }

 private:
  std::vector<std::unique_ptr<T>> entries_;
  std::vector<std::string> keys_;
  std::vector<uint32_t> free_;
  std::unordered_map<std::string, uint32_t> by_key_;
};

}  // namespace ringgate::upstream
