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
  // fast_unwind_on_malloc=0: Open MPI, HDF5 and glibc have no frame pointers, and the fast
  // unwinder stops in their first frame, before the library a leak suppression names. Open MPI
  // unloads its components in MPI_Finalize, so their own frames show as "<unknown module>": the
  // full unwind reaches the library that called them. It makes allocations about twice as slow
  // (tests/CMakeLists.txt's DPTRAIN_TEST_SLOWDOWN allows for it).
  return "abort_on_error=0:exitcode=86:detect_stack_use_after_return=1:check_initialization_order=1"
         ":strict_init_order=1:fast_unwind_on_malloc=0";
}

const char* __ubsan_default_options() { return "print_stacktrace=1:exitcode=86"; }

// Quiet about the suppressions used: the CLI tests hold dptrain's stderr to the lines it prints.
// use_tls=0: GCC 12's LeakSanitizer misreads glibc 2.36's dynamic TLS blocks, and its tracer
// crashed ("Tracer caught signal 11", at "DTLS ... 0x000000000c2b-0x000400001d2d") in every
// single-process dptrain run. Not scanning thread-local storage can only report more leaks,
// never hide one: dptrain keeps no heap pointer in thread_local storage; HDF5 does (below).
const char* __lsan_default_options() { return "print_suppressions=0:use_tls=0"; }

// Memory that libraries keep until exit, by design, not dptrain's. Open MPI: its libraries' and
// its components' state (the components, unloaded by then, are matched by the library that
// loaded them), and libevent's, which Open MPI runs. HDF5: each thread's error stack and API
// context (H5E__get_stack, H5CX_push, H5TS_cancel_count_inc), held in thread-local storage.
const char* __lsan_default_suppressions() {
  return "leak:H5E__get_stack\n"
         "leak:H5CX_push\n"
         "leak:H5TS_cancel_count_inc\n"
         "leak:libmpi.so\n"
         "leak:libopen-pal.so\n"
         "leak:libopen-rte.so\n"
         "leak:libevent\n";
}

const char* __tsan_default_options() { return "exitcode=86:second_deadlock_stack=1"; }

// Open MPI's own locking, inside its components and uninstrumented.
const char* __tsan_default_suppressions() {
  // The TCP transport takes its module's and a peer's locks in one order when it adds peers
  // (mca_btl_tcp_add_procs) and in the other when it removes them (mca_btl_tcp_proc_remove),
  // both in MPI_Init and MPI_Finalize on the caller's thread.
  return "deadlock:mca_btl_tcp_add_procs\n";
}

}  // extern "C"
