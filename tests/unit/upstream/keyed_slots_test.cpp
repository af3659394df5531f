#include "upstream/keyed_slots.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace ringgate::upstream {
namespace {

struct Entry {
  explicit Entry(std::shared_ptr<int> resource) : held(std::move(resource)) {}
  std::shared_ptr<int> held;  // stands for a TLS context holding a private key
};

TEST(KeyedSlots, SameKeyFindsTheSameSlot) {
  KeyedSlots<Entry> slots;
  auto resource = std::make_shared<int>(1);
  auto make = [&](uint32_t) { return std::make_unique<Entry>(resource); };
  const uint32_t a = slots.find_or_add("a", make);
  EXPECT_EQ(slots.find_or_add("a", make), a);
  EXPECT_NE(slots.find_or_add("b", make), a);
  EXPECT_EQ(slots.size(), 2u);
}

TEST(KeyedSlots, ErasedEntryReleasesWhatItHeldAtOnce) {
  KeyedSlots<Entry> slots;
  auto key_material = std::make_shared<int>(42);
  const uint32_t a =
      slots.find_or_add("old", [&](uint32_t) { return std::make_unique<Entry>(key_material); });
  EXPECT_EQ(key_material.use_count(), 2);
  slots.erase(a);
  EXPECT_EQ(key_material.use_count(), 1);
  EXPECT_FALSE(slots.contains(a));
  EXPECT_EQ(slots.size(), 0u);
}

TEST(KeyedSlots, ErasedSlotServesTheNextKeyAndOthersKeepTheirs) {
  KeyedSlots<Entry> slots;
  auto make = [](uint32_t) { return std::make_unique<Entry>(nullptr); };
  const uint32_t a = slots.find_or_add("a", make);
  const uint32_t b = slots.find_or_add("b", make);
  slots.erase(a);
  const uint32_t c = slots.find_or_add("c", make);
  EXPECT_EQ(c, a);
  EXPECT_EQ(slots.find_or_add("b", make), b);
  int visited = 0;
  slots.for_each([&](uint32_t, Entry&) { ++visited; });
  EXPECT_EQ(visited, 2);
}

}  // namespace
}  // namespace ringgate::upstream
