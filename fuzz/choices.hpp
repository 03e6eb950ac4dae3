#pragma once

// Symmetric reading and writing of a structure-aware harness's choices. A harness describes its
// plan once, as a `visit(io, plan)` of integers in ranges and byte strings; ReadChoices fills the
// plan from the fuzz input (FuzzedDataProvider), WriteChoices turns a plan (a real layout) into
// the input that reads as it: the seeds (--write-seeds) are made that way.

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace dptrain::fuzz {

class ReadChoices {
 public:
  ReadChoices(const uint8_t* data, size_t size) : provider_(data, size) {}

  template <class T>
  void integer(T& value, T low, T high) {
    value = provider_.ConsumeIntegralInRange<T>(low, high);
  }
  void bytes(std::string& value, size_t most) { value = provider_.ConsumeBytesAsString(most); }

 private:
  FuzzedDataProvider provider_;
};

// Writes what ReadChoices reads back: FuzzedDataProvider takes integers from the end of the
// input, most significant byte first, and byte strings from the front.
class WriteChoices {
 public:
  template <class T>
  void integer(T& value, T low, T high) {
    const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
    const uint64_t offset = static_cast<uint64_t>(value) - static_cast<uint64_t>(low);
    size_t width = 0;
    while (width < sizeof(T) && (range >> (8 * width)) > 0)
      ++width;
    for (size_t i = width; i-- > 0;)  // consumed in this order: most significant first
      back_.push_back(static_cast<uint8_t>(offset >> (8 * i)));
  }
  void bytes(std::string& value, size_t most) {
    front_ += value.substr(0, most);
    if (value.size() < most) front_ += std::string(most - value.size(), '\0');
  }
  // The input: the byte strings, then the integers from the last consumed to the first.
  std::string input() const { return front_ + std::string(back_.rbegin(), back_.rend()); }

 private:
  std::string front_;
  std::vector<uint8_t> back_;
};

// A plan read from the fuzz input by its `visit` (found by argument-dependent lookup).
template <class Plan>
Plan read_plan(const uint8_t* data, size_t size) {
  ReadChoices io(data, size);
  Plan plan;
  visit(io, plan);
  return plan;
}

// Writes each named plan as the input that reads as it: DIR/<name>. Returns main's status.
template <class Plan>
int write_seeds(const std::string& dir, std::vector<std::pair<std::string, Plan>>& seeds) {
  for (auto& [name, plan] : seeds) {
    WriteChoices io;
    visit(io, plan);
    std::ofstream file(dir + "/" + name, std::ios::binary);
    file << io.input();
    if (!file) return 1;
  }
  return 0;
}

}  // namespace dptrain::fuzz
