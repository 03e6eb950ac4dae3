#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace dptrain {

// The whole file; InputError naming it when it cannot be opened or read.
std::vector<uint8_t> read_binary_file(const std::string& path);

// SHA-256 of the bytes as 64 lowercase hex digits (OpenSSL).
std::string sha256_hex(std::span<const uint8_t> bytes);

}  // namespace dptrain
