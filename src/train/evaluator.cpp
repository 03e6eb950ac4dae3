#include "dptrain/train/evaluator.hpp"

#include <numeric>

namespace dptrain {
Evaluator::Evaluator(Backend& backend, const World& world, const H5DataReader& reader,
                     const DataShape& shape, Model& model, int batch_rows)
    : backend_(backend),
      world_(world),
      model_(model),
      batch_rows_(batch_rows),
      classes_(shape.classes) {
  const LabeledRows test =
      reader.read_test(even_split(reader.test_rows(), world.rank(), world.size()), classes_);
  rows_ = test.rows;
  data_ = DeviceRows(backend_, test, shape);
  std::vector<uint32_t> identity(test.rows);
  std::iota(identity.begin(), identity.end(), 0u);
  order_ = upload(backend_, identity);
  x_ = DeviceArray<float>(
      backend_, static_cast<size_t>(batch_rows_) * static_cast<size_t>(shape.row_width()));
  y_ = DeviceArray<int32_t>(backend_, static_cast<size_t>(batch_rows_));
  loss_sum_ = DeviceArray<double>(backend_, 1);
  confusion_ = DeviceArray<int64_t>(backend_, static_cast<size_t>(classes_) * classes_);
}

Evaluation Evaluator::evaluate(const float* params) {
  const double zero = 0.0;
  const size_t cells = confusion_.size();
  const std::vector<int64_t> zeros(cells, 0);
  backend_.copy_to_device(loss_sum_.data(), &zero, sizeof zero);
  backend_.copy_to_device(confusion_.data(), zeros.data(), confusion_.bytes());
  const size_t batch = static_cast<size_t>(batch_rows_);
  for (size_t begin = 0; begin < rows_; begin += batch) {
    const int rows = static_cast<int>(std::min(batch, rows_ - begin));
    data_.gather(order_.data() + begin, rows, x_.data(), y_.data());
    const float* logits = model_.forward(params, x_.data(), rows);
    backend_.softmax_cross_entropy(logits, y_.data(), rows, classes_, 0.0f, nullptr,
                                   loss_sum_.data());
    backend_.accumulate_confusion(logits, y_.data(), rows, classes_, confusion_.data());
  }
  Evaluation result;
  result.classes = classes_;
  result.confusion.resize(cells);
  double loss = 0.0;
  backend_.copy_to_host(&loss, loss_sum_.data(), sizeof loss);
  backend_.copy_to_host(result.confusion.data(), confusion_.data(), confusion_.bytes());
  std::vector<double> totals{loss, static_cast<double>(rows_)};
  totals.insert(totals.end(), result.confusion.begin(), result.confusion.end());
  world_.sum(totals);
  for (size_t i = 0; i < cells; ++i)
    result.confusion[i] = static_cast<int64_t>(totals[2 + i]);
  for (int c = 0; c < classes_; ++c)
    result.correct += result.confusion[static_cast<size_t>(c) * classes_ + c];
  result.rows = static_cast<int64_t>(totals[1]);
  result.loss = totals[0] / totals[1];
  result.accuracy = static_cast<double>(result.correct) / totals[1];
  return result;
}

}  // namespace dptrain
