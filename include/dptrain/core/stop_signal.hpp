#pragma once

namespace dptrain {

// SIGTERM and SIGUSR1 (a Slurm time limit, a preemption, `scancel --signal`) ask training to
// stop at the next step boundary instead of ending the process: the handler only records the
// signal; the training loop agrees on it across ranks, writes a checkpoint and exits with
// kExitStopped, which the sbatch scripts turn into a requeue.
void install_stop_handlers();
// The signal received, or 0.
int stop_signal();
// For tests: forget a received signal.
void clear_stop_signal();

}  // namespace dptrain
