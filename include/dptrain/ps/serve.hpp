#pragma once

#include "dptrain/comm/world.hpp"
#include "dptrain/ps/ps_plan.hpp"
#include "dptrain/train/config.hpp"

namespace dptrain {

// A server rank's whole run, collective with the workers' Trainer::create and training: the
// same set-up agreements (servers read the data file's header only), the same model check, the
// initial parameters from rank 0 (or the checkpoint, with --resume), then serving every epoch
// until the workers are done. With stop_signals, it joins the workers' stop agreements (the
// workers' Trainer::enable_stop_signals) and throws StopRequested with them.
void serve_parameters(const TrainConfig& config, const World& world, const PsPlan& plan,
                      bool stop_signals = false);

}  // namespace dptrain
