#include "dptrain/train/config.hpp"

#include <nlohmann/json.hpp>

namespace dptrain {

ModelSpec model_spec(const TrainConfig& config) {
  if (config.model == ModelKind::cnn) return {ModelKind::cnn, {}, config.data_shape, {}};
  if (config.model == ModelKind::layers)
    return {ModelKind::layers, {}, config.data_shape, config.layers};
  return {ModelKind::mlp, config.hidden.value_or(kDefaultHidden), config.data_shape, {}};
}

const char* lr_schedule_name(ew::ScheduleKind kind) {
  return kind == ew::ScheduleKind::cosine ? "cosine"
         : kind == ew::ScheduleKind::step ? "step"
                                          : "constant";
}

const char* lr_scaling_name(LrScaling scaling) {
  return scaling == LrScaling::linear ? "linear" : scaling == LrScaling::sqrt ? "sqrt" : "none";
}

std::string config_to_json(const TrainConfig& c) {
  const nlohmann::json json = {
      {"data", c.data_path},
      {"data_shape", data_shape_record(c.data_shape)},
      {"epochs", c.epochs},
      {"batch_size", c.batch_size},
      {"micro_batch", micro_batch_rows(c)},
      {"exact", c.exact},
      {"model", describe_model(model_spec(c))},
      {"optimizer", optimizer_name(c.optimizer.kind)},
      {"lr", c.optimizer.lr},
      {"beta1", c.optimizer.beta1},
      {"beta2", c.optimizer.beta2},
      {"eps", c.optimizer.eps},
      {"weight_decay", c.optimizer.weight_decay},
      {"momentum", c.optimizer.momentum.value_or(0.0f)},
      {"lr_schedule", lr_schedule_name(c.lr.kind)},
      {"lr_decay_epochs", c.lr.decay_epochs ? nlohmann::json(*c.lr.decay_epochs) : nullptr},
      {"lr_milestones", c.lr.milestones ? nlohmann::json(*c.lr.milestones) : nullptr},
      {"lr_decay_factor", c.lr.decay_factor.value_or(0.1)},
      {"warmup_epochs", c.lr.warmup_epochs ? nlohmann::json(*c.lr.warmup_epochs) : nullptr},
      {"warmup_steps", c.lr.warmup_steps ? nlohmann::json(*c.lr.warmup_steps) : nullptr},
      {"lr_scaling", lr_scaling_name(c.lr.scaling)},
      {"lr_base_batch", c.lr.base_batch},
      {"clip_norm", c.clip_norm ? nlohmann::json(*c.clip_norm) : nullptr},
      {"shard_optimizer", c.shard_optimizer},
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
  // Paths are bytes, not always UTF-8, which JSON must be: such bytes are recorded as U+FFFD
  // (a throwing dump() ended a run at its first checkpoint).
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace dptrain
