#include "dptrain/train/device_rows.hpp"

#include <vector>

namespace dptrain {
DeviceRows::DeviceRows(Backend& backend, const LabeledRows& rows, const DataShape& shape)
    : backend_(&backend),
      features_kind_(!shape.images()),
      width_(shape.row_width()),
      rows_(rows.rows),
      images_(upload(backend, rows.images)),
      features_(upload(backend, rows.features)),
      labels_(upload(backend, rows.labels)) {}

void DeviceRows::gather(const uint32_t* indices, int rows, float* x, int32_t* y) const {
  if (features_kind_) {
    backend_->gather_feature_batch(features_.data(), labels_.data(), width_, indices, rows, x, y);
  } else {
    backend_->gather_batch(images_.data(), labels_.data(), width_, indices, rows, x, y);
  }
}

void DeviceRows::prefetch(const uint32_t* host_indices, int rows) const {
  if (features_kind_) {
    backend_->prefetch_rows(features_.data(), width_ * sizeof(float), host_indices, rows);
  } else {
    backend_->prefetch_rows(images_.data(), static_cast<size_t>(width_), host_indices, rows);
  }
}

}  // namespace dptrain
