// dptrain_make_test_file KIND PATH: writes one of the test files of test_files.hpp.
#include <cstdio>
#include <exception>
#include <string>

#include "support/test_files.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s KIND PATH\nkinds:", argv[0]);
    for (const std::string& kind : dptrain::testing::test_file_kinds())
      std::fprintf(stderr, " %s", kind.c_str());
    std::fprintf(stderr, "\n");
    return 2;
  }
  try {
    dptrain::testing::write_test_file(argv[1], argv[2]);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "%s: %s\n", argv[0], error.what());
    return 1;
  }
  return 0;
}
