#include "dptrain/train/config.hpp"

#include <nlohmann/json.hpp>

namespace dptrain {

ModelSpec model_spec(const TrainConfig& config) {
  if (config.model == ModelKind::cnn) return {ModelKind::cnn, {}};
  return {ModelKind::mlp, config.hidden.value_or(kDefaultHidden)};
}

std::string config_to_json(const TrainConfig& c) {
  const nlohmann::json json = {
      {"data", c.data_path},
      {"epochs", c.epochs},
      {"batch_size", c.batch_size},
      {"micro_batch", micro_batch_rows(c)},
      {"exact", c.exact},
      {"model", describe_model(model_spec(c))},
      {"lr", c.adam.lr},
      {"beta1", c.adam.beta1},
      {"beta2", c.adam.beta2},
      {"eps", c.adam.eps},
      {"weight_decay", c.adam.weight_decay},
      {"seed", c.seed},
      {"threads", c.blas_threads},
      {"eval_batch_size", c.eval_batch_size},
      {"device", c.device == DeviceRequest::cpu    ? "cpu"
                 : c.device == DeviceRequest::cuda ? "cuda"
                                                   : "auto"},
      {"precision", c.precision == GemmPrecision::tf32 ? "tf32" : "fp32"},
      {"mode", c.mode == TrainMode::ps ? "ps" : "allreduce"},
      {"bucket_kb", c.bucket_kb.value_or(kDefaultBucketKb)},
      {"exchange_dtype", wire_format_name(c.exchange_dtype)},
      {"allreduce", c.allreduce == AllreduceAlgorithm::hierarchical ? "hierarchical" : "ring"},
      {"checkpoint_dir", c.checkpoint_dir},
      {"checkpoint_every", c.checkpoint_every},
      {"keep_checkpoints", c.keep_checkpoints},
      {"on_nonfinite", c.on_nonfinite == NonFinitePolicy::skip ? "skip" : "abort"},
      {"cuda_graph", c.cuda_graph},
      {"check_replicas_every", c.check_replicas_every},
      {"collective_timeout", c.collective_timeout_seconds},
      {"stall_warning", c.stall_warning_seconds},
  };
  return json.dump();
}

}  // namespace dptrain
