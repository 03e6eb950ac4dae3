#include "commands.hpp"
#include "dptrain/core/error.hpp"
#include "dptrain/core/log.hpp"
#include "dptrain/data/prepare.hpp"

namespace dptrain::cli {

int run_prepare(const PrepareOptions& options, const World& world) {
  PreparedData prepared;
  world.together([&] {
    if (world.is_root())
      prepared =
          prepare_idx_dataset(options.data_set, options.idx_dir, options.out, options.overwrite);
  });
  printf0("wrote %s: %zu training and %zu test images\n", options.out.c_str(), prepared.train_rows,
          prepared.test_rows);
  return kExitOk;
}

}  // namespace dptrain::cli
