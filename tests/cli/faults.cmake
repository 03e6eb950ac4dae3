# Checkpoints, resume and faults (README, "Running it like production"), under mpirun with 2 ranks.
# Included from tests/cli/CMakeLists.txt, which defines dptrain_expect, files, good_data and the rest.

set(checkpoints ${CMAKE_CURRENT_BINARY_DIR}/checkpoints)
add_test(NAME cli_make_checkpoints
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/make_checkpoints.sh ${checkpoints} ${dptrain}
                 ${files}/good.h5 ${DPTRAIN_MPIEXEC})
set_tests_properties(cli_make_checkpoints PROPERTIES FIXTURES_SETUP checkpoints
                     FIXTURES_REQUIRED cli_files LABELS cli ENVIRONMENT "${DPTRAIN_TEST_ENV}")

# dptrain_resume(NAME STATUS REGEX CASE-DIRECTORY [MPIRUN-AND-ARGS...] [TRAIN TRAIN-ARGS...]):
# train --resume there.
function(dptrain_resume name status regex case)
  cmake_parse_arguments(PARSE_ARGV 4 arg "" "" "TRAIN")
  dptrain_expect(${name} ${status} "${regex}" ${arg_UNPARSED_ARGUMENTS} ${dptrain} train
                 ${good_data} --epochs 2 --batch-size 8 --checkpoint-dir ${checkpoints}/${case}
                 --resume ${arg_TRAIN})
  set_property(TEST ${name} APPEND PROPERTY FIXTURES_REQUIRED checkpoints)
endfunction()
dptrain_resume(cli_resume_without_checkpoint 2 "--resume: no checkpoint in '.*/absent'$" absent
               ${mpirun2})
dptrain_expect(cli_resume_refuses_another_seed 2 "it was trained with --seed 0, this run has --seed 5$"
               ${mpirun2} ${dptrain} train ${good_data} --epochs 2 --batch-size 8 --seed 5
               --checkpoint-dir ${checkpoints}/seed --resume)
set_property(TEST cli_resume_refuses_another_seed APPEND PROPERTY FIXTURES_REQUIRED checkpoints)
dptrain_resume(cli_resume_refuses_another_optimizer 2
               "refusing to resume from '.*': it was trained with --optimizer adam, this run has --optimizer sgd$"
               optimizer ${mpirun2} TRAIN --optimizer sgd --momentum 0.9)
dptrain_expect(cli_resume_refuses_another_model 2
               "checkpoint '.*' holds model mlp 784-64-10, but this run builds mlp 784-32-10$"
               ${mpirun2} ${dptrain} train ${good_data} --epochs 2 --batch-size 8 --hidden 32
               --checkpoint-dir ${checkpoints}/model --resume)
set_property(TEST cli_resume_refuses_another_model APPEND PROPERTY FIXTURES_REQUIRED checkpoints)
dptrain_expect(cli_resume_refuses_the_cnn_from_an_mlp 2
               "checkpoint '.*' holds model mlp 784-64-10, but this run builds cnn 28x28x1-c5x32-p2-c5x64-p2-128-10$"
               ${mpirun2} ${dptrain} train ${good_data} --epochs 2 --batch-size 8 --model cnn
               --checkpoint-dir ${checkpoints}/cnn --resume)
set_property(TEST cli_resume_refuses_the_cnn_from_an_mlp APPEND PROPERTY FIXTURES_REQUIRED checkpoints)
dptrain_resume(cli_resume_refuses_another_world_size 2
               "it was written by 2 ranks with a global batch of 16, this run has 1 ranks and a global batch of 8 .--allow-resize"
               world ${DPTRAIN_MPIEXEC} -np 1)
dptrain_expect(cli_resume_with_allow_resize 0 "^resumed from .*/resize/ckpt-"
               ${DPTRAIN_MPIEXEC} -np 1 ${dptrain} train ${good_data} --epochs 2 --batch-size 8
               --checkpoint-dir ${checkpoints}/resize --resume --allow-resize)
set_property(TEST cli_resume_with_allow_resize APPEND PROPERTY FIXTURES_REQUIRED checkpoints)
# --exact continues bit for bit only from an exact checkpoint of the same micro-batch; anything
# else is refused, or with --allow-resize resumed with a warning that says what changes.
dptrain_resume(cli_resume_refuses_exact_from_float_sums 2
               "refusing to resume from '.*': it was trained without --exact and this run has it: .* .--allow-resize resumes anyway.$"
               to-exact ${mpirun2} TRAIN --exact)
dptrain_resume(cli_resume_refuses_float_sums_from_exact 2
               "refusing to resume from '.*': it was trained with --exact and this run is not: from here on the gradients are summed in float, whose rounding depends on the number of ranks .--allow-resize resumes anyway.$"
               exact-to-float ${mpirun2})
dptrain_resume(cli_resume_refuses_exact_with_another_micro_batch 2
               "it was trained with --exact and --micro-batch 8, this run has --micro-batch 4: .* .--allow-resize"
               exact-micro ${mpirun2} TRAIN --exact --micro-batch 4)
dptrain_resume(cli_resume_float_sums_from_exact_with_allow_resize 0
               "^dptrain: warning: --allow-resize: resuming although it was trained with --exact and this run is not"
               exact-resized ${mpirun2} TRAIN --allow-resize)
dptrain_resume(cli_resume_refuses_a_corrupt_checkpoint 2
               "no checkpoint in '.*/corrupt-only'. passed over checkpoint '.*ckpt-0000000099.h5' is not a readable HDF5 file"
               corrupt-only ${mpirun2})
dptrain_resume(cli_resume_passes_over_a_corrupt_newest 0
               "--resume passes over checkpoint '.*ckpt-0000099999.h5' is not a readable HDF5 file"
               corrupt-newest ${mpirun2})

dptrain_expect(cli_checkpoints_are_hdf5 0 "DATASPACE  SIMPLE .* 64, 784 .* 64, 784 "
               sh -c "h5dump -H -d /model/layer0/weight ${checkpoints}/good/$(ls ${checkpoints}/good | tail -n 1)")
set_property(TEST cli_checkpoints_are_hdf5 APPEND PROPERTY FIXTURES_REQUIRED checkpoints)
dptrain_expect(cli_keeps_the_newest_checkpoints 0 "^2 checkpoints kept$"
               sh -c "ls ${checkpoints}/good | grep -c '^ckpt-' | sed 's/$/ checkpoints kept/'")
set_property(TEST cli_keeps_the_newest_checkpoints APPEND PROPERTY FIXTURES_REQUIRED checkpoints)
dptrain_expect(cli_eval 0 "^     9 .*[0-9]+$"
               sh -c "${dptrain} eval --data ${files}/good.h5 --checkpoint $(ls -d ${checkpoints}/good/ckpt-* | tail -n 1)")
set_property(TEST cli_eval APPEND PROPERTY FIXTURES_REQUIRED checkpoints)
bad_option(cli_eval_of_a_missing_checkpoint "checkpoint '.*/absent.h5' does not exist"
           eval --data ${files}/good.h5 --checkpoint ${files}/absent.h5)

# Resume is exact: 2 epochs straight = 1 epoch + resume + 1 epoch, bit for bit.
add_test(NAME cli_resume_is_bitwise_exact
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/resume_equivalence.sh
                 ${CMAKE_CURRENT_BINARY_DIR}/resume_equivalence --
                 ${mpirun2} ${dptrain} train ${good_data} --batch-size 8 --progress off)
set_tests_properties(cli_resume_is_bitwise_exact PROPERTIES FIXTURES_REQUIRED cli_files
                     LABELS cli TIMEOUT 120 ENVIRONMENT "${DPTRAIN_TEST_ENV}")
# Resume continues the learning-rate schedule exactly: from step 20 of a 48-step warm-up (1.5
# epochs of 32 steps), with clipping.
add_test(NAME cli_resume_mid_warmup_is_bitwise_exact
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/resume_equivalence.sh
                 ${CMAKE_CURRENT_BINARY_DIR}/resume_mid_warmup --from-step 20 --
                 ${mpirun2} ${dptrain} train ${good_data} --batch-size 8 --progress off
                 --lr-scaling linear --warmup-epochs 1.5 --lr-schedule cosine --clip-norm 0.5)
# ZeRO-1: one checkpoint in the usual format, from the shards; with --exact, resumed by 4 ranks
# of half the rows (the same global batch and micro-batch) it ends as the 2 ranks straight do.
add_test(NAME cli_sharded_resume_on_another_world_size_is_bitwise_exact
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/resume_equivalence.sh
                 ${CMAKE_CURRENT_BINARY_DIR}/sharded_resume --
                 ${mpirun2} ${dptrain} train ${good_data} --batch-size 8 --micro-batch 4 --exact
                 --shard-optimizer --progress off
                 --resume-with ${DPTRAIN_MPIEXEC} -np 4 ${dptrain} train ${good_data}
                 --batch-size 4 --exact --shard-optimizer --progress off)
set_tests_properties(cli_resume_mid_warmup_is_bitwise_exact
                     cli_sharded_resume_on_another_world_size_is_bitwise_exact
                     PROPERTIES FIXTURES_REQUIRED cli_files LABELS cli TIMEOUT 120
                     ENVIRONMENT "${DPTRAIN_TEST_ENV}")
# The same for the CNN, whose checkpoint then evaluates as the CNN.
add_test(NAME cli_resume_is_bitwise_exact_cnn
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/resume_equivalence.sh
                 ${CMAKE_CURRENT_BINARY_DIR}/resume_equivalence_cnn --
                 ${mpirun2} ${dptrain} train ${good_data} --batch-size 8 --progress off --model cnn)
set_tests_properties(cli_resume_is_bitwise_exact_cnn PROPERTIES FIXTURES_REQUIRED cli_files
                     FIXTURES_SETUP cnn_checkpoint LABELS cli TIMEOUT 120
                     ENVIRONMENT "${DPTRAIN_TEST_ENV}")
dptrain_expect(cli_eval_of_a_cnn 0 "model cnn 28x28x1-c5x32-p2-c5x64-p2-128-10, epoch"
               sh -c "${dptrain} eval --data ${files}/good.h5 --checkpoint $(ls -d ${CMAKE_CURRENT_BINARY_DIR}/resume_equivalence_cnn/*/ckpt-* | tail -n 1)")
set_property(TEST cli_eval_of_a_cnn APPEND PROPERTY FIXTURES_REQUIRED cnn_checkpoint)
# On a file `prepare` marked as Fashion-MNIST, eval names its classes.
dptrain_expect(cli_eval_names_the_fashion_classes 0
               "^Fashion-MNIST labels: 0 T-shirt/top, 1 Trouser, .*, 9 Ankle boot$"
               sh -c "${dptrain} eval --data ${DPTRAIN_FASHION_MNIST_H5} --checkpoint $(ls -d ${CMAKE_CURRENT_BINARY_DIR}/resume_equivalence_cnn/*/ckpt-* | tail -n 1)")
set_property(TEST cli_eval_names_the_fashion_classes APPEND PROPERTY FIXTURES_REQUIRED cnn_checkpoint)

# SIGTERM and SIGUSR1 to one rank: every rank stops at a step boundary, a checkpoint is written,
# status 3; resuming ends bitwise equal to an uninterrupted run.
foreach(signal TERM USR1)
  add_test(NAME cli_stop_on_sig${signal}_then_resume
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/stop_and_resume.sh ${signal}
                   ${CMAKE_CURRENT_BINARY_DIR}/stop_${signal} --
                   ${mpirun2} ${dptrain} train --data ${DPTRAIN_MNIST_H5} --epochs 3
                   --batch-size 16 --progress off)
  set_tests_properties(cli_stop_on_sig${signal}_then_resume PROPERTIES LABELS cli TIMEOUT 300
                       ENVIRONMENT "${DPTRAIN_TEST_ENV}")
endforeach()

# A rank killed, or stopped, mid-training.
dptrain_expect(cli_rank_killed 137 "process rank 1 .*exited on signal 9"
               ${signal_rank} KILL 1 - ${mpirun2} ${dptrain} train --data ${DPTRAIN_MNIST_H5}
               --epochs 100 --progress off)
# Rank 0 waits for the stopped rank in the gradients' allreduce mostly, but in an epoch-end
# collective when the stop lands during rank 1's evaluation (seen once in CI: "a minimum over the
# ranks"): any of a training rank's waits, named, with the rank that did not arrive.
dptrain_expect(cli_rank_stopped 1
               "^dptrain: error: rank 0: (the ring allreduce of the gradients|a (sum|minimum|maximum) over the ranks( .metrics.)?) .wait #[0-9]+. waited 3 s .--collective-timeout.. ranks that did not arrive: [^ ]+ .rank 1.$"
               ${signal_rank} STOP 1 - ${mpirun2} ${dptrain} train --data ${DPTRAIN_MNIST_H5}
               --epochs 100 --progress off --collective-timeout 3)

# Label threads (tests/sanitizers/run.sh thread, under ThreadSanitizer): the watchdog in a real
# 2-rank run. The stop-and-resume tests pass under TSan too (cli_stop_on_sigTERM_then_resume,
# 8 minutes: README, "Sanitizers"), too long for every CI run.
set_property(TEST cli_rank_stopped APPEND PROPERTY LABELS threads)

# Non-finite gradients (a NaN injected into rank 1's gradient at step 7) and diverging replicas
# (rank 1's parameters nudged after step 7), through the DPTRAIN_FAULT test hook.
function(with_fault test fault)
  set_property(TEST ${test} APPEND PROPERTY ENVIRONMENT "DPTRAIN_FAULT=${fault}")
endfunction()
set(fault_run ${mpirun2} -x DPTRAIN_FAULT ${dptrain} train ${good_data} --epochs 1 --batch-size 8)
dptrain_expect(cli_nonfinite_aborts 1
               "^dptrain: error: step 7: non-finite gradient .NaN or infinity. in layer0/weight .--on-nonfinite abort.$"
               ${fault_run})
with_fault(cli_nonfinite_aborts nonfinite-gradient:1:7)
dptrain_expect(cli_nonfinite_skips 0 "1 step.s. skipped for non-finite gradients"
               ${fault_run} --on-nonfinite skip)
with_fault(cli_nonfinite_skips nonfinite-gradient:1:7)
# With --exact the agreed maxima of the scales carry the NaN (as an infinity) to every rank.
dptrain_expect(cli_exact_nonfinite_aborts 1
               "^dptrain: error: step 7: non-finite gradient .NaN or infinity. in layer0/weight .--on-nonfinite abort.$"
               ${fault_run} --exact --micro-batch 4)
with_fault(cli_exact_nonfinite_aborts nonfinite-gradient:1:7)
dptrain_expect(cli_exact_nonfinite_skips 0 "1 step.s. skipped for non-finite gradients"
               ${fault_run} --exact --on-nonfinite skip)
with_fault(cli_exact_nonfinite_skips nonfinite-gradient:1:7)
dptrain_expect(cli_replica_check_names_the_diverged_rank 1
               "^dptrain: error: step 10: replica check failed .--check-replicas-every.: the parameters of rank.s. 1 differ from rank 0's$"
               ${fault_run} --check-replicas-every 5)
with_fault(cli_replica_check_names_the_diverged_rank diverge:1:7)
dptrain_expect(cli_replica_check_passes 0 "^epoch 1/1" ${fault_run} --check-replicas-every 5)
bad_option(cli_malformed_fault "DPTRAIN_FAULT='sometimes' is not KIND:RANK:STEP" train ${good_data})
with_fault(cli_malformed_fault sometimes)

# In parameter-server mode the servers check the gradients they receive.
set(ps_fault_run ${DPTRAIN_MPIEXEC} -np 4 -x DPTRAIN_FAULT ${dptrain} train ${good_data}
                 --epochs 1 --batch-size 8 --mode ps)
dptrain_expect(cli_ps_nonfinite_aborts 1
               "^dptrain: error: rank 0: parameter server: step 7: non-finite gradient .NaN or infinity. in layer0/weight .--on-nonfinite abort.$"
               ${ps_fault_run})
with_fault(cli_ps_nonfinite_aborts nonfinite-gradient:2:7)
dptrain_expect(cli_ps_nonfinite_skips 0
               "^dptrain: warning: rank 0 .a parameter server.: step 7: non-finite gradient .* step skipped"
               ${ps_fault_run} --on-nonfinite skip)
with_fault(cli_ps_nonfinite_skips nonfinite-gradient:2:7)

# With --exact every rank of the job knows from the maxima: all stop, or all skip, alike.
dptrain_expect(cli_ps_exact_nonfinite_aborts 1
               "^dptrain: error: step 7: non-finite gradient .NaN or infinity. in layer0/weight .--on-nonfinite abort.$"
               ${ps_fault_run} --exact)
with_fault(cli_ps_exact_nonfinite_aborts nonfinite-gradient:2:7)
dptrain_expect(cli_ps_exact_nonfinite_skips 0
               "^dptrain: warning: step 7: non-finite gradient .* step skipped"
               ${ps_fault_run} --exact --on-nonfinite skip)
with_fault(cli_ps_exact_nonfinite_skips nonfinite-gradient:2:7)

# The launchers.
dptrain_expect(cli_launch_local 0 "^epoch 1/1 " ${PROJECT_SOURCE_DIR}/launch/dptrain-local
               ${good_data} --epochs 1 --batch-size 8 --device cpu)
set_property(TEST cli_launch_local APPEND PROPERTY ENVIRONMENT "DPTRAIN=${CMAKE_BINARY_DIR}/dptrain")
dptrain_expect(cli_launch_local_oversubscribed 0
               "^dptrain-local: mpirun -np 64 .*--oversubscribe --bind-to none .* --device cpu$"
               ${PROJECT_SOURCE_DIR}/launch/dptrain-local --np 64 --dry-run ${good_data} --device cpu)
dptrain_expect(cli_launch_local_binds 0 "^dptrain-local: mpirun -np 1 .*--map-by slot:PE=[0-9]+ --bind-to core "
               ${PROJECT_SOURCE_DIR}/launch/dptrain-local --np 1 --dry-run ${good_data})
dptrain_expect(cli_launch_single 0 "^epoch 1/1 " ${PROJECT_SOURCE_DIR}/launch/dptrain-single
               ${good_data} --epochs 1 --batch-size 8)
foreach(test cli_launch_local_oversubscribed cli_launch_local_binds cli_launch_single)
  set_property(TEST ${test} APPEND PROPERTY ENVIRONMENT "DPTRAIN=${CMAKE_BINARY_DIR}/dptrain")
endforeach()

# Checkpoints, resume and stop signals with parameter servers (3 workers, 1 server): the servers
# take part in every agreement, rank 0 gathers their ranges into the same checkpoint format.
set(mpirun4 ${DPTRAIN_MPIEXEC} -np 4)
add_test(NAME cli_ps_resume_is_bitwise_exact
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/resume_equivalence.sh
                 ${CMAKE_CURRENT_BINARY_DIR}/ps_resume_equivalence --
                 ${mpirun4} ${dptrain} train ${good_data} --batch-size 8 --progress off --mode ps)
add_test(NAME cli_ps_stop_on_sigTERM_to_a_worker_then_resume
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/stop_and_resume.sh TERM
                 ${CMAKE_CURRENT_BINARY_DIR}/ps_stop --
                 ${mpirun4} ${dptrain} train --data ${DPTRAIN_MNIST_H5} --epochs 3
                 --batch-size 16 --progress off --mode ps)
add_test(NAME cli_ps_async_stop_on_sigUSR1_to_the_server_then_resume
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/stop_and_resume.sh USR1
                 ${CMAKE_CURRENT_BINARY_DIR}/ps_async_stop --
                 ${mpirun4} ${dptrain} train --data ${DPTRAIN_MNIST_H5} --epochs 3
                 --progress off --mode ps --ps-async --ps-staleness 2)
set_tests_properties(cli_ps_resume_is_bitwise_exact cli_ps_stop_on_sigTERM_to_a_worker_then_resume
                     cli_ps_async_stop_on_sigUSR1_to_the_server_then_resume PROPERTIES
                     LABELS cli TIMEOUT 300 FIXTURES_REQUIRED cli_files
                     ENVIRONMENT "${DPTRAIN_TEST_ENV}")
set_property(TEST cli_ps_async_stop_on_sigUSR1_to_the_server_then_resume APPEND PROPERTY
             ENVIRONMENT "VICTIM=0;EXACT=0")
bad_option(cli_ps_async_checkpoint_every "--checkpoint-every needs aligned steps"
           train ${good_data} --mode ps --ps-async --checkpoint-dir ${files}/ck --checkpoint-every 5)
