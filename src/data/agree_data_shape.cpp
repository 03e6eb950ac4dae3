#include "dptrain/data/agree_data_shape.hpp"

#include "dptrain/core/error.hpp"
#include "dptrain/data/h5_data_reader.hpp"

namespace dptrain {

DataShape agree_data_shape(const World& world, const std::string& path) {
  DataShape shape;
  int64_t largest = -1;
  world.together([&] {
    const H5DataReader reader(path);
    shape = reader.row_shape();
    if (shape.classes == 0)
      largest = reader.max_train_label(even_split(reader.train_rows(), world.rank(), world.size()));
  });
  if (shape.classes > 0) return shape;
  // Labels are at least 0 (max_train_label refuses others): -1 + 1 maps "no rows here" to 0.
  const int64_t classes = static_cast<int64_t>(world.max(static_cast<uint64_t>(largest + 1)));
  world.together([&] {
    if (classes < 2)
      throw InputError("data file '" + path +
                       "': its training labels name only one class (0), and a classifier needs two "
                       "or more (set a num_classes attribute if the others are absent)");
    if (classes > kMaxClasses)
      throw InputError("data file '" + path + "': its largest training label is " +
                       std::to_string(classes - 1) + ", more classes than dptrain scores (" +
                       std::to_string(kMaxClasses) + ")");
  });
  shape.classes = static_cast<int>(classes);
  return shape;
}

}  // namespace dptrain
