// The sanitizers' options and suppressions for every executable of a DPTRAIN_SANITIZE build
// (README, "Sanitizers and fuzzing"). The runtimes call these weak hooks before main, so ranks
// started by mpirun, on a cluster's hosts or by Slurm behave the same without any environment;
// *SAN_OPTIONS set by hand still apply on top.
//
// Suppressions are for third-party internals only, each with the library frame it matches and
// why. dptrain's own code is never suppressed: a finding there is fixed.

extern "C" {

const char* __asan_default_options() {
  // The test scripts check exit codes: a finding must fail them, after the whole report.
  return "abort_on_error=0:exitcode=86:detect_stack_use_after_return=1:check_initialization_order=1"
         ":strict_init_order=1";
}

const char* __ubsan_default_options() { return "print_stacktrace=1:exitcode=86"; }

const char* __lsan_default_suppressions() { return ""; }

const char* __tsan_default_options() { return "exitcode=86:second_deadlock_stack=1"; }

const char* __tsan_default_suppressions() { return ""; }

}  // extern "C"
