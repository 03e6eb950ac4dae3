// The main of the harnesses when they are not built with libFuzzer (every normal and sanitizer
// build): runs each file given, and each file of each directory given, through
// LLVMFuzzerTestOneInput, so that CTest replays the seeds and every kept regression input.
//   <harness> [--allow-missing] PATH...    replay; a missing PATH is an error unless allowed
//   <harness> --write-seeds DIR            structure-aware harnesses: write their seed corpus
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
// Defined by the harnesses whose seeds are generated rather than cut from real files.
extern "C" __attribute__((weak)) int DptrainFuzzWriteSeeds(const char* dir);

namespace {

namespace fs = std::filesystem;

void run_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> bytes{std::istreambuf_iterator<char>(in),
                                std::istreambuf_iterator<char>()};
  // A copy of exactly the file's bytes, so the sanitizers see any read past its end.
  std::vector<uint8_t> input(bytes.begin(), bytes.end());
  std::fprintf(stderr, "replay: %s (%zu bytes)\n", path.c_str(), input.size());
  LLVMFuzzerTestOneInput(input.empty() ? nullptr : input.data(), input.size());
}

// The plain files of `dir`, sorted, hidden ones (.gitkeep) left out.
std::vector<fs::path> files_of(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file() && !entry.path().filename().string().starts_with("."))
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--write-seeds") == 0) {
    if (DptrainFuzzWriteSeeds == nullptr) {
      std::fprintf(stderr, "replay: this harness has no seed generator\n");
      return 2;
    }
    fs::create_directories(argv[2]);
    return DptrainFuzzWriteSeeds(argv[2]);
  }
  bool allow_missing = false;
  size_t ran = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--allow-missing") == 0) {
      allow_missing = true;
      continue;
    }
    const fs::path path(argv[i]);
    if (fs::is_directory(path)) {
      for (const fs::path& file : files_of(path)) {
        run_file(file);
        ++ran;
      }
    } else if (fs::is_regular_file(path)) {
      run_file(path);
      ++ran;
    } else if (!allow_missing) {
      std::fprintf(stderr, "replay: '%s' is neither a file nor a directory\n", argv[i]);
      return 2;
    }
  }
  std::printf("replay: ran %zu inputs\n", ran);
  return ran > 0 ? 0 : 2;  // a replay of nothing would pass without testing anything
}
